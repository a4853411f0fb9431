"""Unit tests of matching.models: every validation rule, no database.

The values at the edges (exactly the limit, one past it) are the ones the
DB CHECKs use; a separate DB test binds the constants to the migrations.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from matching import models as m

TALENT_ID = uuid.UUID("11111111-1111-4111-8111-111111111111")
JOB_ID = uuid.UUID("22222222-2222-4222-8222-222222222222")
COMPANY_ID = uuid.UUID("33333333-3333-4333-8333-333333333333")


def talent(**overrides: Any) -> m.TalentProfile:
    data: dict[str, Any] = {
        "id": str(TALENT_ID),
        "headline": "Backend engineer",
        "experience_level": "senior",
        "years_experience": 7,
    }
    data.update(overrides)
    return m.TalentProfile(**data)


def job(**overrides: Any) -> m.JobPosting:
    data: dict[str, Any] = {
        "id": str(JOB_ID),
        "company_id": str(COMPANY_ID),
        "title": "Senior backend engineer",
        "experience_level": "senior",
        "remote_policy": "remote",
        "company_industry": "software",
        "company_size": "small",
    }
    data.update(overrides)
    return m.JobPosting(**data)


def skill(**overrides: Any) -> m.SkillData:
    data: dict[str, Any] = {"name": "Python", "category": "software", "proficiency": 4}
    data.update(overrides)
    return m.SkillData(**data)


def result(**overrides: Any) -> m.MatchResult:
    data: dict[str, Any] = {
        "talent_id": TALENT_ID,
        "job_id": JOB_ID,
        "score": 80,
        "source": "ml",
        "model_version": "v1",
    }
    data.update(overrides)
    return m.MatchResult(**data)


def error_fields(exc: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return {".".join(str(p) for p in err["loc"]) for err in exc.value.errors()}


# --------------------------------------------------------------------------
# Enums
# --------------------------------------------------------------------------


def test_pg_enums_cover_every_enum_with_postgres_values() -> None:
    assert set(m.PG_ENUMS) == {
        "public.experience_level",
        "public.remote_preference",
        "public.remote_policy",
        "public.job_status",
        "public.company_size",
        "public.industry",
        "public.work_style",
        "public.member_role",
        "public.match_source",
        "public.feedback_type",
        "public.feedback_actor",
    }
    assert [e.value for e in m.ExperienceLevel] == ["junior", "mid", "senior", "lead", "principal"]
    assert [e.value for e in m.CompanySize] == ["micro", "small", "medium", "large", "enterprise"]
    assert [e.value for e in m.RemotePreference] == ["onsite", "hybrid", "remote", "flexible"]
    assert [e.value for e in m.RemotePolicy] == ["onsite", "hybrid", "remote"]
    assert [e.value for e in m.MatchSource] == ["ml", "fallback"]
    assert len(m.Industry) == m.PREFERRED_INDUSTRIES_MAX
    assert len(m.CompanySize) == m.PREFERRED_COMPANY_SIZES_MAX
    assert len(m.WorkStyle) == m.WORK_STYLES_MAX


def test_ordinal_enums_rank_in_declaration_order() -> None:
    assert m.ExperienceLevel.JUNIOR.rank == 0
    assert m.ExperienceLevel.PRINCIPAL.rank == 4
    assert m.CompanySize.MICRO.rank < m.CompanySize.ENTERPRISE.rank


def test_feedback_actor_follows_type() -> None:
    assert set(m.FEEDBACK_ACTOR) == set(m.FeedbackType)
    talent_side = {t for t in m.FeedbackType if t.actor is m.FeedbackActor.TALENT}
    assert talent_side == {"applied", "interested", "dismissed"}


def test_enum_values_are_strings() -> None:
    assert m.Industry.FINTECH == "fintech"
    assert talent(experience_level="lead").experience_level is m.ExperienceLevel.LEAD
    with pytest.raises(ValidationError):
        talent(experience_level="Lead")


# --------------------------------------------------------------------------
# Sanitisation
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  Backend engineer  ", "Backend engineer"),
        ("Backend\x00 engineer", "Backend engineer"),
        ("Back\x1bend", "Backend"),
        ("Backend\nengineer", "Backend engineer"),
        ("Backend\r\n\tengineer", "Backend engineer"),
        ("Backend\u2028engineer", "Backend engineer"),
        ("Back\x7fend\x85x", "Backend x"),
        ("Back\x9bend", "Backend"),
        ("Café ✓ 東京", "Café ✓ 東京"),
    ],
)
def test_single_line_fields_lose_control_characters(raw: str, clean: str) -> None:
    assert talent(headline=raw).headline == clean
    assert job(title=raw).title == clean
    assert talent(city=raw).city == clean
    assert skill(name=raw).name == clean


def test_multi_line_fields_keep_newlines_and_tabs_only() -> None:
    raw = "  First line\r\nSecond\tline\rThird\x00 line\x07\u2029Fourth\x1b[31m  \n"
    expected = "First line\nSecond\tline\nThird line\nFourth[31m"
    assert talent(bio=raw).bio == expected
    assert job(description=raw).description == expected


def test_printable_text_holds_no_character_the_single_line_cleaner_drops() -> None:
    # clean_single_line skips its per-character scan when str.isprintable():
    # that is only the same result if no printable character is one it drops
    dropped = [
        hex(cp)
        for cp in range(0x110000)
        if chr(cp).isprintable() and not chr(cp).isspace() and m._is_control(chr(cp))
    ]
    assert dropped == []
    assert m.clean_single_line("Senior\x00 data\u2028engineer\t ") == "Senior data engineer"


def test_printable_text_has_no_whitespace_but_the_space() -> None:
    # clean_single_line returns printable text without double, leading or
    # trailing spaces as it is: only right if the regex's \s could match
    # nothing else in it
    others = [
        hex(cp)
        for cp in range(0x110000)
        if chr(cp).isprintable() and chr(cp) != " " and re.fullmatch(r"\s", chr(cp))
    ]
    assert others == []
    for text in ("a  b", " a", "a ", "a b"):
        assert m.clean_single_line(text) == " ".join(text.split())


def test_clean_helpers_are_exported() -> None:
    assert m.clean_single_line(" a \n b ") == "a b"
    assert m.clean_multi_line(" a \n b ") == "a \n b"


@pytest.mark.parametrize("raw", ["", "   ", "\x00\x01", "\n\t"])
def test_single_line_field_empty_after_sanitising_is_rejected(raw: str) -> None:
    with pytest.raises(ValidationError):
        talent(headline=raw)
    with pytest.raises(ValidationError):
        job(title=raw)


def test_non_string_is_not_coerced() -> None:
    with pytest.raises(ValidationError):
        talent(headline=123)


# --------------------------------------------------------------------------
# Text limits at the boundary, measured after sanitising
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "field", "limit"),
    [
        (talent, "headline", m.HEADLINE_MAX),
        (talent, "bio", m.BIO_MAX),
        (talent, "city", m.CITY_MAX),
        (job, "title", m.TITLE_MAX),
        (job, "description", m.DESCRIPTION_MAX),
        (job, "city", m.CITY_MAX),
        (skill, "name", m.SKILL_NAME_MAX),
    ],
)
def test_text_limit_boundary(build: Any, field: str, limit: int) -> None:
    assert len(getattr(build(**{field: "x" * limit}), field)) == limit
    # padding and control characters do not count: they are not stored
    assert len(getattr(build(**{field: f"  {'x' * limit}\x00  "}), field)) == limit
    with pytest.raises(ValidationError) as exc:
        build(**{field: "x" * (limit + 1)})
    assert field in error_fields(exc)


def test_limits_are_the_database_values() -> None:
    assert (m.HEADLINE_MAX, m.BIO_MAX, m.TITLE_MAX, m.DESCRIPTION_MAX) == (200, 5000, 200, 10000)
    assert m.TEXT_LIMITS["talents.headline"] == m.HEADLINE_MAX
    assert m.ARRAY_LIMITS["talents.preferred_industries"] == 16
    assert m.NUMBER_RANGES["talents.years_experience"] == (0, 60)


# --------------------------------------------------------------------------
# Skills
# --------------------------------------------------------------------------


def test_skill_defaults() -> None:
    s = m.SkillData(name="SQL", category="data")
    assert (s.skill_id, s.proficiency, s.years, s.required, s.min_proficiency) == (
        None,
        None,
        0,
        True,
        3,
    )


@pytest.mark.parametrize("value", [1, 5])
def test_proficiency_range_ok(value: int) -> None:
    assert skill(proficiency=value, min_proficiency=value).proficiency == value


@pytest.mark.parametrize("field", ["proficiency", "min_proficiency"])
@pytest.mark.parametrize("value", [0, 6, 2.5])
def test_proficiency_range_bad(field: str, value: float) -> None:
    with pytest.raises(ValidationError):
        skill(**{field: value})


def test_skill_years_boundary() -> None:
    assert skill(years=60).years == 60
    assert skill(years=0).years == 0
    for bad in (60.1, -0.5):
        with pytest.raises(ValidationError):
            skill(years=bad)


@pytest.mark.parametrize("value", [0, -1, 2**31])
def test_skill_id_must_be_a_positive_int4(value: int) -> None:
    with pytest.raises(ValidationError):
        skill(skill_id=value)


def test_skill_category_format() -> None:
    assert skill(category=" Data_Science ").category == "data_science"
    assert skill(category="a" * m.SKILL_CATEGORY_MAX).category == "a" * 50
    for bad in ("", "9lives", "data-science", "a" * 51, "da ta", "dätä"):
        with pytest.raises(ValidationError):
            skill(category=bad)


def test_talent_skills_need_proficiency() -> None:
    with pytest.raises(ValidationError, match="proficiency"):
        talent(skills=[skill(proficiency=None)])
    # a job skill does not
    assert job(skills=[skill(proficiency=None)]).skills[0].proficiency is None


def test_skills_count_limit() -> None:
    many = [skill(name=f"skill {i}", skill_id=i + 1) for i in range(m.SKILLS_MAX)]
    assert len(talent(skills=many).skills) == m.SKILLS_MAX
    extra = skill(name="one too many", skill_id=m.SKILLS_MAX + 1)
    with pytest.raises(ValidationError):
        talent(skills=[*many, extra])
    with pytest.raises(ValidationError):
        job(skills=[*many, extra])


def test_duplicate_skills_rejected() -> None:
    with pytest.raises(ValidationError, match="skill_id"):
        talent(skills=[skill(skill_id=1, name="Python"), skill(skill_id=1, name="Go")])
    with pytest.raises(ValidationError, match="name"):
        job(skills=[skill(name="Python"), skill(name="python")])


# --------------------------------------------------------------------------
# Talent profile
# --------------------------------------------------------------------------


def test_talent_minimal_and_defaults() -> None:
    t = talent()
    assert t.id == TALENT_ID
    assert t.bio == ""
    assert t.remote_preference is m.RemotePreference.FLEXIBLE
    assert t.open_to_work is True
    assert t.preferred_industries == t.work_styles == t.skills == []


@pytest.mark.parametrize("value", ["not-a-uuid", "", 42, "11111111-1111-4111-8111-11111111111"])
def test_uuid_parsing(value: Any) -> None:
    with pytest.raises(ValidationError):
        talent(id=value)


def test_uuid_accepts_canonical_and_uuid_objects() -> None:
    assert talent(id=TALENT_ID).id == TALENT_ID
    assert talent(id=str(TALENT_ID).upper()).id == TALENT_ID


def test_years_experience_boundary() -> None:
    assert talent(years_experience=0).years_experience == 0
    assert talent(years_experience=60).years_experience == 60
    for bad in (-0.1, 60.5, float("nan"), float("inf")):
        with pytest.raises(ValidationError):
            talent(years_experience=bad)


def test_country_code() -> None:
    assert talent(country_code="DE").country_code == "DE"
    assert talent(country_code=" de ").country_code == "DE"
    for bad in ("DEU", "D", "", "D1", "ß", "ÄÖ"):
        with pytest.raises(ValidationError):
            talent(country_code=bad)


def test_coordinates_ranges_and_pairing() -> None:
    t = talent(latitude=90, longitude=-180)
    assert (t.latitude, t.longitude) == (90, -180)
    assert talent(latitude=-90, longitude=180).longitude == 180
    for lat, lon in [(90.0001, 0), (-90.0001, 0), (0, 180.0001), (0, -180.0001)]:
        with pytest.raises(ValidationError):
            talent(latitude=lat, longitude=lon)
    with pytest.raises(ValidationError, match="together"):
        talent(latitude=52.5)
    with pytest.raises(ValidationError, match="together"):
        talent(longitude=13.4)


def test_enum_arrays_limits_and_duplicates() -> None:
    everything = talent(
        preferred_industries=list(m.Industry),
        preferred_company_sizes=list(m.CompanySize),
        work_styles=list(m.WorkStyle),
    )
    assert len(everything.preferred_industries) == m.PREFERRED_INDUSTRIES_MAX
    # repeats are dropped, order kept
    t = talent(work_styles=["async", "autonomous", "async"])
    assert t.work_styles == [m.WorkStyle.ASYNC, m.WorkStyle.AUTONOMOUS]
    with pytest.raises(ValidationError):
        talent(preferred_industries=[*m.Industry, "software"])
    with pytest.raises(ValidationError):
        talent(preferred_company_sizes=[*m.CompanySize, "micro"])
    with pytest.raises(ValidationError):
        talent(work_styles=[*m.WorkStyle, "async"])
    with pytest.raises(ValidationError):
        talent(work_styles=["night_owl"])


# --------------------------------------------------------------------------
# Salary (same rules for talents and jobs)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("build", [talent, job])
def test_salary_rules(build: Any) -> None:
    ok = build(salary_min=50_000, salary_max=50_000, salary_currency="EUR")
    assert (ok.salary_min, ok.salary_max, ok.salary_currency) == (50_000, 50_000, "EUR")
    assert build(salary_min=0, salary_max=m.SALARY_MAX, salary_currency="usd").salary_currency == (
        "USD"
    )
    assert build(salary_max=10, salary_currency="GBP").salary_min is None
    # a currency alone is allowed, as in the DB
    assert build(salary_currency="CHF").salary_currency == "CHF"
    with pytest.raises(ValidationError, match="salary_min must not exceed"):
        build(salary_min=60_000, salary_max=50_000, salary_currency="EUR")
    with pytest.raises(ValidationError, match="currency is required"):
        build(salary_min=50_000)
    with pytest.raises(ValidationError, match="currency is required"):
        build(salary_max=50_000)
    for bad in (-1, m.SALARY_MAX + 1, 1.5):
        with pytest.raises(ValidationError):
            build(salary_min=bad, salary_currency="EUR")
    for currency in ("EU", "EURO", "E1R", "€€€", ""):
        with pytest.raises(ValidationError):
            build(salary_min=1, salary_currency=currency)


# --------------------------------------------------------------------------
# Time zones: the same rule as SQL matching.is_valid_timezone
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tz",
    [
        "Asia/Kathmandu",
        "+05:45",
        "+14:00",
        "-12:00",
        "+00:00",
        "-03:30",
        "UTC",
        "Europe/Berlin",
        "America/Argentina/Buenos_Aires",
        "Etc/GMT+5",
    ],
)
def test_timezone_ok(tz: str) -> None:
    assert m.is_valid_timezone(tz)
    assert talent(timezone=tz).timezone == tz
    assert job(timezone=f" {tz} ").timezone == tz


@pytest.mark.parametrize(
    "tz",
    [
        "+14:30",
        "-13:00",
        "-12:01",
        "+14:01",
        "Mars/Olympus",
        "+5:45",
        "05:45",
        "+05:60",
        "+0545",
        "EST",
        "GMT",
        "Japan",
        "europe/berlin",
        "America/Argentina",
        "../etc/passwd",
        "Europe/Berlin\x00",
        "",
    ],
)
def test_timezone_bad(tz: str) -> None:
    assert not m.is_valid_timezone(tz)
    with pytest.raises(ValidationError):
        talent(timezone=tz)
    with pytest.raises(ValidationError):
        job(timezone=tz)


def test_timezone_check_is_exact_but_fields_strip_padding() -> None:
    assert not m.is_valid_timezone("Europe/Berlin\n")
    assert talent(timezone="Europe/Berlin\n").timezone == "Europe/Berlin"


# --------------------------------------------------------------------------
# Job posting
# --------------------------------------------------------------------------


def test_job_defaults() -> None:
    j = job()
    assert j.status is m.JobStatus.DRAFT
    assert j.min_years == 0
    assert j.max_years is None
    assert j.company_work_styles == j.company_values == j.skills == []


def test_job_years_order() -> None:
    assert job(min_years=3, max_years=3).max_years == 3
    assert job(min_years=60, max_years=60).min_years == 60
    with pytest.raises(ValidationError, match="min_years"):
        job(min_years=5, max_years=4)
    with pytest.raises(ValidationError):
        job(min_years=61)
    with pytest.raises(ValidationError):
        job(max_years=60.5)


@pytest.mark.parametrize("policy", ["onsite", "hybrid"])
def test_onsite_and_hybrid_jobs_need_a_location(policy: str) -> None:
    with pytest.raises(ValidationError, match="latitude"):
        job(remote_policy=policy)
    with pytest.raises(ValidationError, match="latitude"):
        job(remote_policy=policy, city="Berlin", country_code="DE")
    located = job(remote_policy=policy, city="Berlin", latitude=52.52, longitude=13.405)
    assert located.remote_policy == policy


def test_remote_job_needs_no_location() -> None:
    assert job(remote_policy="remote").latitude is None


def test_job_default_policy_is_onsite_so_location_is_needed() -> None:
    data = job().model_dump()
    del data["remote_policy"]
    with pytest.raises(ValidationError):
        m.JobPosting(**data)


def test_company_culture_fields() -> None:
    j = job(
        company_work_styles=list(m.WorkStyle),
        company_values=[" Ownership ", "Craft\x00"] + [f"value {i}" for i in range(8)],
    )
    assert j.company_values[:2] == ["Ownership", "Craft"]
    assert job(company_values=["x" * m.COMPANY_VALUE_MAX]).company_values == ["x" * 40]
    with pytest.raises(ValidationError):
        job(company_values=["x" * (m.COMPANY_VALUE_MAX + 1)])
    with pytest.raises(ValidationError):
        job(company_values=[""])
    with pytest.raises(ValidationError):
        job(company_values=[f"value {i}" for i in range(m.COMPANY_VALUES_MAX + 1)])
    with pytest.raises(ValidationError):
        job(company_industry="space")
    with pytest.raises(ValidationError):
        job(company_size="huge")


def test_company_model() -> None:
    c = m.Company(
        id=COMPANY_ID,
        name=" Acme\n GmbH ",
        industry="software",
        size="medium",
        website="https://acme.example/jobs",
    )
    assert c.name == "Acme GmbH"
    for bad in ("ftp://acme.example", "https://", "https://acme example", "HTTPS://acme.example"):
        with pytest.raises(ValidationError):
            m.Company(id=COMPANY_ID, name="Acme", industry="software", size="medium", website=bad)
    assert m.Company(
        id=COMPANY_ID,
        name="Acme",
        industry="software",
        size="medium",
        website="http://" + "a" * m.WEBSITE_REST_MAX,
    ).website
    with pytest.raises(ValidationError):
        m.Company(
            id=COMPANY_ID,
            name="Acme",
            industry="software",
            size="medium",
            website="http://" + "a" * (m.WEBSITE_REST_MAX + 1),
        )


# --------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------


def test_talent_to_jobs_request() -> None:
    r = m.TalentToJobsRequest(talent_id=str(TALENT_ID))
    assert (r.talent_id, r.limit, r.min_score) == (TALENT_ID, 20, 0)
    assert m.TalentToJobsRequest(talent_id=TALENT_ID, limit=1, min_score=100).limit == 1
    assert m.TalentToJobsRequest(talent_id=TALENT_ID, limit=100).limit == 100
    for bad in ({"limit": 0}, {"limit": 101}, {"min_score": -1}, {"min_score": 100.5}):
        with pytest.raises(ValidationError):
            m.TalentToJobsRequest(talent_id=TALENT_ID, **bad)
    with pytest.raises(ValidationError):
        m.TalentToJobsRequest(talent_id="nope")


def test_job_to_talents_request_sort() -> None:
    assert m.JobToTalentsRequest(job_id=JOB_ID).sort == "score"
    for key in ("score", "skills", "experience", "location", "salary", "semantic"):
        assert m.JobToTalentsRequest(job_id=JOB_ID, sort=key).sort == key
    for bad in ("culture", "name", "Score", ""):
        with pytest.raises(ValidationError):
            m.JobToTalentsRequest(job_id=JOB_ID, sort=bad)


# --------------------------------------------------------------------------
# Results and explanations
# --------------------------------------------------------------------------


def test_explanation_defaults_parse_the_db_default() -> None:
    e = m.MatchExplanation.model_validate({})
    assert (e.sub_scores, e.top_factors, e.base_value) == ({}, [], 0.0)


def test_explanation_sub_scores_and_factors() -> None:
    factor = {"feature": "skill_coverage", "contribution": 12.5, "sentence": "Has 4 of 5 skills."}
    e = m.MatchExplanation(
        sub_scores={c.value: 50 for c in m.ScoreCategory},
        top_factors=[factor, factor | {"contribution": -3}, factor],
        base_value=41.2,
    )
    assert set(e.sub_scores) == set(m.ScoreCategory)
    assert e.top_factors[1].contribution == -3
    with pytest.raises(ValidationError):
        m.MatchExplanation(top_factors=[factor] * (m.TOP_FACTORS_MAX + 1))
    with pytest.raises(ValidationError):
        m.MatchExplanation(sub_scores={"vibes": 50})
    for bad in (-0.1, 100.1, float("nan")):
        with pytest.raises(ValidationError):
            m.MatchExplanation(sub_scores={"skills": bad})
    with pytest.raises(ValidationError):
        m.MatchExplanation(top_factors=[factor | {"contribution": float("inf")}])
    with pytest.raises(ValidationError):
        m.MatchExplanation(top_factors=[factor | {"sentence": ""}])
    with pytest.raises(ValidationError):
        m.MatchExplanation(top_factors=[factor | {"extra": 1}])


def test_match_result_model_version_iff_ml() -> None:
    assert result().model_version == "v1"
    assert result(source="fallback", model_version=None).model_version is None
    with pytest.raises(ValidationError, match="model_version"):
        result(source="ml", model_version=None)
    with pytest.raises(ValidationError, match="model_version"):
        result(source="fallback", model_version="v1")
    for bad in ("", "-v1", "v 1", "v" * 65):
        with pytest.raises(ValidationError):
            result(model_version=bad)
    assert result(model_version="v" * 64).model_version == "v" * 64


def test_match_result_score_and_time() -> None:
    assert result(score=0).score == 0
    assert result(score=100).score == 100
    for bad in (-0.01, 100.01, float("nan")):
        with pytest.raises(ValidationError):
            result(score=bad)
    assert result().computed_at.tzinfo is not None
    when = datetime(2026, 1, 1, tzinfo=UTC)
    assert result(computed_at=when).computed_at == when
    with pytest.raises(ValidationError):
        result(computed_at=datetime(2026, 1, 1))  # naive: ambiguous


def test_match_response_summary_and_round_trip() -> None:
    other_job = uuid.UUID("44444444-4444-4444-8444-444444444444")
    third_job = uuid.UUID("55555555-5555-4555-8555-555555555555")
    response = m.MatchResponse(
        entity_id=TALENT_ID,
        matches=[
            result(model_version="v2"),
            result(job_id=other_job, model_version="v1"),
            result(job_id=third_job, source="fallback", model_version=None),
        ],
    )
    assert response.source_counts == {m.MatchSource.ML: 2, m.MatchSource.FALLBACK: 1}
    assert response.model_versions == ["v1", "v2"]
    dumped = response.model_dump(mode="json")
    assert dumped["source_counts"] == {"ml": 2, "fallback": 1}
    assert m.MatchResponse.model_validate(dumped) == response
    assert m.MatchResponse.model_validate_json(response.model_dump_json()) == response
    # the summary is recomputed, never taken from input
    dumped["source_counts"] = {"ml": 99, "fallback": 0}
    assert m.MatchResponse.model_validate(dumped).source_counts[m.MatchSource.ML] == 2


def test_match_response_rules() -> None:
    empty = m.MatchResponse(entity_id=JOB_ID)
    assert empty.source_counts == {m.MatchSource.ML: 0, m.MatchSource.FALLBACK: 0}
    with pytest.raises(ValidationError, match="entity_id"):
        m.MatchResponse(entity_id=COMPANY_ID, matches=[result()])
    with pytest.raises(ValidationError, match="more than once"):
        m.MatchResponse(entity_id=TALENT_ID, matches=[result(), result(score=10)])


def test_match_feedback_actor_must_fit_type() -> None:
    ok = m.MatchFeedback(
        talent_id=TALENT_ID, job_id=JOB_ID, feedback_type="applied", actor="talent"
    )
    assert ok.actor is m.FeedbackActor.TALENT
    with pytest.raises(ValidationError, match="company"):
        m.MatchFeedback(
            talent_id=TALENT_ID, job_id=JOB_ID, feedback_type="shortlisted", actor="talent"
        )


# --------------------------------------------------------------------------
# Model configuration
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (m.TalentToJobsRequest, {"talent_id": TALENT_ID}),
        (m.JobToTalentsRequest, {"job_id": JOB_ID}),
        (m.SkillData, {"name": "Go", "category": "software"}),
    ],
)
def test_models_are_frozen_and_forbid_extra(model: type[BaseModel], data: dict[str, Any]) -> None:
    instance = model(**data)
    with pytest.raises(ValidationError):
        setattr(instance, next(iter(data)), data[next(iter(data))])
    with pytest.raises(ValidationError):
        model(**data, unexpected=1)


def test_frozen_entities_and_extra_keys() -> None:
    t = talent()
    with pytest.raises(ValidationError):
        t.headline = "changed"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        talent(headlnie="typo")
    with pytest.raises(ValidationError):
        job(status="published")


def test_round_trip_through_json() -> None:
    t = talent(
        bio="Line one\nLine two",
        city="Kathmandu",
        country_code="np",
        latitude=27.7,
        longitude=85.3,
        timezone="+05:45",
        salary_min=1,
        salary_max=2,
        salary_currency="npr",
        preferred_industries=["software"],
        skills=[skill(skill_id=7)],
    )
    assert m.TalentProfile.model_validate_json(t.model_dump_json()) == t
    j = job(skills=[skill(proficiency=None, required=False, min_proficiency=2)])
    assert m.JobPosting.model_validate_json(j.model_dump_json()) == j

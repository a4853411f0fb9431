"""Every CHECK, enum and uniqueness rule rejects a bad row with a clear error.

The catalog test at the bottom makes sure no CHECK constraint in the exposed
or internal schemas goes untested: adding one without a case here fails.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from psycopg import errors, sql

pytestmark = pytest.mark.integration

MODEL_TEXT = "tree\nversion=v4\n"


def insert(conn: psycopg.Connection, table: str, row: dict[str, Any]) -> None:
    query = sql.SQL("insert into {} ({}) values ({})").format(
        sql.SQL(table),
        sql.SQL(", ").join(map(sql.Identifier, row)),
        sql.SQL(", ").join(sql.Placeholder() * len(row)),
    )
    conn.execute(query, list(row.values()))


def company(**over: Any) -> dict[str, Any]:
    return {"name": "Acme", "industry": "software", "size": "small"} | over


def talent(**over: Any) -> dict[str, Any]:
    return {"headline": "Backend engineer", "experience_level": "mid", "years_experience": 3} | over


def job(company_id: uuid.UUID, **over: Any) -> dict[str, Any]:
    base = {
        "company_id": company_id,
        "title": "Backend engineer",
        "experience_level": "mid",
        "remote_policy": "remote",
    }
    return base | over


@pytest.fixture
def ids(conn: psycopg.Connection) -> dict[str, Any]:
    """One valid row of each parent table, inside the test's transaction."""
    c = conn.execute(
        "insert into public.companies (name, industry, size) values ('Acme', 'software', 'small')"
        " returning id"
    ).fetchone()[0]
    t = conn.execute(
        "insert into public.talents (headline, experience_level, years_experience)"
        " values ('Engineer', 'mid', 3) returning id"
    ).fetchone()[0]
    j = conn.execute(
        "insert into public.jobs (company_id, title, experience_level, remote_policy)"
        " values (%s, 'Engineer', 'mid', 'remote') returning id",
        (c,),
    ).fetchone()[0]
    s = conn.execute(
        "insert into public.skills (name, category) values ('Python', 'software') returning id"
    ).fetchone()[0]
    conn.execute(
        "insert into matching.model_versions (version, model_text, feature_names,"
        " training_samples) values ('v-test', %s, '{a}', 10)",
        (MODEL_TEXT,),
    )
    return {"company": c, "talent": t, "job": j, "skill": s}


def emb(n: int = 384) -> str:
    return "[" + ",".join(["0.1"] * n) + "]"


# (case id, table, row builder taking ids, expected constraint name)
CHECK_CASES: list[tuple[str, str, Any, str]] = [
    (
        "skill name empty",
        "public.skills",
        lambda i: {"name": "", "category": "data"},
        "skills_name_length",
    ),
    (
        "skill name newline",
        "public.skills",
        lambda i: {"name": "a\nb", "category": "data"},
        "skills_name_single_line",
    ),
    (
        "skill category format",
        "public.skills",
        lambda i: {"name": "SQL", "category": "Data Science"},
        "skills_category_format",
    ),
    (
        "company name long",
        "public.companies",
        lambda i: company(name="x" * 201),
        "companies_name_length",
    ),
    (
        "company name control",
        "public.companies",
        lambda i: company(name="A\tB"),
        "companies_name_single_line",
    ),
    (
        "company description long",
        "public.companies",
        lambda i: company(description="x" * 5001),
        "companies_description_length",
    ),
    (
        "company work styles count",
        "public.companies",
        lambda i: company(work_styles=["async"] * 9),
        "companies_work_styles_count",
    ),
    (
        "company values count",
        "public.companies",
        lambda i: company(values=[f"v{n}" for n in range(11)]),
        "companies_values_items",
    ),
    (
        "company value long",
        "public.companies",
        lambda i: company(values=["x" * 41]),
        "companies_values_items",
    ),
    (
        "company website",
        "public.companies",
        lambda i: company(website="ftp://acme"),
        "companies_website_format",
    ),
    ("headline empty", "public.talents", lambda i: talent(headline=""), "talents_headline_length"),
    (
        "headline long",
        "public.talents",
        lambda i: talent(headline="x" * 201),
        "talents_headline_length",
    ),
    (
        "headline newline",
        "public.talents",
        lambda i: talent(headline="a\nb"),
        "talents_headline_single_line",
    ),
    ("bio long", "public.talents", lambda i: talent(bio="x" * 5001), "talents_bio_length"),
    (
        "years negative",
        "public.talents",
        lambda i: talent(years_experience=-1),
        "talents_years_range",
    ),
    (
        "years too many",
        "public.talents",
        lambda i: talent(years_experience=61),
        "talents_years_range",
    ),
    ("city empty", "public.talents", lambda i: talent(city=""), "talents_city_length"),
    (
        "country code",
        "public.talents",
        lambda i: talent(country_code="USA"),
        "talents_country_code_format",
    ),
    (
        "latitude",
        "public.talents",
        lambda i: talent(latitude=90.5, longitude=0),
        "talents_latitude_range",
    ),
    (
        "longitude",
        "public.talents",
        lambda i: talent(latitude=0, longitude=-180.5),
        "talents_longitude_range",
    ),
    ("lat without lon", "public.talents", lambda i: talent(latitude=10), "talents_location_pair"),
    (
        "timezone unknown",
        "public.talents",
        lambda i: talent(timezone="Mars/Olympus"),
        "talents_timezone_valid",
    ),
    (
        "timezone junk",
        "public.talents",
        lambda i: talent(timezone="not a zone"),
        "talents_timezone_valid",
    ),
    (
        "offset above +14",
        "public.talents",
        lambda i: talent(timezone="+14:30"),
        "talents_timezone_valid",
    ),
    (
        "offset below -12",
        "public.talents",
        lambda i: talent(timezone="-13:00"),
        "talents_timezone_valid",
    ),
    (
        "salary min negative",
        "public.talents",
        lambda i: talent(salary_min=-1, salary_max=10, salary_currency="EUR"),
        "talents_salary_min_range",
    ),
    (
        "salary max huge",
        "public.talents",
        lambda i: talent(salary_min=1, salary_max=1_000_000_001, salary_currency="EUR"),
        "talents_salary_max_range",
    ),
    (
        "salary order",
        "public.talents",
        lambda i: talent(salary_min=100, salary_max=50, salary_currency="EUR"),
        "talents_salary_order",
    ),
    (
        "salary currency missing",
        "public.talents",
        lambda i: talent(salary_min=100),
        "talents_salary_currency_required",
    ),
    (
        "salary currency format",
        "public.talents",
        lambda i: talent(salary_min=1, salary_currency="eur"),
        "talents_salary_currency_format",
    ),
    (
        "preferred industries count",
        "public.talents",
        lambda i: talent(preferred_industries=["software"] * 17),
        "talents_preferred_industries_count",
    ),
    (
        "preferred sizes count",
        "public.talents",
        lambda i: talent(preferred_company_sizes=["small"] * 6),
        "talents_preferred_company_sizes_count",
    ),
    (
        "talent work styles count",
        "public.talents",
        lambda i: talent(work_styles=["async"] * 9),
        "talents_work_styles_count",
    ),
    ("title empty", "public.jobs", lambda i: job(i["company"], title=""), "jobs_title_length"),
    (
        "title newline",
        "public.jobs",
        lambda i: job(i["company"], title="a\rb"),
        "jobs_title_single_line",
    ),
    (
        "description long",
        "public.jobs",
        lambda i: job(i["company"], description="x" * 10001),
        "jobs_description_length",
    ),
    (
        "min years",
        "public.jobs",
        lambda i: job(i["company"], min_years=-0.5),
        "jobs_min_years_range",
    ),
    ("max years", "public.jobs", lambda i: job(i["company"], max_years=70), "jobs_max_years_range"),
    (
        "years order",
        "public.jobs",
        lambda i: job(i["company"], min_years=5, max_years=3),
        "jobs_years_order",
    ),
    ("job city", "public.jobs", lambda i: job(i["company"], city="x" * 101), "jobs_city_length"),
    (
        "job country",
        "public.jobs",
        lambda i: job(i["company"], country_code="de"),
        "jobs_country_code_format",
    ),
    (
        "job latitude",
        "public.jobs",
        lambda i: job(i["company"], latitude=-91, longitude=0),
        "jobs_latitude_range",
    ),
    (
        "job longitude",
        "public.jobs",
        lambda i: job(i["company"], latitude=0, longitude=181),
        "jobs_longitude_range",
    ),
    (
        "job location pair",
        "public.jobs",
        lambda i: job(i["company"], longitude=10),
        "jobs_location_pair",
    ),
    (
        "onsite needs location",
        "public.jobs",
        lambda i: job(i["company"], remote_policy="onsite"),
        "jobs_location_required",
    ),
    (
        "job timezone",
        "public.jobs",
        lambda i: job(i["company"], timezone="Europe/Atlantis"),
        "jobs_timezone_valid",
    ),
    (
        "job salary min",
        "public.jobs",
        lambda i: job(i["company"], salary_min=-1, salary_currency="USD"),
        "jobs_salary_min_range",
    ),
    (
        "job salary max",
        "public.jobs",
        lambda i: job(i["company"], salary_max=2_000_000_000, salary_currency="USD"),
        "jobs_salary_max_range",
    ),
    (
        "job salary order",
        "public.jobs",
        lambda i: job(i["company"], salary_min=9, salary_max=8, salary_currency="USD"),
        "jobs_salary_order",
    ),
    (
        "job salary currency missing",
        "public.jobs",
        lambda i: job(i["company"], salary_max=9),
        "jobs_salary_currency_required",
    ),
    (
        "job salary currency format",
        "public.jobs",
        lambda i: job(i["company"], salary_max=9, salary_currency="US"),
        "jobs_salary_currency_format",
    ),
    (
        "proficiency 0",
        "public.talent_skills",
        lambda i: {"talent_id": i["talent"], "skill_id": i["skill"], "proficiency": 0},
        "talent_skills_proficiency_range",
    ),
    (
        "proficiency 6",
        "public.talent_skills",
        lambda i: {"talent_id": i["talent"], "skill_id": i["skill"], "proficiency": 6},
        "talent_skills_proficiency_range",
    ),
    (
        "skill years",
        "public.talent_skills",
        lambda i: {"talent_id": i["talent"], "skill_id": i["skill"], "proficiency": 3, "years": 61},
        "talent_skills_years_range",
    ),
    (
        "min proficiency",
        "public.job_skills",
        lambda i: {"job_id": i["job"], "skill_id": i["skill"], "min_proficiency": 6},
        "job_skills_min_proficiency_range",
    ),
    (
        "score above 100",
        "public.matches",
        lambda i: {
            "talent_id": i["talent"],
            "job_id": i["job"],
            "score": 100.5,
            "source": "fallback",
        },
        "matches_score_range",
    ),
    (
        "score negative",
        "public.matches",
        lambda i: {"talent_id": i["talent"], "job_id": i["job"], "score": -1, "source": "fallback"},
        "matches_score_range",
    ),
    (
        "ml without model",
        "public.matches",
        lambda i: {"talent_id": i["talent"], "job_id": i["job"], "score": 50, "source": "ml"},
        "matches_source_model_version",
    ),
    (
        "fallback with model",
        "public.matches",
        lambda i: {
            "talent_id": i["talent"],
            "job_id": i["job"],
            "score": 50,
            "source": "fallback",
            "model_version": "v-test",
        },
        "matches_source_model_version",
    ),
    (
        "explanation array",
        "public.matches",
        lambda i: {
            "talent_id": i["talent"],
            "job_id": i["job"],
            "score": 50,
            "source": "fallback",
            "explanation": psycopg.types.json.Jsonb([]),
        },
        "matches_explanation_object",
    ),
    (
        "features too many",
        "public.matches",
        lambda i: {
            "talent_id": i["talent"],
            "job_id": i["job"],
            "score": 50,
            "source": "fallback",
            "features": [0.0] * 501,
        },
        "matches_features_count",
    ),
    (
        "contributions too many",
        "public.matches",
        lambda i: {
            "talent_id": i["talent"],
            "job_id": i["job"],
            "score": 50,
            "source": "fallback",
            "contributions": [0.0] * 501,
        },
        "matches_contributions_count",
    ),
    (
        "similarity above 1",
        "public.matches",
        lambda i: {
            "talent_id": i["talent"],
            "job_id": i["job"],
            "score": 50,
            "source": "fallback",
            "similarity": 1.5,
        },
        "matches_similarity_range",
    ),
    (
        "feedback actor",
        "public.match_feedback",
        lambda i: {
            "talent_id": i["talent"],
            "job_id": i["job"],
            "feedback_type": "applied",
            "actor": "company",
        },
        "match_feedback_actor_matches_type",
    ),
    (
        "company feedback by talent",
        "public.match_feedback",
        lambda i: {
            "talent_id": i["talent"],
            "job_id": i["job"],
            "feedback_type": "shortlisted",
            "actor": "talent",
        },
        "match_feedback_actor_matches_type",
    ),
    (
        "feedback score",
        "public.match_feedback",
        lambda i: {
            "talent_id": i["talent"],
            "job_id": i["job"],
            "feedback_type": "applied",
            "actor": "talent",
            "score": 101,
        },
        "match_feedback_score_range",
    ),
    (
        "feedback features",
        "public.match_feedback",
        lambda i: {
            "talent_id": i["talent"],
            "job_id": i["job"],
            "feedback_type": "applied",
            "actor": "talent",
            "features": [0.0] * 501,
        },
        "match_feedback_features_count",
    ),
    (
        "feedback shown rank",
        "public.match_feedback",
        lambda i: {
            "talent_id": i["talent"],
            "job_id": i["job"],
            "feedback_type": "applied",
            "actor": "talent",
            "shown_rank": 0,
        },
        "match_feedback_shown_rank_range",
    ),
    (
        "served list too long",
        "matching.served_lists",
        lambda i: {"side": "talent", "entity_id": i["talent"], "counterparts": [i["job"]] * 501},
        "served_lists_bounded",
    ),
    (
        "served list first rank",
        "matching.served_lists",
        lambda i: {"side": "talent", "entity_id": i["talent"], "counterparts": [], "first_rank": 0},
        "served_lists_first_rank",
    ),
    (
        "feedback daily cap",
        "matching.api_settings",
        lambda i: {"id": True, "feedback_daily_cap": 0},
        "api_settings_feedback_daily_cap",
    ),
    (
        "talent rematch mark outcome",
        "matching.talent_rematch_marks",
        lambda i: {"talent_id": i["talent"], "source_updated_at": "2026-01-01", "outcome": "x"},
        "talent_rematch_marks_outcome",
    ),
    (
        "job rematch mark outcome",
        "matching.job_rematch_marks",
        lambda i: {"job_id": i["job"], "source_updated_at": "2026-01-01", "outcome": "done"},
        "job_rematch_marks_outcome",
    ),
    (
        "model version format",
        "matching.model_versions",
        lambda i: {
            "version": "bad version!",
            "model_text": MODEL_TEXT,
            "feature_names": ["a"],
            "training_samples": 1,
        },
        "model_versions_version_format",
    ),
    (
        "model text not lightgbm",
        "matching.model_versions",
        lambda i: {
            "version": "v2",
            "model_text": "\x80\x04pickle",
            "feature_names": ["a"],
            "training_samples": 1,
        },
        "model_versions_model_text_format",
    ),
    (
        "model no features",
        "matching.model_versions",
        lambda i: {
            "version": "v2",
            "model_text": MODEL_TEXT,
            "feature_names": [],
            "training_samples": 1,
        },
        "model_versions_feature_names_count",
    ),
    (
        "model samples",
        "matching.model_versions",
        lambda i: {
            "version": "v2",
            "model_text": MODEL_TEXT,
            "feature_names": ["a"],
            "training_samples": -1,
        },
        "model_versions_training_samples_range",
    ),
    (
        "model metrics",
        "matching.model_versions",
        lambda i: {
            "version": "v2",
            "model_text": MODEL_TEXT,
            "feature_names": ["a"],
            "training_samples": 1,
            "metrics": psycopg.types.json.Jsonb(1),
        },
        "model_versions_metrics_object",
    ),
    (
        "model params",
        "matching.model_versions",
        lambda i: {
            "version": "v2",
            "model_text": MODEL_TEXT,
            "feature_names": ["a"],
            "training_samples": 1,
            "params": psycopg.types.json.Jsonb("x"),
        },
        "model_versions_params_object",
    ),
    (
        "model metadata",
        "matching.model_versions",
        lambda i: {
            "version": "v2",
            "model_text": MODEL_TEXT,
            "feature_names": ["a"],
            "training_samples": 1,
            "metadata": psycopg.types.json.Jsonb([1]),
        },
        "model_versions_metadata_object",
    ),
    (
        "active without time",
        "matching.model_versions",
        lambda i: {
            "version": "v2",
            "model_text": MODEL_TEXT,
            "feature_names": ["a"],
            "training_samples": 1,
            "is_active": True,
        },
        "model_versions_active_has_time",
    ),
    (
        "talent embedding sha",
        "matching.talent_embeddings",
        lambda i: {
            "talent_id": i["talent"],
            "embedding": emb(),
            "model_name": "m",
            "text_sha256": "abc",
        },
        "talent_embeddings_text_sha256_format",
    ),
    (
        "talent embedding model",
        "matching.talent_embeddings",
        lambda i: {
            "talent_id": i["talent"],
            "embedding": emb(),
            "model_name": "",
            "text_sha256": "a" * 64,
        },
        "talent_embeddings_model_name_length",
    ),
    (
        "job embedding sha",
        "matching.job_embeddings",
        lambda i: {
            "job_id": i["job"],
            "embedding": emb(),
            "model_name": "m",
            "text_sha256": "A" * 64,
        },
        "job_embeddings_text_sha256_format",
    ),
    (
        "job embedding model",
        "matching.job_embeddings",
        lambda i: {
            "job_id": i["job"],
            "embedding": emb(),
            "model_name": "m" * 201,
            "text_sha256": "a" * 64,
        },
        "job_embeddings_model_name_length",
    ),
    (
        "activation by nobody",
        "matching.model_activations",
        lambda i: {"version": "v-test", "activated_by": ""},
        "model_activations_activated_by_length",
    ),
    (
        "activation reason",
        "matching.model_activations",
        lambda i: {"version": "v-test", "activated_by": "dba", "reason": "whim"},
        "model_activations_reason_values",
    ),
    (
        "null industry",
        "public.talents",
        lambda i: talent(preferred_industries=[None]),
        "talents_preferred_industries_count",
    ),
    (
        "null size",
        "public.talents",
        lambda i: talent(preferred_company_sizes=["small", None]),
        "talents_preferred_company_sizes_count",
    ),
    (
        "null talent style",
        "public.talents",
        lambda i: talent(work_styles=[None]),
        "talents_work_styles_count",
    ),
    (
        "null company style",
        "public.companies",
        lambda i: company(work_styles=[None]),
        "companies_work_styles_count",
    ),
    (
        "null company value",
        "public.companies",
        lambda i: company(values=[None]),
        "companies_values_items",
    ),
    (
        "fx currency",
        "matching.fx_rates",
        lambda i: {"currency": "usd", "units_per_usd": 1.0},
        "fx_rates_currency_format",
    ),
    (
        "fx rate",
        "matching.fx_rates",
        lambda i: {"currency": "XYZ", "units_per_usd": 0.0},
        "fx_rates_units_positive",
    ),
    (
        "run trigger",
        "matching.training_runs",
        lambda i: {"trigger": "cron"},
        "training_runs_trigger_values",
    ),
    (
        "run status",
        "matching.training_runs",
        lambda i: {"trigger": "cli", "status": "done", "finished_at": "2099-01-01T00:00:00Z"},
        "training_runs_status_values",
    ),
    (
        "run reason",
        "matching.training_runs",
        lambda i: {"trigger": "cli", "reason": "x" * 2001},
        "training_runs_reason_length",
    ),
    (
        "run samples",
        "matching.training_runs",
        lambda i: {"trigger": "cli", "sample_count": -1},
        "training_runs_sample_count_range",
    ),
    (
        "run details",
        "matching.training_runs",
        lambda i: {"trigger": "cli", "details": psycopg.types.json.Jsonb([])},
        "training_runs_details_object",
    ),
    (
        "run finished while running",
        "matching.training_runs",
        lambda i: {"trigger": "cli", "finished_at": "2026-01-01T00:00:00Z"},
        "training_runs_finished_iff_done",
    ),
    (
        "run done without finish",
        "matching.training_runs",
        lambda i: {"trigger": "cli", "status": "skipped"},
        "training_runs_finished_iff_done",
    ),
    (
        "run time order",
        "matching.training_runs",
        lambda i: {
            "trigger": "cli",
            "status": "failed",
            "started_at": "2026-01-02T00:00:00Z",
            "finished_at": "2026-01-01T00:00:00Z",
        },
        "training_runs_time_order",
    ),
]


@pytest.mark.parametrize(
    ("table", "build", "constraint"),
    [pytest.param(t, b, c, id=case) for case, t, b, c in CHECK_CASES],
)
def test_check_rejects_bad_row(conn, ids, table, build, constraint):
    with pytest.raises(errors.CheckViolation) as caught, conn.transaction():
        insert(conn, table, build(ids))
    assert caught.value.diag.constraint_name == constraint
    assert constraint in str(caught.value)


def test_every_check_constraint_has_a_case(conn):
    names = {
        row[0]
        for row in conn.execute(
            "select conname from pg_constraint c join pg_namespace n on n.oid = c.connamespace"
            " where c.contype = 'c' and n.nspname in ('public', 'matching')"
        )
    }
    covered = {case[3] for case in CHECK_CASES}
    assert names - covered == set(), "CHECK constraints without a rejecting test case"
    assert covered - names == set(), "test cases name constraints that do not exist"


@pytest.mark.parametrize(
    ("table", "row"),
    [
        ("public.talents", talent(experience_level="guru")),
        ("public.talents", talent(remote_preference="sometimes")),
        ("public.talents", talent(preferred_industries=["crypto"])),
        ("public.companies", company(size="huge")),
    ],
)
def test_enums_reject_unknown_values(conn, table, row):
    with (
        pytest.raises(errors.InvalidTextRepresentation, match="invalid input value for enum"),
        conn.transaction(),
    ):
        insert(conn, table, row)


@pytest.mark.parametrize(
    "tz",
    [
        "UTC",
        "Europe/Berlin",
        "Asia/Kathmandu",
        "America/Argentina/Buenos_Aires",
        "America/St_Johns",
        "Pacific/Kiritimati",
        "+05:45",
        "-12:00",
        "+14:00",
        "+00:00",
    ],
)
def test_valid_timezones_are_accepted(conn, tz):
    with conn.transaction():
        insert(conn, "public.talents", talent(timezone=tz))


def test_text_limits_accept_the_maximum(conn, ids):
    with conn.transaction():
        insert(conn, "public.talents", talent(headline="x" * 200, bio="y" * 5000))
        insert(conn, "public.jobs", job(ids["company"], title="x" * 200, description="y" * 10000))


def test_embedding_dimension_is_enforced(conn, ids):
    with (
        pytest.raises(errors.DataException, match="expected 384 dimensions"),
        conn.transaction(),
    ):
        insert(
            conn,
            "matching.talent_embeddings",
            {
                "talent_id": ids["talent"],
                "embedding": emb(383),
                "model_name": "m",
                "text_sha256": "a" * 64,
            },
        )


def test_skill_names_are_unique_ignoring_case(conn, ids):
    with pytest.raises(errors.UniqueViolation, match="skills_name_key"), conn.transaction():
        insert(conn, "public.skills", {"name": "PYTHON", "category": "software"})


def test_feedback_is_unique_per_pair_and_type(conn, ids):
    row = {
        "talent_id": ids["talent"],
        "job_id": ids["job"],
        "feedback_type": "interested",
        "actor": "talent",
    }
    with conn.transaction():
        insert(conn, "public.match_feedback", row)
    with pytest.raises(errors.UniqueViolation, match="match_feedback_once"), conn.transaction():
        insert(conn, "public.match_feedback", row)


def test_updated_at_is_maintained_by_the_database(conn, ids):
    conn.execute(
        "update public.talents set updated_at = '2000-01-01', headline = 'New' where id = %s",
        (ids["talent"],),
    )
    # now() is the transaction start, so compare with it rather than wall time
    moved = conn.execute(
        "select updated_at = now() from public.talents where id = %s", (ids["talent"],)
    ).fetchone()[0]
    assert moved

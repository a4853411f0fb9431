"""Unit tests of matching.features: hand-computed values for every feature, the batch
API, the registry, and property tests (ranges and symmetry). No database.

Every expected number is worked out by hand in a comment from the feature's
description (and the scaling constants), never read back from the code under test.
"""

from __future__ import annotations

import itertools
import math
import string
import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.features.extraction import (
    CATEGORIES,
    FEATURE_INDEX,
    FEATURE_NAMES,
    FEATURES,
    MAX_DISTANCE_KM,
    N_FEATURES,
    JobFrame,
    SkillMatrix,
    TalentFrame,
    extract_features,
    extract_pair_features,
    feature,
    utc_offset_hours,
)
from matching.models import (
    CompanySize,
    ExperienceLevel,
    Industry,
    JobPosting,
    RemotePolicy,
    RemotePreference,
    SkillData,
    TalentProfile,
    WorkStyle,
)

FX = {"USD": 1.0, "EUR": 0.92, "JPY": 150.0}
R_KM = 6371.0088  # mean Earth radius used by the definitions
KM_PER_DEGREE = R_KM * math.pi / 180.0  # 111.195 km along a great circle

BERLIN = (52.52, 13.405)
AUCKLAND = (-36.8485, 174.7633)
HONOLULU = (21.3069, -157.8583)
SUVA = (-18.1416, 178.4419)

_ids = itertools.count(1)


def _uuid() -> uuid.UUID:
    return uuid.UUID(int=next(_ids))


# --------------------------------------------------------------------------
# Builders.
# --------------------------------------------------------------------------


def tskill(sid: int, proficiency: int = 3, years: float = 0.0) -> SkillData:
    return SkillData(
        skill_id=sid, name=f"skill-{sid}", category="software", proficiency=proficiency, years=years
    )


def jskill(sid: int, min_proficiency: int = 3, required: bool = True) -> SkillData:
    return SkillData(
        skill_id=sid,
        name=f"skill-{sid}",
        category="software",
        min_proficiency=min_proficiency,
        required=required,
    )


def talent(**overrides: Any) -> TalentProfile:
    data: dict[str, Any] = {
        "id": _uuid(),
        "headline": "Engineer",
        "experience_level": "senior",
        "years_experience": 5,
    }
    if "location" in overrides:
        loc = overrides.pop("location")
        if loc is not None:
            data["latitude"], data["longitude"] = loc
    data.update(overrides)
    return TalentProfile(**data)


def job(**overrides: Any) -> JobPosting:
    data: dict[str, Any] = {
        "id": _uuid(),
        "company_id": _uuid(),
        "title": "Engineer",
        "experience_level": "senior",
        "min_years": 3,
        "remote_policy": "remote",
        "company_industry": "software",
        "company_size": "small",
    }
    if "location" in overrides:
        loc = overrides.pop("location")
        if loc is not None:
            data["latitude"], data["longitude"] = loc
    data.update(overrides)
    return JobPosting(**data)


def frames(talents: list[TalentProfile], jobs: list[JobPosting]) -> tuple[TalentFrame, JobFrame]:
    return TalentFrame.from_profiles(talents, FX), JobFrame.from_postings(jobs, FX)


def row(t: TalentProfile, j: JobPosting, semantic: float | None = None) -> dict[str, float]:
    """The float64 feature row of one pair, checked to be the same from both anchors."""
    tf, jf = frames([t], [j])
    sem = None if semantic is None else np.array([semantic])
    by_talent = extract_features(tf, jf, sem, dtype=np.float64)
    by_job = extract_features(jf, tf, sem, dtype=np.float64)
    assert by_talent.shape == (1, N_FEATURES)
    assert by_talent.dtype == np.float64
    np.testing.assert_array_equal(by_talent, by_job)
    assert np.all(np.isfinite(by_talent))
    return dict(zip(FEATURE_NAMES, by_talent[0].tolist(), strict=True))


def check(values: dict[str, float], **expected: float) -> None:
    for name, value in expected.items():
        assert values[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name


# --------------------------------------------------------------------------
# One full row, every feature by hand.
# --------------------------------------------------------------------------


def test_full_row_every_feature_by_hand():
    t = talent(
        experience_level="senior",  # level 2
        years_experience=6,
        location=BERLIN,
        timezone="Europe/Berlin",  # +01:00 in January (reference date 2026-01-15)
        remote_preference="hybrid",
        salary_min=80_000,
        salary_max=100_000,
        salary_currency="EUR",  # 0.92 EUR per USD
        preferred_industries=["software", "fintech"],
        work_styles=["async", "collaborative", "autonomous"],
        skills=[tskill(1, 4, 6), tskill(2, 2, 2), tskill(3, 5, 10), tskill(4, 3, 1)],
    )
    j = job(
        experience_level="lead",  # level 3
        min_years=5,
        max_years=8,
        location=BERLIN,
        timezone="+01:00",
        remote_policy="hybrid",
        salary_min=90_000,
        salary_max=120_000,
        salary_currency="USD",
        company_industry="fintech",
        company_size="medium",
        company_work_styles=["async", "structured"],
        skills=[
            jskill(1, 3, True),
            jskill(2, 4, True),
            jskill(5, 3, True),
            jskill(6, 2, False),
            jskill(3, 3, False),
        ],
    )
    values = row(t, j, semantic=0.42)
    check(
        values,
        # talent {1,2,3,4}, job {1,2,3,5,6}: shared 3, union 4 + 5 - 3 = 6 -> 3/6
        skill_jaccard=0.5,
        # required {1,2,5}, talent has {1,2} -> 2/3
        required_coverage=2 / 3,
        # shared: 1: min(1, 4/3) = 1; 2: 2/4 = 0.5; 3: min(1, 5/3) = 1 -> 2.5/3
        proficiency_alignment=2.5 / 3,
        # required {1,2,5}: min(1, 6/5) = 1, 2/5 = 0.4, missing = 0 -> 1.4/3
        skill_years_score=1.4 / 3,
        missing_required_count=1.0,  # skill 5
        skills_missing=0.0,
        level_match=0.0,  # senior vs lead
        level_distance=1.0,  # |2 - 3|
        years_ratio=1.2,  # 6 / 5
        seniority_alignment=1.0,  # 6 in [5, 8]
        overqualified_penalty=0.0,  # no level above, no years above 8
        underqualified_penalty=0.5,  # max(1 level below / 2, 0 years short)
        distance_km=0.0,  # same point
        location_missing=0.0,
        remote_compatibility=1.0,  # hybrid talent, hybrid job
        commute_fit=1.0,  # exp(-0 / 300)
        timezone_overlap=1.0,  # +1 vs +1
        timezone_missing=0.0,
        # talent USD [80000/0.92, 100000/0.92] = [86956.52, 108695.65], job [90000, 120000]
        # inter = 100000/0.92 - 90000 = 17200/0.92, union = 120000 - 80000/0.92 = 30400/0.92
        salary_iou=17_200 / 30_400,  # 0.565789...
        salary_ratio=(80_000 / 0.92) / 120_000,  # 0.724638...
        salary_missing=0.0,
        industry_match=1.0,  # fintech is preferred
        company_size_match=0.5,  # no size preference
        # {async, collaborative, autonomous} vs {async, structured}: 1 / 4
        work_style_alignment=0.25,
        semantic_similarity=0.42,
        semantic_missing=0.0,
    )
    assert set(values) == set(FEATURE_NAMES)


def test_identical_profiles_give_a_perfect_row():
    skills_t = [tskill(7, 4, 5), tskill(9, 3, 8)]
    skills_j = [jskill(7, 4), jskill(9, 3)]
    t = talent(
        experience_level="mid",
        years_experience=4,
        location=AUCKLAND,
        timezone="Pacific/Auckland",
        remote_preference="onsite",
        salary_min=100_000,
        salary_max=120_000,
        salary_currency="USD",
        preferred_industries=["gaming"],
        preferred_company_sizes=["large"],
        work_styles=["fast_paced", "structured"],
        skills=skills_t,
    )
    j = job(
        experience_level="mid",
        min_years=2,
        max_years=6,
        location=AUCKLAND,
        timezone="Pacific/Auckland",
        remote_policy="onsite",
        salary_min=100_000,
        salary_max=120_000,
        salary_currency="USD",
        company_industry="gaming",
        company_size="large",
        company_work_styles=["structured", "fast_paced"],
        skills=skills_j,
    )
    check(
        row(t, j, semantic=1.0),
        skill_jaccard=1.0,
        required_coverage=1.0,
        proficiency_alignment=1.0,  # 4/4, 3/3
        skill_years_score=1.0,  # min(1, 5/5), min(1, 8/5)
        missing_required_count=0.0,
        skills_missing=0.0,
        level_match=1.0,
        level_distance=0.0,
        years_ratio=2.0,  # 4 / 2
        seniority_alignment=1.0,
        overqualified_penalty=0.0,
        underqualified_penalty=0.0,
        distance_km=0.0,
        location_missing=0.0,
        remote_compatibility=1.0,
        commute_fit=1.0,
        timezone_overlap=1.0,
        timezone_missing=0.0,
        salary_iou=1.0,
        salary_ratio=100_000 / 120_000,
        salary_missing=0.0,
        industry_match=1.0,
        company_size_match=1.0,
        work_style_alignment=1.0,
        semantic_similarity=1.0,
        semantic_missing=0.0,
    )


# --------------------------------------------------------------------------
# Skills.
# --------------------------------------------------------------------------


def test_skills_talent_has_none():
    j = job(skills=[jskill(1), jskill(2), jskill(3, required=False)])
    check(
        row(talent(skills=[]), j),
        skill_jaccard=0.0,  # 0 shared / 3
        required_coverage=0.0,  # 0 of 2 required
        proficiency_alignment=0.0,  # nothing shared
        skill_years_score=0.0,  # missing skills score 0
        missing_required_count=2.0,
        skills_missing=1.0,
    )


def test_skills_job_has_none():
    t = talent(skills=[tskill(1, 5, 10), tskill(2, 5, 10), tskill(3, 5, 10)])
    check(
        row(t, job(skills=[])),
        skill_jaccard=0.0,  # 0 / 3
        required_coverage=1.0,  # none required -> 1
        proficiency_alignment=0.0,
        skill_years_score=0.0,  # no job skills to average over -> 0
        missing_required_count=0.0,
        skills_missing=1.0,
    )


def test_skills_both_have_none():
    check(
        row(talent(skills=[]), job(skills=[])),
        skill_jaccard=0.0,  # empty union -> 0
        required_coverage=1.0,
        proficiency_alignment=0.0,
        skill_years_score=0.0,
        missing_required_count=0.0,
        skills_missing=1.0,
    )


def test_skills_no_overlap():
    t = talent(skills=[tskill(1, 5, 9), tskill(2, 5, 9)])
    j = job(skills=[jskill(3), jskill(4), jskill(5, required=False)])
    check(
        row(t, j),
        skill_jaccard=0.0,  # 0 / 5
        required_coverage=0.0,  # 0 / 2
        proficiency_alignment=0.0,
        skill_years_score=0.0,  # (0 + 0) / 2
        missing_required_count=2.0,
        skills_missing=0.0,
    )


def test_skills_identical_sets():
    t = talent(skills=[tskill(1, 5, 5), tskill(2, 3, 10)])
    j = job(skills=[jskill(1, 5), jskill(2, 3)])
    check(
        row(t, j),
        skill_jaccard=1.0,
        required_coverage=1.0,
        proficiency_alignment=1.0,
        skill_years_score=1.0,
        missing_required_count=0.0,
        skills_missing=0.0,
    )


def test_skills_none_required_uses_every_job_skill_for_years():
    t = talent(skills=[tskill(1, 3, 2.5), tskill(3, 3, 10), tskill(8, 3, 1)])
    j = job(
        skills=[jskill(1, required=False), jskill(2, required=False), jskill(3, required=False)]
    )
    check(
        row(t, j),
        skill_jaccard=2 / 4,  # shared {1,3}, union {1,2,3,8}
        required_coverage=1.0,  # nothing required
        # all job skills: 2.5/5 = 0.5, 0 (missing), min(1, 10/5) = 1 -> 1.5/3
        skill_years_score=0.5,
        missing_required_count=0.0,
    )


def test_skill_years_only_counts_required_skills_when_some_are_required():
    # skill 2 is optional: its 10 years do not count; required {1, 3}: 1/5 and 0 -> 0.2/2
    t = talent(skills=[tskill(1, 3, 1), tskill(2, 3, 10)])
    j = job(skills=[jskill(1), jskill(2, required=False), jskill(3)])
    check(row(t, j), skill_years_score=0.1, required_coverage=0.5, missing_required_count=1.0)


def test_proficiency_alignment_below_and_above_minimum():
    # skill 1: 1 / 4 = 0.25; skill 2: min(1, 5/2) = 1; skill 3 not shared (ignored) -> 1.25 / 2
    t = talent(skills=[tskill(1, 1), tskill(2, 5)])
    j = job(skills=[jskill(1, 4), jskill(2, 2), jskill(3, 5)])
    check(row(t, j), proficiency_alignment=0.625, skill_jaccard=2 / 3)


def test_missing_required_count_is_capped():
    # 60 required skills, the talent has one of them: 59 missing -> capped at 50
    j = job(skills=[jskill(i) for i in range(1, 61)])
    t = talent(skills=[tskill(1, 3, 5)])
    check(
        row(t, j),
        missing_required_count=50.0,
        required_coverage=1 / 60,
        skill_jaccard=1 / 60,
        skill_years_score=1 / 60,
    )


def test_skill_ids_come_from_the_vocabulary_when_missing():
    s = SkillData(name="Rust", category="software", proficiency=4)
    t = talent(skills=[s])
    tf = TalentFrame.from_profiles([t], FX, skill_ids={"rust": 17})
    assert tf.skills.skill_ids.tolist() == [17]
    with pytest.raises(ValueError, match="no id"):
        TalentFrame.from_profiles([t], FX)


def test_skill_matrix_rejects_a_repeated_skill():
    with pytest.raises(ValueError, match="twice"):
        SkillMatrix.from_rows([[(1, 3.0, 1.0), (1, 4.0, 2.0)]])


# --------------------------------------------------------------------------
# Experience.
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tlevel", "jlevel", "match", "distance"),
    [
        ("senior", "senior", 1.0, 0.0),
        ("junior", "principal", 0.0, 4.0),
        ("principal", "junior", 0.0, 4.0),
        ("mid", "lead", 0.0, 2.0),
    ],
)
def test_level_match_and_distance(tlevel, jlevel, match, distance):
    check(
        row(talent(experience_level=tlevel), job(experience_level=jlevel)),
        level_match=match,
        level_distance=distance,
    )


@pytest.mark.parametrize(
    ("years", "min_years", "expected"),
    [
        (2, 4, 0.5),  # 2 / 4
        (6, 4, 1.5),  # 6 / 4
        (12, 4, 3.0),  # 12 / 4 = 3, exactly the cap
        (20, 4, 3.0),  # 20 / 4 = 5 -> capped at 3
        (1, 0, 2.0),  # minimum 0 floored at 0.5 -> 1 / 0.5
        (0, 0, 0.0),  # 0 / 0.5
        (2, 0, 3.0),  # 2 / 0.5 = 4 -> capped at 3
        (0.25, 0.5, 0.5),  # 0.25 / 0.5
    ],
)
def test_years_ratio(years, min_years, expected):
    check(row(talent(years_experience=years), job(min_years=min_years)), years_ratio=expected)


@pytest.mark.parametrize(
    ("years", "min_years", "max_years", "expected"),
    [
        (4, 3, 5, 1.0),  # inside
        (3, 3, 5, 1.0),  # on the lower edge
        (5, 3, 5, 1.0),  # on the upper edge
        (1, 3, 5, 0.6),  # 2 years short: 1 - 0.4
        (7, 3, 5, 0.6),  # 2 years over: 1 - 0.4
        (10, 3, 5, 0.0),  # 5 over -> 0
        (20, 3, 5, 0.0),  # 15 over -> floored at 0
        (13, 3, None, 1.0),  # open-ended: max = 3 + 10 = 13
        (14, 3, None, 0.8),  # 1 over 13
        (15.5, 3, None, 0.5),  # 2.5 over 13
    ],
)
def test_seniority_alignment(years, min_years, max_years, expected):
    j = job(min_years=min_years, max_years=max_years)
    check(row(talent(years_experience=years), j), seniority_alignment=expected)


@pytest.mark.parametrize(
    ("tlevel", "years", "jlevel", "min_years", "max_years", "expected"),
    [
        ("senior", 5, "senior", 3, 8, 0.0),  # same level, within range
        ("lead", 5, "senior", 3, 8, 0.5),  # 1 level above / 2
        ("principal", 5, "mid", 3, 8, 1.0),  # 2 levels above / 2
        ("principal", 5, "junior", 0, 8, 1.0),  # 4 / 2 = 2 -> capped at 1
        ("senior", 11, "senior", 2, 8, 0.3),  # 3 years above 8 / 10
        ("lead", 15, "senior", 2, 8, 0.7),  # max(1/2, 7/10)
        ("senior", 18, "senior", 3, None, 0.5),  # open-ended max 13: 5 / 10
        ("senior", 60, "senior", 0, 5, 1.0),  # 55 / 10 -> capped at 1
        ("junior", 60, "principal", 0, 5, 1.0),  # level below, years far above
    ],
)
def test_overqualified_penalty(tlevel, years, jlevel, min_years, max_years, expected):
    t = talent(experience_level=tlevel, years_experience=years)
    j = job(experience_level=jlevel, min_years=min_years, max_years=max_years)
    check(row(t, j), overqualified_penalty=expected)


@pytest.mark.parametrize(
    ("tlevel", "years", "jlevel", "min_years", "expected"),
    [
        ("senior", 5, "senior", 3, 0.0),
        ("mid", 5, "senior", 3, 0.5),  # 1 level below / 2
        ("mid", 5, "lead", 3, 1.0),  # 2 levels below / 2
        ("junior", 5, "principal", 3, 1.0),  # 4 / 2 -> capped at 1
        ("senior", 1, "senior", 4, 0.75),  # 3 years short / 4
        ("senior", 0, "senior", 10, 1.0),  # 10 / 10
        ("mid", 1, "senior", 4, 0.75),  # max(0.5, 0.75)
        ("mid", 3.5, "senior", 4, 0.5),  # max(0.5, 0.125)
        ("senior", 0, "senior", 0, 0.0),  # nothing asked for
        ("principal", 0, "senior", 2, 1.0),  # level above, but 2/2 years short
    ],
)
def test_underqualified_penalty(tlevel, years, jlevel, min_years, expected):
    t = talent(experience_level=tlevel, years_experience=years)
    j = job(experience_level=jlevel, min_years=min_years)
    check(row(t, j), underqualified_penalty=expected)


def test_underqualified_penalty_with_a_minimum_below_one_year():
    # The code divides the shortfall by max(minimum, 1): 0.5 short of a 0.5 minimum gives
    # 0.5 / 1 = 0.5 (the description's "years short / minimum" would read 0.5 / 0.5 = 1).
    check(
        row(talent(years_experience=0), job(min_years=0.5)),
        underqualified_penalty=0.5,
        years_ratio=0.0,
        seniority_alignment=0.9,  # 0.5 short: 1 - 0.1
    )


# --------------------------------------------------------------------------
# Location: distance, commute, remote compatibility, time zones.
# --------------------------------------------------------------------------


def _great_circle_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Independent check: angle between unit vectors via atan2(|u x v|, u . v)."""

    def unit(lat: float, lon: float) -> np.ndarray:
        la, lo = math.radians(lat), math.radians(lon)
        return np.array([math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la)])

    u, v = unit(*a), unit(*b)
    return R_KM * math.atan2(float(np.linalg.norm(np.cross(u, v))), float(u @ v))


@pytest.mark.parametrize(
    ("a", "b", "expected_km"),
    [
        # one degree of a great circle = 6371.0088 * pi / 180 = 111.195 km
        ((0.0, 0.0), (0.0, 1.0), KM_PER_DEGREE),
        ((10.0, 20.0), (11.0, 20.0), KM_PER_DEGREE),
        # across the antimeridian: 0.2 degrees apart, not 359.8 -> 22.239 km
        ((0.0, 179.9), (0.0, -179.9), 0.2 * KM_PER_DEGREE),
        ((0.0, -180.0), (0.0, 180.0), 0.0),  # the same meridian
        # antipodes: half the circumference
        ((0.0, 0.0), (0.0, 180.0), MAX_DISTANCE_KM),
        ((45.0, 10.0), (-45.0, -170.0), MAX_DISTANCE_KM),
        ((90.0, 0.0), (-90.0, 0.0), MAX_DISTANCE_KM),
    ],
)
def test_distance_km_exact(a, b, expected_km):
    values = row(talent(location=a), job(location=b, remote_policy="onsite"))
    assert values["distance_km"] == pytest.approx(expected_km, rel=1e-9, abs=1e-6)
    assert values["distance_km"] <= MAX_DISTANCE_KM
    assert values["location_missing"] == 0.0


@pytest.mark.parametrize(
    ("a", "b", "approx_km"),
    [
        (AUCKLAND, HONOLULU, 7076.0),  # crosses the antimeridian
        (AUCKLAND, SUVA, 2111.0),
        (BERLIN, AUCKLAND, 17_750.0),
    ],
)
def test_distance_km_real_cities(a, b, approx_km):
    values = row(talent(location=a), job(location=b, remote_policy="hybrid"))
    assert values["distance_km"] == pytest.approx(_great_circle_km(a, b), rel=1e-9)
    assert values["distance_km"] == pytest.approx(approx_km, rel=0.01)


def test_antipodal_distance_in_float32_stays_in_range():
    tf, jf = frames([talent(location=(0.0, 0.0))], [job(location=(0.0, 180.0))])
    value = extract_features(tf, jf)[0, FEATURE_INDEX["distance_km"]]
    assert value == pytest.approx(MAX_DISTANCE_KM, rel=1e-6)  # 20015.11 km


@pytest.mark.parametrize(
    ("policy", "km", "expected"),
    [
        ("onsite", KM_PER_DEGREE, math.exp(-KM_PER_DEGREE / 100.0)),  # exp(-1.112) = 0.3289
        ("hybrid", KM_PER_DEGREE, math.exp(-KM_PER_DEGREE / 300.0)),  # exp(-0.3707) = 0.6903
        ("remote", KM_PER_DEGREE, 1.0),
        ("onsite", 0.0, 1.0),
        ("hybrid", 0.0, 1.0),
        ("onsite", 10 * KM_PER_DEGREE, math.exp(-10 * KM_PER_DEGREE / 100.0)),  # 1.5e-5
        ("hybrid", 10 * KM_PER_DEGREE, math.exp(-10 * KM_PER_DEGREE / 300.0)),  # 0.0246
    ],
)
def test_commute_fit(policy, km, expected):
    degrees = km / KM_PER_DEGREE  # along the equator
    values = row(talent(location=(0.0, 0.0)), job(location=(0.0, degrees), remote_policy=policy))
    assert values["distance_km"] == pytest.approx(km, rel=1e-9, abs=1e-9)
    check(values, commute_fit=expected)


def test_commute_fit_remote_job_far_away_is_one():
    values = row(talent(location=AUCKLAND), job(location=BERLIN, remote_policy="remote"))
    check(values, commute_fit=1.0, location_missing=0.0)
    assert values["distance_km"] > 17_000


@pytest.mark.parametrize("policy", ["onsite", "hybrid"])
def test_talent_location_missing(policy):
    check(
        row(talent(location=None), job(location=BERLIN, remote_policy=policy)),
        distance_km=0.0,
        location_missing=1.0,
        commute_fit=0.5,  # neutral when a location is missing
    )


def test_job_location_missing_remote_job():
    check(
        row(talent(location=BERLIN), job(location=None, remote_policy="remote")),
        distance_km=0.0,
        location_missing=1.0,
        commute_fit=1.0,  # remote wins over "missing"
    )


def test_both_locations_missing():
    # an on-site or hybrid job always has a location, so both-missing means a remote job
    check(
        row(talent(location=None), job(location=None, remote_policy="remote")),
        distance_km=0.0,
        location_missing=1.0,
        commute_fit=1.0,
    )


# Written out by hand from the definition table (not read from REMOTE_COMPATIBILITY).
REMOTE_TABLE = {
    ("onsite", "onsite"): 1.0,
    ("onsite", "hybrid"): 0.7,
    ("onsite", "remote"): 0.4,
    ("hybrid", "onsite"): 0.6,
    ("hybrid", "hybrid"): 1.0,
    ("hybrid", "remote"): 0.8,
    ("remote", "onsite"): 0.1,
    ("remote", "hybrid"): 0.5,
    ("remote", "remote"): 1.0,
    ("flexible", "onsite"): 1.0,
    ("flexible", "hybrid"): 1.0,
    ("flexible", "remote"): 1.0,
}


def test_remote_table_covers_every_combination():
    assert set(REMOTE_TABLE) == {(p.value, q.value) for p in RemotePreference for q in RemotePolicy}


@pytest.mark.parametrize(("preference", "policy"), sorted(REMOTE_TABLE))
def test_remote_compatibility(preference, policy):
    t = talent(remote_preference=preference, location=BERLIN)
    j = job(remote_policy=policy, location=BERLIN)
    check(row(t, j), remote_compatibility=REMOTE_TABLE[(preference, policy)])


@pytest.mark.parametrize(
    ("tz_a", "tz_b", "expected"),
    [
        # +14 vs -12: 26 h apart = 2 h on the clock -> (8 - 2) / 8
        ("Pacific/Kiritimati", "Etc/GMT+12", 0.75),
        ("+14:00", "-12:00", 0.75),
        ("Pacific/Kiritimati", "-12:00", 0.75),
        # +5:30 vs +5:45 -> 0.25 h -> 7.75 / 8
        ("Asia/Kolkata", "Asia/Kathmandu", 7.75 / 8),
        ("+05:30", "+05:45", 7.75 / 8),
        ("+05:30", "Asia/Kolkata", 1.0),
        ("-03:30", "+04:30", 0.0),  # 8 h apart
        ("UTC", "+04:00", 0.5),
        ("UTC", "+08:00", 0.0),
        ("UTC", "+12:00", 0.0),  # 12 h, the far side of the clock
        ("UTC", "-00:30", 7.5 / 8),
        # January: Berlin +1 (CET), New York -5 (EST) -> 6 h -> 2/8
        ("Europe/Berlin", "America/New_York", 0.25),
        # January: Chatham +13:45 (daylight time) vs -12: 25.75 -> 1.75 h -> 6.25/8
        ("Pacific/Chatham", "Etc/GMT+12", 6.25 / 8),
        # January: Sydney +11 (daylight time) vs London 0 -> 11 h -> 0
        ("Australia/Sydney", "Europe/London", 0.0),
        # Tokyo +9 vs Honolulu -10: 19 h = 5 h on the clock -> 3/8
        ("Asia/Tokyo", "Pacific/Honolulu", 3 / 8),
        # Kiritimati +14 vs Pago Pago -11: 25 h = 1 h -> 7/8
        ("Pacific/Kiritimati", "Pacific/Pago_Pago", 7 / 8),
        # Etc/GMT-14 is +14 (POSIX sign), the same as Kiritimati
        ("Etc/GMT-14", "Pacific/Kiritimati", 1.0),
    ],
)
def test_timezone_overlap(tz_a, tz_b, expected):
    check(row(talent(timezone=tz_a), job(timezone=tz_b)), timezone_overlap=expected)
    check(row(talent(timezone=tz_b), job(timezone=tz_a)), timezone_overlap=expected)


@pytest.mark.parametrize(
    ("tz", "hours"),
    [
        ("+05:30", 5.5),
        ("-03:30", -3.5),
        ("+14:00", 14.0),
        ("-12:00", -12.0),
        ("-00:30", -0.5),
        ("Asia/Kathmandu", 5.75),
        ("Etc/GMT+12", -12.0),
        ("Pacific/Kiritimati", 14.0),
        ("Pacific/Chatham", 13.75),
        ("UTC", 0.0),
    ],
)
def test_utc_offset_hours(tz, hours):
    assert utc_offset_hours(tz) == hours
    assert math.isnan(utc_offset_hours(None))


@pytest.mark.parametrize(("tz_t", "tz_j"), [(None, "UTC"), ("UTC", None), (None, None)])
def test_timezone_missing(tz_t, tz_j):
    check(
        row(talent(timezone=tz_t), job(timezone=tz_j)),
        timezone_overlap=0.5,
        timezone_missing=1.0,
    )


# --------------------------------------------------------------------------
# Salary.
# --------------------------------------------------------------------------


def _salary(t_range, t_cur, j_range, j_cur) -> dict[str, float]:
    t = talent(salary_min=t_range[0], salary_max=t_range[1], salary_currency=t_cur)
    j = job(salary_min=j_range[0], salary_max=j_range[1], salary_currency=j_cur)
    return row(t, j)


@pytest.mark.parametrize(
    ("t_range", "t_cur", "j_range", "j_cur", "iou", "ratio"),
    [
        # identical ranges: iou 1, ratio 100k / 150k
        ((100_000, 150_000), "USD", (100_000, 150_000), "USD", 1.0, 2 / 3),
        # talent [100k, 150k] vs job [120k, 200k]: inter 30k, union 100k
        ((100_000, 150_000), "USD", (120_000, 200_000), "USD", 0.3, 0.5),
        # disjoint: talent above the job
        ((200_000, 250_000), "USD", (100_000, 150_000), "USD", 0.0, 200 / 150),
        # ratio capped: 600k / 100k = 6 -> 5
        ((600_000, 700_000), "USD", (50_000, 100_000), "USD", 0.0, 5.0),
        # JPY 15M-18M / 150 = [100k, 120k] USD; EUR 92k-138k / 0.92 = [100k, 150k] USD
        # inter 20k, union 50k; ratio 100k / 150k
        ((15_000_000, 18_000_000), "JPY", (92_000, 138_000), "EUR", 0.4, 2 / 3),
        # the same numbers in different currencies are different amounts:
        # 100k EUR = 108695.65 USD vs 100k JPY = 666.67 USD (points, no overlap);
        # ratio 108695.65 / 666.67 = 163 -> capped at 5
        ((100_000, 100_000), "EUR", (100_000, 100_000), "JPY", 0.0, 5.0),
        # the other way round: 666.67 / 108695.65 = 0.92 / 150 = 0.006133
        ((100_000, 100_000), "JPY", (100_000, 100_000), "EUR", 0.0, 0.92 / 150),
        # one-sided: talent min only -> the point 100k; job [80k, 120k]
        # inter 0 (a point), union 40k -> 0; ratio 100k / 120k
        ((100_000, None), "USD", (80_000, 120_000), "USD", 0.0, 100 / 120),
        # both min only, the same point -> identical points overlap completely
        ((100_000, None), "USD", (100_000, None), "USD", 1.0, 1.0),
        # talent max only (point 90k), job max only (point 60k): union 30k, inter 0
        ((None, 90_000), "USD", (None, 60_000), "USD", 0.0, 1.5),
        # talent [50k, 150k] vs job min only (point 100k): inter 0, union 100k
        ((50_000, 150_000), "USD", (100_000, None), "USD", 0.0, 0.5),
        # job pays up to 0, talent asks 10k: ratio "infinite" -> cap 5
        ((10_000, 20_000), "USD", (0, 0), "USD", 0.0, 5.0),
    ],
)
def test_salary(t_range, t_cur, j_range, j_cur, iou, ratio):
    values = _salary(t_range, t_cur, j_range, j_cur)
    check(values, salary_iou=iou, salary_ratio=ratio, salary_missing=0.0)


@pytest.mark.parametrize(
    ("t_range", "t_cur", "j_range", "j_cur"),
    [
        ((None, None), None, (100_000, 150_000), "USD"),  # talent gives none
        ((100_000, 150_000), "USD", (None, None), None),  # job gives none
        ((None, None), None, (None, None), None),  # neither
        ((100_000, 150_000), "GBP", (100_000, 150_000), "USD"),  # no fx rate for GBP
        ((100_000, 150_000), "USD", (100_000, 150_000), "GBP"),
        ((None, None), "USD", (100_000, 150_000), "USD"),  # a currency but no amount
    ],
)
def test_salary_missing(t_range, t_cur, j_range, j_cur):
    check(
        _salary(t_range, t_cur, j_range, j_cur),
        salary_iou=0.0,
        salary_ratio=1.0,
        salary_missing=1.0,
    )


def test_salary_ratio_against_a_job_paying_zero():
    # talent [0, 0] vs job [0, 0]: identical points, iou = 1; the talent asks for exactly
    # what the job pays, so 0 / 0 reads as 1 (not the "asks 5x" cap)
    check(_salary((0, 0), "USD", (0, 0), "USD"), salary_iou=1.0, salary_ratio=1.0)
    # talent [0, 50k] (min 0) vs job min only 0: union 50k, inter 0; ratio 0 / 0 -> 1
    check(_salary((0, 50_000), "USD", (0, None), "USD"), salary_iou=0.0, salary_ratio=1.0)
    # a talent asking anything above 0 is out of reach: the cap
    check(_salary((1, 1), "JPY", (0, 0), "EUR"), salary_iou=0.0, salary_ratio=5.0)


# --------------------------------------------------------------------------
# Culture.
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("preferred", "industry", "expected"),
    [
        (["software", "fintech"], "fintech", 1.0),
        (["software", "fintech"], "healthcare", 0.0),
        ([], "healthcare", 0.5),
        ([i.value for i in Industry], "nonprofit", 1.0),  # the last bit of the mask
    ],
)
def test_industry_match(preferred, industry, expected):
    t = talent(preferred_industries=preferred)
    check(row(t, job(company_industry=industry)), industry_match=expected)


@pytest.mark.parametrize(
    ("preferred", "size", "expected"),
    [
        (["small"], "small", 1.0),
        (["micro", "enterprise"], "enterprise", 1.0),
        (["small", "medium"], "large", 0.0),
        ([], "large", 0.5),
    ],
)
def test_company_size_match(preferred, size, expected):
    t = talent(preferred_company_sizes=preferred)
    check(row(t, job(company_size=size)), company_size_match=expected)


@pytest.mark.parametrize(
    ("talent_styles", "company_styles", "expected"),
    [
        (["async", "collaborative"], ["async", "collaborative"], 1.0),
        (["async", "collaborative"], ["collaborative", "async"], 1.0),
        (["async", "collaborative", "autonomous"], ["async", "structured"], 0.25),  # 1 / 4
        (["async", "fast_paced"], ["async"], 0.5),  # 1 / 2
        (["async"], ["structured", "office_centric"], 0.0),
        ([], ["async"], 0.5),  # talent lists none
        (["async"], [], 0.5),  # company lists none
        ([], [], 0.5),
        ([w.value for w in WorkStyle], ["fast_paced"], 1 / 8),
    ],
)
def test_work_style_alignment(talent_styles, company_styles, expected):
    t = talent(work_styles=talent_styles)
    j = job(company_work_styles=company_styles)
    check(row(t, j), work_style_alignment=expected)


# --------------------------------------------------------------------------
# Semantic.
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("semantic", "similarity", "missing"),
    [
        (None, 0.0, 1.0),  # nothing supplied
        (math.nan, 0.0, 1.0),
        (0.42, 0.42, 0.0),
        (-0.25, -0.25, 0.0),
        (0.0, 0.0, 0.0),  # a real 0 is not "missing"
        (1.0, 1.0, 0.0),
        (-1.0, -1.0, 0.0),
        (1.3, 1.0, 0.0),  # clipped
        (-1.4, -1.0, 0.0),  # clipped
        (math.inf, 1.0, 0.0),
    ],
)
def test_semantic(semantic, similarity, missing):
    check(
        row(talent(), job(), semantic=semantic),
        semantic_similarity=similarity,
        semantic_missing=missing,
    )


def test_semantic_is_aligned_with_the_candidates():
    t = talent()
    jobs = [job(), job(), job()]
    tf, jf = frames([t], jobs)
    out = extract_features(tf, jf, np.array([0.1, np.nan, -2.0]), dtype=np.float64)
    sim, miss = FEATURE_INDEX["semantic_similarity"], FEATURE_INDEX["semantic_missing"]
    assert out[:, sim].tolist() == [0.1, 0.0, -1.0]
    assert out[:, miss].tolist() == [0.0, 1.0, 0.0]
    with pytest.raises(ValueError, match="semantic"):
        extract_features(tf, jf, np.array([0.1, 0.2]))


# --------------------------------------------------------------------------
# Batch API and frames.
# --------------------------------------------------------------------------


def _varied_entities() -> tuple[list[TalentProfile], list[JobPosting]]:
    talents = [
        talent(
            experience_level="junior",
            years_experience=1,
            location=BERLIN,
            timezone="Europe/Berlin",
            remote_preference="remote",
            salary_min=50_000,
            salary_currency="EUR",
            work_styles=["async"],
            skills=[tskill(1, 2, 1), tskill(4, 3, 2)],
        ),
        talent(
            experience_level="principal",
            years_experience=25,
            location=AUCKLAND,
            timezone="Pacific/Auckland",
            remote_preference="onsite",
            preferred_industries=["media"],
            skills=[],
        ),
        talent(
            experience_level="senior",
            years_experience=8,
            timezone="+05:30",
            salary_min=10_000_000,
            salary_max=20_000_000,
            salary_currency="JPY",
            preferred_company_sizes=["large", "micro"],
            skills=[tskill(2, 5, 9), tskill(3, 4, 3), tskill(5, 1, 0)],
        ),
    ]
    jobs = [
        job(
            experience_level="mid",
            min_years=2,
            max_years=5,
            location=SUVA,
            remote_policy="hybrid",
            timezone="Pacific/Fiji",
            salary_min=60_000,
            salary_max=90_000,
            salary_currency="USD",
            skills=[jskill(1, 3), jskill(2, 4, False)],
        ),
        job(
            experience_level="lead",
            min_years=8,
            location=HONOLULU,
            remote_policy="onsite",
            company_industry="media",
            company_size="large",
            company_work_styles=["async", "office_centric"],
            skills=[jskill(3, 5), jskill(4, 2), jskill(5, 1)],
        ),
        job(experience_level="junior", min_years=0, remote_policy="remote", skills=[]),
        job(
            experience_level="principal",
            min_years=12,
            max_years=30,
            remote_policy="remote",
            timezone="Etc/GMT+12",
            salary_max=150_000,
            salary_currency="EUR",
            skills=[jskill(i, 2) for i in (1, 2, 3, 4, 5, 6)],
        ),
    ]
    return talents, jobs


def test_extract_pair_features_equals_stacked_per_anchor_results():
    talents, jobs = _varied_entities()
    tf, jf = frames(talents, jobs)
    rng = np.random.default_rng(0)
    sem = rng.uniform(-1.2, 1.2, size=(len(talents), len(jobs)))
    sem[0, 1] = sem[2, 3] = np.nan
    # per talent anchor: one (n_jobs, N) block each
    per_talent = [
        extract_features(tf.take(np.array([i])), jf, sem[i], dtype=np.float64)
        for i in range(len(talents))
    ]
    # per job anchor: the same values, transposed
    per_job = [
        extract_features(jf.take(np.array([k])), tf, sem[:, k], dtype=np.float64)
        for k in range(len(jobs))
    ]
    for i, k in itertools.product(range(len(talents)), range(len(jobs))):
        np.testing.assert_array_equal(per_talent[i][k], per_job[k][i])

    ti = np.array([2, 0, 0, 1, 2, 1, 2, 0, 1], dtype=np.int64)
    ji = np.array([3, 3, 1, 0, 0, 2, 1, 2, 3], dtype=np.int64)
    out = extract_pair_features(tf, jf, ti, ji, sem[ti, ji], dtype=np.float64)
    expected = np.stack([per_talent[i][k] for i, k in zip(ti, ji, strict=True)])
    np.testing.assert_array_equal(out, expected)

    # every pair at once, in both enumeration orders
    all_t, all_j = (a.ravel() for a in np.meshgrid(range(3), range(4), indexing="ij"))
    full = extract_pair_features(tf, jf, all_t, all_j, sem[all_t, all_j], dtype=np.float64)
    np.testing.assert_array_equal(full, np.concatenate(per_talent))


def test_extract_pair_features_repeated_rows():
    talents, jobs = _varied_entities()
    tf, jf = frames(talents, jobs)
    ti = np.array([1, 1, 1, 0, 0], dtype=np.int64)
    ji = np.array([3, 3, 3, 2, 2], dtype=np.int64)
    out = extract_pair_features(tf, jf, ti, ji, dtype=np.float64)
    np.testing.assert_array_equal(out[0], out[1])
    np.testing.assert_array_equal(out[0], out[2])
    np.testing.assert_array_equal(out[3], out[4])
    single = extract_features(tf.take(np.array([1])), jf.take(np.array([3])), dtype=np.float64)
    np.testing.assert_array_equal(out[0], single[0])


def test_extract_pair_features_empty():
    talents, jobs = _varied_entities()
    tf, jf = frames(talents, jobs)
    empty = np.array([], dtype=np.int64)
    out = extract_pair_features(tf, jf, empty, empty)
    assert out.shape == (0, N_FEATURES)
    assert out.dtype == np.float32
    # an anchor against an empty candidate frame
    assert extract_features(tf.take(np.array([0])), jf.take(empty)).shape == (0, N_FEATURES)
    assert extract_features(jf.take(np.array([0])), tf.take(empty)).shape == (0, N_FEATURES)
    # frames that hold no skills at all
    no_skills = frames([talent()], [job()])
    assert extract_features(*no_skills).shape == (1, N_FEATURES)


def test_extract_pair_features_rejects_bad_indices():
    talents, jobs = _varied_entities()
    tf, jf = frames(talents, jobs)
    with pytest.raises(ValueError):
        extract_pair_features(tf, jf, np.array([0, 1]), np.array([0]))
    with pytest.raises(ValueError):
        extract_pair_features(tf, jf, np.zeros((2, 2), dtype=np.int64), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="semantic"):
        extract_pair_features(tf, jf, np.array([0, 1]), np.array([0, 1]), np.zeros(3))


def test_anchor_must_hold_exactly_one_row():
    talents, jobs = _varied_entities()
    tf, jf = frames(talents, jobs)
    with pytest.raises(ValueError, match="one entity"):
        extract_features(tf.take(np.array([0, 1])), jf)
    with pytest.raises(ValueError, match="one entity"):
        extract_features(jf.take(np.array([0, 1])), tf)
    with pytest.raises(ValueError, match="one entity"):
        extract_features(tf.take(np.array([], dtype=np.int64)), jf)
    with pytest.raises(TypeError):
        extract_features(tf.take(np.array([0])), tf)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        extract_features(jf.take(np.array([0])), jf)  # type: ignore[arg-type]


def test_dtype():
    tf, jf = frames([talent()], [job()])
    assert extract_features(tf, jf).dtype == np.float32
    assert extract_features(tf, jf, dtype=np.float64).dtype == np.float64


def _assert_same_frame(a: Any, b: Any, arrays: tuple[str, ...]) -> None:
    assert a.ids == b.ids
    for name in arrays:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for name in ("indptr", "skill_ids", "a", "b"):
        np.testing.assert_array_equal(getattr(a.skills, name), getattr(b.skills, name))


TALENT_ARRAYS = (
    "level", "years", "lat", "lon", "tz_offset", "remote_preference", "salary_min_usd",
    "salary_max_usd", "preferred_industries", "preferred_sizes", "work_styles",
)  # fmt: skip
JOB_ARRAYS = (
    "level", "min_years", "max_years", "lat", "lon", "tz_offset", "remote_policy",
    "salary_min_usd", "salary_max_usd", "industry", "company_size", "work_styles",
)  # fmt: skip


def test_frame_take_keeps_values():
    talents, jobs = _varied_entities()
    tf, jf = frames(talents, jobs)
    rows_t = np.array([2, 0, 2, 1], dtype=np.int64)
    expected_t = TalentFrame.from_profiles([talents[i] for i in rows_t], FX)
    _assert_same_frame(tf.take(rows_t), expected_t, TALENT_ARRAYS)
    rows_j = np.array([3, 3, 0, 2, 1], dtype=np.int64)
    expected_j = JobFrame.from_postings([jobs[i] for i in rows_j], FX)
    _assert_same_frame(jf.take(rows_j), expected_j, JOB_ARRAYS)
    assert len(tf.take(rows_t)) == 4
    assert len(jf.take(rows_j)) == 5


def test_frame_values_from_profiles():
    talents, jobs = _varied_entities()
    tf, jf = frames(talents, jobs)
    assert tf.level.tolist() == [0, 4, 2]
    assert tf.salary_min_usd[0] == tf.salary_max_usd[0] == pytest.approx(50_000 / 0.92)
    assert tf.salary_min_usd[2] == pytest.approx(10_000_000 / 150)
    assert math.isnan(tf.salary_min_usd[1]) and math.isnan(tf.lat[2])
    assert tf.tz_offset[2] == 5.5
    assert jf.max_years[0] == 5.0 and math.isnan(jf.max_years[1])
    assert jf.tz_offset[3] == -12.0
    assert jf.skills.b.tolist() == [1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    assert jf.skills.counts.tolist() == [2, 3, 0, 6]


def test_skill_matrix_take():
    m = SkillMatrix.from_rows(
        [
            [(5, 1.0, 10.0), (2, 2.0, 20.0)],  # sorted by id on the way in
            [],
            [(7, 3.0, 30.0)],
        ]
    )
    assert m.indptr.tolist() == [0, 2, 2, 3]
    assert m.skill_ids.tolist() == [2, 5, 7]
    assert m.a.tolist() == [2.0, 1.0, 3.0]
    sub = m.take(np.array([2, 0, 1, 2], dtype=np.int64))
    assert sub.indptr.tolist() == [0, 1, 3, 3, 4]
    assert sub.skill_ids.tolist() == [7, 2, 5, 7]
    assert sub.a.tolist() == [3.0, 2.0, 1.0, 3.0]
    assert sub.b.tolist() == [30.0, 20.0, 10.0, 30.0]
    assert sub.counts.tolist() == [1, 2, 0, 1]
    empty = m.take(np.array([1], dtype=np.int64))
    assert empty.indptr.tolist() == [0, 0] and empty.skill_ids.tolist() == []
    assert m.take(np.array([], dtype=np.int64)).indptr.tolist() == [0]


# --------------------------------------------------------------------------
# Registry.
# --------------------------------------------------------------------------


def test_feature_names_are_unique_and_ordered():
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES) == N_FEATURES == len(FEATURES)
    assert tuple(f.name for f in FEATURES) == FEATURE_NAMES
    assert all(FEATURE_INDEX[f.name] == i for i, f in enumerate(FEATURES))
    assert all(feature(f.name) is f for f in FEATURES)


def test_every_category_is_used():
    assert {f.category for f in FEATURES} == set(CATEGORIES)
    assert len(set(CATEGORIES)) == len(CATEGORIES)


@pytest.mark.parametrize("f", FEATURES, ids=FEATURE_NAMES)
def test_feature_range_and_texts(f):
    assert f.low < f.high
    assert math.isfinite(f.low) and math.isfinite(f.high)
    assert f.description.strip() and "{" not in f.description
    assert f.range_text.startswith("[") and f.range_text.endswith("]")


def _value_specs(phrase: str) -> list[str]:
    return [
        spec or "" for _, field, spec, _ in string.Formatter().parse(phrase) if field == "value"
    ]


@pytest.mark.parametrize("f", FEATURES, ids=FEATURE_NAMES)
@pytest.mark.parametrize("where", [0.0, 0.25, 0.5, 1.0])
def test_feature_sentence(f, where):
    value = f.low + where * (f.high - f.low)
    text = f.sentence(value)
    assert "{" not in text and "}" not in text
    if f.neutral is not None and value == f.neutral:
        assert text == f.neutral_phrase
        return
    assert text.strip() == text and text
    fields = [field for _, field, _, _ in string.Formatter().parse(f.phrase) if field]
    assert fields and set(fields) <= {"value", "yes_no", "label"}
    for spec in _value_specs(f.phrase):
        assert format(value, spec) in text
    if "yes_no" in fields:
        assert ("yes" if value >= 0.5 else "no") in text


@pytest.mark.parametrize("name", ["industry_match", "company_size_match"])
def test_no_preference_is_not_explained_as_a_preference(name):
    # a talent with no stated preference: the feature takes the neutral 0.5
    values = row(talent(preferred_industries=[], preferred_company_sizes=[]), job())
    assert values[name] == 0.5
    text = feature(name).sentence(values[name])
    assert not text.endswith(": yes")
    assert "no" in text and "preference" in text


@pytest.mark.parametrize(
    ("name", "indicator"),
    [
        ("distance_km", "location_missing"),
        ("commute_fit", "location_missing"),
        ("timezone_overlap", "timezone_missing"),
        ("salary_iou", "salary_missing"),
        ("salary_ratio", "salary_missing"),
        ("semantic_similarity", "semantic_missing"),
    ],
)
def test_stand_in_values_read_as_unknown(name, indicator):
    f = feature(name)
    known = f.sentence(0.5, {indicator: 0.0})
    unknown = f.sentence(0.5, {indicator: 1.0})
    assert unknown != known
    assert "missing" in unknown or "not" in unknown
    assert "%" not in unknown


# --------------------------------------------------------------------------
# Property tests: ranges and symmetry on arbitrary valid inputs.
# --------------------------------------------------------------------------

TIMEZONES = [
    "UTC",
    "+00:00",
    "+05:30",
    "+05:45",
    "-03:30",
    "-09:30",
    "+14:00",
    "-12:00",
    "+12:45",
    "Pacific/Kiritimati",
    "Etc/GMT+12",
    "Etc/GMT-14",
    "Pacific/Chatham",
    "Pacific/Pago_Pago",
    "Pacific/Honolulu",
    "Pacific/Fiji",
    "Pacific/Auckland",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "America/St_Johns",
    "America/New_York",
    "Europe/Berlin",
]
CURRENCIES = [*FX, "GBP"]  # GBP has no rate: salary counts as missing

years = st.floats(0, 60, allow_nan=False, allow_infinity=False)
lat = st.floats(-90, 90, allow_nan=False, allow_infinity=False)
lon = st.floats(-180, 180, allow_nan=False, allow_infinity=False)
skill_ids = st.sets(st.integers(1, 40), max_size=12)


def _subset(enum: Any) -> st.SearchStrategy[list[Any]]:
    return st.lists(st.sampled_from(list(enum)), unique=True, max_size=len(enum))


@st.composite
def salaries(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["none", "both", "min", "max"]))
    if kind == "none":
        return {}
    a, b = sorted(draw(st.integers(0, 1_000_000_000)) for _ in range(2))
    currency = draw(st.sampled_from(CURRENCIES))
    if kind == "both":
        return {"salary_min": a, "salary_max": b, "salary_currency": currency}
    key = "salary_min" if kind == "min" else "salary_max"
    return {key: a, "salary_currency": currency}


@st.composite
def locations(draw: st.DrawFn, required: bool = False) -> dict[str, Any]:
    if not required and draw(st.booleans()):
        return {}
    return {"latitude": draw(lat), "longitude": draw(lon)}


@st.composite
def talents(draw: st.DrawFn) -> TalentProfile:
    skills = [
        SkillData(
            skill_id=sid,
            name=f"skill-{sid}",
            category="software",
            proficiency=draw(st.integers(1, 5)),
            years=draw(years),
        )
        for sid in sorted(draw(skill_ids))
    ]
    return TalentProfile(
        id=draw(st.uuids()),
        headline="Engineer",
        experience_level=draw(st.sampled_from(list(ExperienceLevel))),
        years_experience=draw(years),
        timezone=draw(st.none() | st.sampled_from(TIMEZONES)),
        remote_preference=draw(st.sampled_from(list(RemotePreference))),
        preferred_industries=draw(_subset(Industry)),
        preferred_company_sizes=draw(_subset(CompanySize)),
        work_styles=draw(_subset(WorkStyle)),
        skills=skills,
        **draw(locations()),
        **draw(salaries()),
    )


@st.composite
def jobs(draw: st.DrawFn) -> JobPosting:
    policy = draw(st.sampled_from(list(RemotePolicy)))
    lo, hi = sorted((draw(years), draw(years)))
    skills = [
        SkillData(
            skill_id=sid,
            name=f"skill-{sid}",
            category="software",
            min_proficiency=draw(st.integers(1, 5)),
            required=draw(st.booleans()),
        )
        for sid in sorted(draw(skill_ids))
    ]
    return JobPosting(
        id=draw(st.uuids()),
        company_id=draw(st.uuids()),
        title="Engineer",
        experience_level=draw(st.sampled_from(list(ExperienceLevel))),
        min_years=lo,
        max_years=draw(st.none() | st.just(hi)),
        timezone=draw(st.none() | st.sampled_from(TIMEZONES)),
        remote_policy=policy,
        company_industry=draw(st.sampled_from(list(Industry))),
        company_size=draw(st.sampled_from(list(CompanySize))),
        company_work_styles=draw(_subset(WorkStyle)),
        skills=skills,
        **draw(locations(required=policy is not RemotePolicy.REMOTE)),
        **draw(salaries()),
    )


semantic_value = st.one_of(
    st.just(math.nan), st.floats(-1.5, 1.5, allow_nan=False, allow_infinity=False)
)

LOWS = np.array([f.low for f in FEATURES])
HIGHS = np.array([f.high for f in FEATURES])
TOL = 1e-6 * np.maximum(1.0, np.abs(HIGHS))  # float32 rounding of e.g. 20015.11 km


def _assert_in_range(out: np.ndarray) -> None:
    assert out.shape[1] == N_FEATURES
    assert np.all(np.isfinite(out))
    below = out < LOWS - TOL
    above = out > HIGHS + TOL
    bad = sorted({FEATURE_NAMES[c] for c in np.nonzero(below | above)[1]})
    assert not bad, bad


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(
    t=talents(),
    js=st.lists(jobs(), max_size=30),
    data=st.data(),
)
def test_property_talent_against_jobs(t, js, data):
    sem = np.array(data.draw(st.lists(semantic_value, min_size=len(js), max_size=len(js))))
    tf, jf = frames([t], js)
    out32 = extract_features(tf, jf, sem)
    out64 = extract_features(tf, jf, sem, dtype=np.float64)
    assert out32.shape == out64.shape == (len(js), N_FEATURES)
    _assert_in_range(out32)
    _assert_in_range(out64)
    np.testing.assert_allclose(out32, out64, rtol=1e-6, atol=1e-6)
    # symmetry: the job-anchored row of each job against this talent is the same row
    for k in range(len(js)):
        back = extract_features(jf.take(np.array([k])), tf, sem[k : k + 1], dtype=np.float64)
        np.testing.assert_array_equal(back[0], out64[k])


@PROPERTY
@given(
    j=jobs(),
    ts=st.lists(talents(), max_size=30),
    data=st.data(),
)
def test_property_job_against_talents(j, ts, data):
    sem = np.array(data.draw(st.lists(semantic_value, min_size=len(ts), max_size=len(ts))))
    tf, jf = frames(ts, [j])
    out32 = extract_features(jf, tf, sem)
    out64 = extract_features(jf, tf, sem, dtype=np.float64)
    assert out32.shape == out64.shape == (len(ts), N_FEATURES)
    _assert_in_range(out32)
    _assert_in_range(out64)
    for k in range(len(ts)):
        back = extract_features(tf.take(np.array([k])), jf, sem[k : k + 1], dtype=np.float64)
        np.testing.assert_array_equal(back[0], out64[k])
    # and a random batch of pairs over the same frames equals the anchored rows
    if ts:
        picks = data.draw(st.lists(st.integers(0, len(ts) - 1), max_size=40))
        ti = np.array(picks, dtype=np.int64)
        ji = np.zeros(len(picks), dtype=np.int64)
        pairs = extract_pair_features(tf, jf, ti, ji, sem[ti], dtype=np.float64)
        np.testing.assert_array_equal(pairs, out64[ti].reshape(len(picks), N_FEATURES))


# --------------------------------------------------------------------------
# A per-pair pure-Python reference, written from the descriptions.
# --------------------------------------------------------------------------


def _offset(tz: str | None) -> float | None:
    if tz is None:
        return None
    if tz[0] in "+-":
        sign = -1 if tz[0] == "-" else 1
        return sign * (int(tz[1:3]) + int(tz[4:6]) / 60)
    delta = datetime(2026, 1, 15, 12, tzinfo=UTC).astimezone(ZoneInfo(tz)).utcoffset()
    assert delta is not None
    return delta.total_seconds() / 3600


def _usd(lo: int | None, hi: int | None, cur: str | None) -> tuple[float, float] | None:
    if cur not in FX or (lo is None and hi is None):
        return None
    lo = hi if lo is None else lo
    hi = lo if hi is None else hi
    return lo / FX[cur], hi / FX[cur]


def reference_row(t: TalentProfile, j: JobPosting, sem: float) -> dict[str, float]:
    tsk = {s.skill_id: s for s in t.skills}
    jsk = {s.skill_id: s for s in j.skills}
    shared = tsk.keys() & jsk.keys()
    union = tsk.keys() | jsk.keys()
    required = [k for k, s in jsk.items() if s.required]
    key = required or list(jsk)
    levels = list(ExperienceLevel)
    tl, jl = levels.index(t.experience_level), levels.index(j.experience_level)
    y, lo = t.years_experience, j.min_years
    hi = lo + 10 if j.max_years is None else j.max_years
    loc_missing = None in (t.latitude, j.latitude)
    km = (
        0.0
        if loc_missing
        else _great_circle_km((t.latitude, t.longitude), (j.latitude, j.longitude))
    )
    if j.remote_policy is RemotePolicy.REMOTE:
        commute = 1.0
    elif loc_missing:
        commute = 0.5
    else:
        commute = math.exp(-km / (300 if j.remote_policy is RemotePolicy.HYBRID else 100))
    ta, tb = _offset(t.timezone), _offset(j.timezone)
    if ta is None or tb is None:
        overlap = 0.5
    else:
        diff = abs(ta - tb) % 24
        overlap = max(0.0, 8 - min(diff, 24 - diff)) / 8
    ts = _usd(t.salary_min, t.salary_max, t.salary_currency)
    js = _usd(j.salary_min, j.salary_max, j.salary_currency)
    if ts is None or js is None:
        iou, ratio = 0.0, 1.0
    else:
        inter = max(0.0, min(ts[1], js[1]) - max(ts[0], js[0]))
        span = max(ts[1], js[1]) - min(ts[0], js[0])
        iou = inter / span if span > 0 else float(ts[0] == js[0])
        ratio = min(ts[0] / js[1], 5.0) if js[1] > 0 else (5.0 if ts[0] > 0 else 1.0)
    tw, cw = set(t.work_styles), set(j.company_work_styles)
    return {
        "skill_jaccard": len(shared) / len(union) if union else 0.0,
        "required_coverage": sum(k in tsk for k in required) / len(required) if required else 1.0,
        "proficiency_alignment": (
            sum(min(1.0, tsk[k].proficiency / jsk[k].min_proficiency) for k in shared) / len(shared)
            if shared
            else 0.0
        ),
        "skill_years_score": (
            sum(min(1.0, tsk[k].years / 5) if k in tsk else 0.0 for k in key) / len(key)
            if key
            else 0.0
        ),
        "missing_required_count": min(50.0, sum(k not in tsk for k in required)),
        "skills_missing": float(not tsk or not jsk),
        "level_match": float(tl == jl),
        "level_distance": abs(tl - jl),
        "years_ratio": min(3.0, y / max(lo, 0.5)),
        "seniority_alignment": max(0.0, 1 - 0.2 * (max(lo - y, 0) + max(y - hi, 0))),
        "overqualified_penalty": min(1.0, max(max(tl - jl, 0) / 2, max(y - hi, 0) / 10)),
        "underqualified_penalty": min(1.0, max(max(jl - tl, 0) / 2, max(lo - y, 0) / max(lo, 1))),
        "distance_km": km,
        "location_missing": float(loc_missing),
        "remote_compatibility": REMOTE_TABLE[(t.remote_preference.value, j.remote_policy.value)],
        "commute_fit": commute,
        "timezone_overlap": overlap,
        "timezone_missing": float(ta is None or tb is None),
        "salary_iou": iou,
        "salary_ratio": ratio,
        "salary_missing": float(ts is None or js is None),
        "industry_match": (
            0.5
            if not t.preferred_industries
            else float(j.company_industry in t.preferred_industries)
        ),
        "company_size_match": (
            0.5
            if not t.preferred_company_sizes
            else float(j.company_size in t.preferred_company_sizes)
        ),
        "work_style_alignment": len(tw & cw) / len(tw | cw) if tw and cw else 0.5,
        "semantic_similarity": 0.0 if math.isnan(sem) else min(1.0, max(-1.0, sem)),
        "semantic_missing": float(math.isnan(sem)),
    }


@PROPERTY
@given(
    ts=st.lists(talents(), min_size=1, max_size=6),
    js=st.lists(jobs(), min_size=1, max_size=6),
    data=st.data(),
)
def test_property_matches_a_per_pair_reference(ts, js, data):
    n_pairs = data.draw(st.integers(0, 30))
    ti = data.draw(st.lists(st.integers(0, len(ts) - 1), min_size=n_pairs, max_size=n_pairs))
    ji = data.draw(st.lists(st.integers(0, len(js) - 1), min_size=n_pairs, max_size=n_pairs))
    sem = data.draw(st.lists(semantic_value, min_size=n_pairs, max_size=n_pairs))
    tf, jf = frames(ts, js)
    out = extract_pair_features(
        tf,
        jf,
        np.array(ti, dtype=np.int64),
        np.array(ji, dtype=np.int64),
        np.array(sem),
        dtype=np.float64,
    )
    assert out.shape == (n_pairs, N_FEATURES)
    for k, (a, b, s) in enumerate(zip(ti, ji, sem, strict=True)):
        expected = reference_row(ts[a], js[b], s)
        for name, value in expected.items():
            got = out[k, FEATURE_INDEX[name]]
            assert got == pytest.approx(value, rel=1e-9, abs=1e-6), (name, got, value)


# --------------------------------------------------------------------------
# Attributes that preferences depend on.
# --------------------------------------------------------------------------


def test_attributes_of_each_side_are_features():
    t = talent(
        experience_level="lead",
        years_experience=12,
        remote_preference="remote",
        salary_min=92000,
        salary_max=110000,
        salary_currency="EUR",
    )
    j = job(
        experience_level="mid",
        remote_policy="hybrid",
        location=(52.5, 13.4),
        company_size="enterprise",
        company_industry="fintech",
        salary_min=60000,
        salary_max=80000,
        salary_currency="USD",
        skills=[jskill(1), jskill(2), jskill(3, required=False)],
    )
    check(
        row(t, j),
        talent_level=3.0,
        talent_years=12.0,
        talent_remote_preference=2.0,
        talent_salary_k=100.0,  # 92,000 EUR at 0.92 per USD
        job_level=1.0,
        job_remote_policy=1.0,
        job_salary_k=70.0,
        company_size=4.0,
        company_industry=1.0,
        required_skill_count=2.0,
    )


def test_attributes_without_a_salary_read_as_not_given():
    values = row(talent(), job())
    check(values, talent_salary_k=-1.0, job_salary_k=-1.0, required_skill_count=0.0)
    assert not feature("job_salary_k").speaks(values["job_salary_k"], values)
    assert not feature("required_coverage").speaks(values["required_coverage"], values)


def test_attribute_reasons_read_naturally():
    assert feature("company_size").sentence(1.0) == "small company"
    assert feature("job_remote_policy").sentence(2.0) == "fully remote role"
    assert feature("job_level").sentence(2.0) == "senior-level role"
    assert feature("company_industry").sentence(1.0) == "company in fintech"
    assert feature("talent_salary_k").sentence(95.0) == "asks for about $95k a year"

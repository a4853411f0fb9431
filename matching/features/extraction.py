"""The feature registry and vectorised feature extraction.

`FEATURES` is the one list of features: the model's column order, the
explainer's phrases, the docs table and the tests all read it, and no feature
name is spelled anywhere else. Extraction works on columnar frames
(`TalentFrame`, `JobFrame`) so one entity is compared with thousands of
candidates by numpy array arithmetic, never a Python loop per pair.

Scaling is part of each definition: ratios are capped, distances are in km,
and every feature has a declared closed range that property tests enforce.
Missing data never yields NaN: each feature takes a documented neutral value
and an indicator feature (`*_missing`) records that the input was absent.

The SQL fallback scorer (`matching.fallback_*` in the migrations) recomputes
the non-semantic features in SQL; `tests/db/test_fallback_parity.py` binds the
two to 1e-6.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal, overload
from uuid import UUID
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from matching.models import (
    CompanySize,
    ExperienceLevel,
    Industry,
    JobPosting,
    RemotePolicy,
    RemotePreference,
    TalentProfile,
    WorkStyle,
)

Category = Literal["skills", "experience", "location", "salary", "culture", "semantic"]
CATEGORIES: tuple[Category, ...] = (
    "skills",
    "experience",
    "location",
    "salary",
    "culture",
    "semantic",
)

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclass(frozen=True)
class Feature:
    """One column of the feature matrix.

    `phrase` is a str.format template an explanation fills with the pair's
    value: `{value}` is the feature value, `{yes_no}` is "yes"/"no" for
    indicators. A feature whose value is only a stand-in when data is missing
    says so instead: `unknown_phrase` applies when the indicator feature
    named by `unknown_if` is 1, `neutral_phrase` when the value equals
    `neutral` (a "no preference" value that never occurs otherwise).
    """

    name: str
    category: Category
    description: str
    low: float
    high: float
    phrase: str
    unknown_if: str | None = None
    unknown_phrase: str | None = None
    neutral: float | None = None
    neutral_phrase: str | None = None
    #: the feature says nothing about the pair when another feature of the
    #: row has this value (e.g. coverage of a job that requires no skills)
    silent_when: tuple[tuple[str, float], ...] = ()
    #: indicator features (`*_missing`) are inputs, never reasons: a reason
    #: must say something about the pair, and "unknown" says nothing
    reason: bool = True
    #: an attribute code (company size, remote policy...) read as a word
    labels: tuple[str, ...] | None = None
    #: LightGBM monotone constraint: +1 = a higher value never lowers the
    #: score (more skill coverage, closer text). Rule-like priors only; what
    #: people prefer (company size, industry) stays unconstrained.
    monotone: int = 0

    @property
    def range_text(self) -> str:
        def fmt(x: float) -> str:
            return f"{x:g}"

        return f"[{fmt(self.low)}, {fmt(self.high)}]"

    def sentence(self, value: float, row: Mapping[str, float] | None = None) -> str:
        """What the value means for this pair; `row` (all features) lets a
        stand-in for missing data read as "unknown"."""
        if self.unknown_if and self.unknown_phrase and row and row.get(self.unknown_if, 0) >= 0.5:
            return self.unknown_phrase
        if self.neutral_phrase is not None and self.neutral is not None and value == self.neutral:
            return self.neutral_phrase
        label = ""
        if self.labels is not None:
            label = self.labels[min(max(round(value), 0), len(self.labels) - 1)]
        return self.phrase.format(value=value, yes_no="yes" if value >= 0.5 else "no", label=label)

    def speaks(self, value: float, row: Mapping[str, float]) -> bool:
        """Whether this feature's value says something about the pair, so it
        may be shown as a reason: not an indicator, not a stand-in for missing
        data, not a "no preference" value, not silenced by another feature."""
        if not self.reason:
            return False
        if self.unknown_if and row.get(self.unknown_if, 0.0) >= 0.5:
            return False
        if self.neutral is not None and value == self.neutral:
            return False
        return not any(row.get(name) == v for name, v in self.silent_when)


# Scaling constants: part of the feature definitions (and of the SQL mirror).
#: code of RemotePolicy.REMOTE in `job_remote_policy`
REMOTE_POLICY_CODE = 2.0
YEARS_RATIO_CAP = 3.0
SALARY_RATIO_CAP = 5.0
MISSING_REQUIRED_CAP = 50.0
SKILL_YEARS_FULL = 5.0  # hands-on years on a skill that count as "fully experienced"
EARTH_RADIUS_KM = 6371.0088
MAX_DISTANCE_KM = math.pi * EARTH_RADIUS_KM  # half the circumference: as far as it gets
WORKDAY_HOURS = 8.0
ONSITE_RADIUS_KM = 100.0
HYBRID_RADIUS_KM = 300.0
NEUTRAL = 0.5
#: Salaries as features: thousands of US dollars a year, capped; -1 = not given.
SALARY_K_CAP = 1000.0
NO_SALARY = -1.0
# Time-zone offsets are taken at one fixed instant so a score never depends on
# the day it was computed (daylight saving would otherwise move it).
OFFSET_REFERENCE = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)

# Talent remote preference (rows) x job remote policy (columns), both in enum order.
REMOTE_COMPATIBILITY: F64 = np.array(
    [
        # onsite hybrid remote   (job policy)
        [1.0, 0.7, 0.4],  # talent prefers onsite
        [0.6, 1.0, 0.8],  # hybrid
        [0.1, 0.5, 1.0],  # remote
        [1.0, 1.0, 1.0],  # flexible
    ]
)

FEATURES: tuple[Feature, ...] = (
    Feature(
        "skill_jaccard",
        "skills",
        "Jaccard overlap of the talent's and the job's skill sets.",
        0.0,
        1.0,
        "shares {value:.0%} of its skills with the job",
        silent_when=(("skills_missing", 1.0),),
        monotone=1,
    ),
    Feature(
        "required_coverage",
        "skills",
        "Share of the job's required skills the talent has (1 when none are required).",
        0.0,
        1.0,
        "covers {value:.0%} of the required skills",
        silent_when=(("required_skill_count", 0.0),),
        monotone=1,
    ),
    Feature(
        "proficiency_alignment",
        "skills",
        "Mean over shared skills of min(1, talent proficiency / job minimum); 0 if none shared.",
        0.0,
        1.0,
        "meets {value:.0%} of the proficiency the shared skills ask for",
        silent_when=(("skills_missing", 1.0),),
        monotone=1,
    ),
    Feature(
        "skill_years_score",
        "skills",
        f"Mean over required skills (all job skills if none required) of"
        f" min(1, talent's years on the skill / {SKILL_YEARS_FULL:g}); 0 for a missing skill"
        f" and when the job lists no skills.",
        0.0,
        1.0,
        "has {value:.0%} of the hands-on years the key skills call for",
        silent_when=(("skills_missing", 1.0),),
        monotone=1,
    ),
    Feature(
        "missing_required_count",
        "skills",
        f"Number of required skills the talent lacks, capped at {MISSING_REQUIRED_CAP:g}.",
        0.0,
        MISSING_REQUIRED_CAP,
        "is missing {value:.0f} required skill(s)",
        silent_when=(("required_skill_count", 0.0),),
        monotone=-1,
    ),
    Feature(
        "skills_missing",
        "skills",
        "1 when the talent or the job lists no skills.",
        0.0,
        1.0,
        "skill data is missing: {yes_no}",
        reason=False,
    ),
    Feature(
        "level_match",
        "experience",
        "1 when the talent's level equals the job's level.",
        0.0,
        1.0,
        "is at the level the job asks for: {yes_no}",
    ),
    Feature(
        "level_distance",
        "experience",
        "Absolute distance between levels on the junior..principal scale (0-4).",
        0.0,
        4.0,
        "is {value:.0f} level(s) away from the job's level",
        monotone=-1,
    ),
    Feature(
        "years_ratio",
        "experience",
        f"Talent years / job minimum years (minimum floored at 0.5), capped at"
        f" {YEARS_RATIO_CAP:g}.",
        0.0,
        YEARS_RATIO_CAP,
        "has {value:.1f}x the years of experience the job asks for",
    ),
    Feature(
        "seniority_alignment",
        "experience",
        "1 when the talent's years fall in the job's range (max = min + 10 when open),"
        " decreasing by 0.2 per year outside it.",
        0.0,
        1.0,
        "fits the job's seniority range at {value:.0%}",
        monotone=1,
    ),
    Feature(
        "overqualified_penalty",
        "experience",
        "max(levels above the job / 2, years above the job's maximum / 10), capped at 1.",
        0.0,
        1.0,
        "is over-qualified for the role ({value:.0%} penalty)",
        monotone=-1,
    ),
    Feature(
        "underqualified_penalty",
        "experience",
        "max(levels below the job / 2, years short of the minimum / max(minimum, 1)), capped at 1.",
        0.0,
        1.0,
        "is under-qualified for the role ({value:.0%} penalty)",
        monotone=-1,
    ),
    Feature(
        "distance_km",
        "location",
        "Great-circle (Haversine) distance in km; 0 when either location is missing.",
        0.0,
        MAX_DISTANCE_KM,
        "lives {value:,.0f} km from the job",
        unknown_if="location_missing",
        unknown_phrase="distance unknown: a location is missing",
        silent_when=(("job_remote_policy", REMOTE_POLICY_CODE),),
        monotone=-1,
    ),
    Feature(
        "location_missing",
        "location",
        "1 when the talent or the job has no coordinates.",
        0.0,
        1.0,
        "location is unknown: {yes_no}",
        reason=False,
    ),
    Feature(
        "remote_compatibility",
        "location",
        "Fit of the talent's remote preference with the job's remote policy (fixed table).",
        0.0,
        1.0,
        "fits the job's remote/hybrid/on-site mode at {value:.0%}",
        monotone=1,
    ),
    Feature(
        "commute_fit",
        "location",
        f"1 for remote jobs; exp(-km / {ONSITE_RADIUS_KM:g}) on-site, exp(-km /"
        f" {HYBRID_RADIUS_KM:g}) hybrid; {NEUTRAL:g} when a location is missing.",
        0.0,
        1.0,
        "can reach the job's office ({value:.0%} commute fit)",
        unknown_if="location_missing",
        unknown_phrase="commute not scored: a location is missing",
        silent_when=(("job_remote_policy", REMOTE_POLICY_CODE),),
        monotone=1,
    ),
    Feature(
        "timezone_overlap",
        "location",
        f"Shared share of a 9-17 working day between the two UTC offsets (at a fixed"
        f" reference date); {NEUTRAL:g} when a time zone is missing.",
        0.0,
        1.0,
        "shares {value:.0%} of working hours with the team",
        unknown_if="timezone_missing",
        unknown_phrase="working hours not compared: a time zone is missing",
        monotone=1,
    ),
    Feature(
        "timezone_missing",
        "location",
        "1 when the talent or the job has no time zone.",
        0.0,
        1.0,
        "time zone is unknown: {yes_no}",
        reason=False,
    ),
    Feature(
        "salary_iou",
        "salary",
        "Intersection over union of the two salary ranges in USD (a one-sided range is a"
        " point); 0 when either is missing.",
        0.0,
        1.0,
        "salary ranges overlap by {value:.0%}",
        unknown_if="salary_missing",
        unknown_phrase="salaries not compared: a salary range is missing",
        monotone=1,
    ),
    Feature(
        "salary_ratio",
        "salary",
        f"Talent's minimum / job's maximum salary (USD), capped at {SALARY_RATIO_CAP:g};"
        f" 1 when either is missing; against a job paying 0, 1 if the talent asks 0, else"
        f" {SALARY_RATIO_CAP:g}.",
        0.0,
        SALARY_RATIO_CAP,
        "asks for {value:.2f}x the job's top salary",
        unknown_if="salary_missing",
        unknown_phrase="salaries not compared: a salary range is missing",
        monotone=-1,
    ),
    Feature(
        "salary_missing",
        "salary",
        "1 when the talent or the job has no usable salary range.",
        0.0,
        1.0,
        "salary data is missing: {yes_no}",
        reason=False,
    ),
    Feature(
        "industry_match",
        "culture",
        f"1 when the company's industry is one the talent prefers, 0 when not,"
        f" {NEUTRAL:g} when the talent states no preference.",
        0.0,
        1.0,
        "wants to work in this industry: {yes_no}",
        neutral=NEUTRAL,
        neutral_phrase="states no industry preference",
        monotone=1,
    ),
    Feature(
        "company_size_match",
        "culture",
        f"1 when the company's size is one the talent prefers, 0 when not,"
        f" {NEUTRAL:g} without a preference.",
        0.0,
        1.0,
        "prefers companies of this size: {yes_no}",
        neutral=NEUTRAL,
        neutral_phrase="states no company-size preference",
        monotone=1,
    ),
    Feature(
        "work_style_alignment",
        "culture",
        f"Jaccard overlap of talent and company work styles; {NEUTRAL:g} when either lists none.",
        0.0,
        1.0,
        "shares {value:.0%} of the company's work styles",
        silent_when=(("work_style_alignment", NEUTRAL),),
        monotone=1,
    ),
    Feature(
        "semantic_similarity",
        "semantic",
        "Cosine similarity of the two text embeddings; 0 when one is missing.",
        -1.0,
        1.0,
        "profile and job text are {value:.0%} similar",
        unknown_if="semantic_missing",
        unknown_phrase="text similarity not computed",
        monotone=1,
    ),
    Feature(
        "semantic_missing",
        "semantic",
        "1 when no embedding similarity was supplied for the pair.",
        0.0,
        1.0,
        "text similarity is unknown: {yes_no}",
        reason=False,
    ),
    # Attributes of one side that preferences depend on: with them a model
    # retrained on feedback learns what the population prefers ("small
    # companies", "fully remote roles") for entities nobody gave feedback on.
    Feature(
        "required_skill_count",
        "skills",
        f"Number of skills the job requires, capped at {MISSING_REQUIRED_CAP:g}.",
        0.0,
        MISSING_REQUIRED_CAP,
        "the job requires {value:.0f} skill(s)",
        silent_when=(("required_skill_count", 0.0),),
    ),
    Feature(
        "job_level",
        "experience",
        "The job's level on the junior..principal scale (0-4).",
        0.0,
        4.0,
        "{label}-level role",
        labels=tuple(level.value for level in ExperienceLevel),
    ),
    Feature(
        "talent_level",
        "experience",
        "The talent's level on the junior..principal scale (0-4).",
        0.0,
        4.0,
        "{label}-level professional",
        labels=tuple(level.value for level in ExperienceLevel),
    ),
    Feature(
        "talent_years",
        "experience",
        "The talent's years of experience (0-60).",
        0.0,
        60.0,
        "{value:.0f} years of experience",
    ),
    Feature(
        "job_remote_policy",
        "location",
        "The job's remote policy: 0 on-site, 1 hybrid, 2 remote.",
        0.0,
        2.0,
        "{label} role",
        labels=("on-site", "hybrid", "fully remote"),
    ),
    Feature(
        "talent_remote_preference",
        "location",
        "The talent's remote preference: 0 on-site, 1 hybrid, 2 remote, 3 flexible.",
        0.0,
        3.0,
        "{label}",
        labels=(
            "prefers on-site work",
            "prefers hybrid work",
            "prefers remote work",
            "open to any work mode",
        ),
    ),
    Feature(
        "job_salary_k",
        "salary",
        f"Midpoint of the job's salary range in thousands of USD a year, capped at"
        f" {SALARY_K_CAP:g}; {NO_SALARY:g} when the job gives none.",
        NO_SALARY,
        SALARY_K_CAP,
        "pays about ${value:,.0f}k a year",
        silent_when=(("job_salary_k", NO_SALARY),),
    ),
    Feature(
        "talent_salary_k",
        "salary",
        f"The talent's minimum salary in thousands of USD a year, capped at {SALARY_K_CAP:g};"
        f" {NO_SALARY:g} when the talent gives none.",
        NO_SALARY,
        SALARY_K_CAP,
        "asks for about ${value:,.0f}k a year",
        silent_when=(("talent_salary_k", NO_SALARY),),
    ),
    Feature(
        "company_size",
        "culture",
        "The company's size: 0 micro (1-10), 1 small, 2 medium, 3 large, 4 enterprise (1001+).",
        0.0,
        4.0,
        "{label}",
        labels=(
            "micro company",
            "small company",
            "medium-sized company",
            "large company",
            "enterprise company",
        ),
    ),
    Feature(
        "company_industry",
        "culture",
        "The company's industry, as its position in the industry list (0-15).",
        0.0,
        float(len(Industry) - 1),
        "company in {label}",
        labels=tuple(industry.value for industry in Industry),
    ),
)

FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
#: LightGBM interaction groups: a tree uses features of one group only. The
#: text's features form a group of their own, so text similarity adds to a
#: score the same way whatever the structured fields are (as in the fallback);
#: otherwise trees learn text only inside the regions their training pairs
#: covered, and a market unlike them (no skills listed, say) loses the text.
INTERACTION_GROUPS: tuple[tuple[int, ...], ...] = (
    tuple(i for i, f in enumerate(FEATURES) if f.category == "semantic"),
    tuple(i for i, f in enumerate(FEATURES) if f.category != "semantic"),
)
FEATURE_INDEX: Mapping[str, int] = {name: i for i, name in enumerate(FEATURE_NAMES)}
N_FEATURES = len(FEATURES)


def feature(name: str) -> Feature:
    return FEATURES[FEATURE_INDEX[name]]


# --------------------------------------------------------------------------
# Input frames: one row per entity, numpy columns, skills in CSR form.
# --------------------------------------------------------------------------

LEVELS = list(ExperienceLevel)
REMOTE_PREFERENCES = list(RemotePreference)
REMOTE_POLICIES = list(RemotePolicy)
INDUSTRIES = list(Industry)
COMPANY_SIZES = list(CompanySize)
WORK_STYLES = list(WorkStyle)


def bitmask(values: Iterable[str], universe: Sequence[str]) -> int:
    """Set of enum values as an int bitmask (bit i = universe[i])."""
    mask = 0
    for value in values:
        mask |= 1 << universe.index(value)
    return mask


def utc_offset_hours(tz: str | None) -> float:
    """UTC offset of an IANA zone (at OFFSET_REFERENCE) or of a ±HH:MM string; NaN if None."""
    if tz is None:
        return math.nan
    return _offset_hours(tz)


@lru_cache(maxsize=4096)
def _offset_hours(tz: str) -> float:
    if tz[:1] in "+-" and len(tz) == 6 and tz[3] == ":":
        sign = -1.0 if tz[0] == "-" else 1.0
        return sign * (int(tz[1:3]) + int(tz[4:6]) / 60.0)
    offset = OFFSET_REFERENCE.astimezone(ZoneInfo(tz)).utcoffset()
    assert offset is not None
    return offset.total_seconds() / 3600.0


def salary_usd(
    low: float | None, high: float | None, currency: str | None, fx_per_usd: Mapping[str, float]
) -> tuple[float, float]:
    """A salary range in USD, NaN when absent or in a currency without a rate.

    A one-sided range is read as a point (min = max).
    """
    if currency is None or currency not in fx_per_usd or (low is None and high is None):
        return math.nan, math.nan
    rate = fx_per_usd[currency]
    lo = low if low is not None else high
    hi = high if high is not None else low
    assert lo is not None and hi is not None
    return lo / rate, hi / rate


@dataclass(frozen=True)
class SkillMatrix:
    """Skills of n entities in CSR form, sorted by skill id within a row.

    `a` and `b` are the two per-skill values: (proficiency, years) for
    talents, (min_proficiency, required) for jobs.
    """

    indptr: I64
    skill_ids: I64
    a: F64
    b: F64

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[tuple[int, float, float]]]) -> SkillMatrix:
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        ids: list[int] = []
        a: list[float] = []
        b: list[float] = []
        for i, row in enumerate(rows):
            seen: set[int] = set()
            for skill_id, va, vb in sorted(row):
                if skill_id in seen:
                    raise ValueError(f"skill {skill_id} is listed twice for one entity")
                seen.add(skill_id)
                ids.append(skill_id)
                a.append(va)
                b.append(vb)
            indptr[i + 1] = len(ids)
        return cls(
            indptr,
            np.asarray(ids, dtype=np.int64),
            np.asarray(a, dtype=np.float64),
            np.asarray(b, dtype=np.float64),
        )

    @property
    def counts(self) -> I64:
        return np.diff(self.indptr)

    def take(self, rows: I64) -> SkillMatrix:
        """The sub-matrix of the given rows (in that order)."""
        starts = self.indptr[rows]
        lengths = self.indptr[rows + 1] - starts
        entries = _ranges(starts, lengths)
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        return SkillMatrix(indptr, self.skill_ids[entries], self.a[entries], self.b[entries])


def _ranges(starts: I64, lengths: I64) -> I64:
    """Concatenation of arange(s, s + n) for each (s, n), without a Python loop."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(starts, lengths) + (np.arange(total, dtype=np.int64) - offsets)


@dataclass(frozen=True)
class TalentFrame:
    ids: list[UUID]
    level: I64
    years: F64
    lat: F64
    lon: F64
    tz_offset: F64
    remote_preference: I64
    salary_min_usd: F64
    salary_max_usd: F64
    preferred_industries: I64  # bitmask over INDUSTRIES
    preferred_sizes: I64  # bitmask over COMPANY_SIZES
    work_styles: I64  # bitmask over WORK_STYLES
    skills: SkillMatrix  # a = proficiency, b = years

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_profiles(
        cls,
        talents: Sequence[TalentProfile],
        fx_per_usd: Mapping[str, float],
        skill_ids: Mapping[str, int] | None = None,
    ) -> TalentFrame:
        salaries = [
            salary_usd(t.salary_min, t.salary_max, t.salary_currency, fx_per_usd) for t in talents
        ]
        return cls(
            ids=[t.id for t in talents],
            level=np.array([LEVELS.index(t.experience_level) for t in talents], dtype=np.int64),
            years=np.array([t.years_experience for t in talents], dtype=np.float64),
            lat=_floats(t.latitude for t in talents),
            lon=_floats(t.longitude for t in talents),
            tz_offset=np.array([utc_offset_hours(t.timezone) for t in talents], dtype=np.float64),
            remote_preference=np.array(
                [REMOTE_PREFERENCES.index(t.remote_preference) for t in talents], dtype=np.int64
            ),
            salary_min_usd=np.array([s[0] for s in salaries], dtype=np.float64),
            salary_max_usd=np.array([s[1] for s in salaries], dtype=np.float64),
            preferred_industries=np.array(
                [bitmask(t.preferred_industries, INDUSTRIES) for t in talents], dtype=np.int64
            ),
            preferred_sizes=np.array(
                [bitmask(t.preferred_company_sizes, COMPANY_SIZES) for t in talents],
                dtype=np.int64,
            ),
            work_styles=np.array(
                [bitmask(t.work_styles, WORK_STYLES) for t in talents], dtype=np.int64
            ),
            skills=SkillMatrix.from_rows(
                [
                    [
                        (
                            _skill_id(s.skill_id, s.name, skill_ids),
                            float(s.proficiency or 0),
                            float(s.years),
                        )
                        for s in t.skills
                    ]
                    for t in talents
                ]
            ),
        )

    def take(self, rows: I64) -> TalentFrame:
        return TalentFrame(
            ids=[self.ids[i] for i in rows],
            **{name: getattr(self, name)[rows] for name in _TALENT_ARRAYS},
            skills=self.skills.take(rows),
        )


_TALENT_ARRAYS = (
    "level", "years", "lat", "lon", "tz_offset", "remote_preference", "salary_min_usd",
    "salary_max_usd", "preferred_industries", "preferred_sizes", "work_styles",
)  # fmt: skip


@dataclass(frozen=True)
class JobFrame:
    ids: list[UUID]
    level: I64
    min_years: F64
    max_years: F64  # NaN when open-ended
    lat: F64
    lon: F64
    tz_offset: F64
    remote_policy: I64
    salary_min_usd: F64
    salary_max_usd: F64
    industry: I64  # index into INDUSTRIES
    company_size: I64  # index into COMPANY_SIZES
    work_styles: I64  # bitmask over WORK_STYLES
    skills: SkillMatrix  # a = min_proficiency, b = required (1/0)

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_postings(
        cls,
        jobs: Sequence[JobPosting],
        fx_per_usd: Mapping[str, float],
        skill_ids: Mapping[str, int] | None = None,
    ) -> JobFrame:
        salaries = [
            salary_usd(j.salary_min, j.salary_max, j.salary_currency, fx_per_usd) for j in jobs
        ]
        return cls(
            ids=[j.id for j in jobs],
            level=np.array([LEVELS.index(j.experience_level) for j in jobs], dtype=np.int64),
            min_years=np.array([j.min_years for j in jobs], dtype=np.float64),
            max_years=_floats(j.max_years for j in jobs),
            lat=_floats(j.latitude for j in jobs),
            lon=_floats(j.longitude for j in jobs),
            tz_offset=np.array([utc_offset_hours(j.timezone) for j in jobs], dtype=np.float64),
            remote_policy=np.array(
                [REMOTE_POLICIES.index(j.remote_policy) for j in jobs], dtype=np.int64
            ),
            salary_min_usd=np.array([s[0] for s in salaries], dtype=np.float64),
            salary_max_usd=np.array([s[1] for s in salaries], dtype=np.float64),
            industry=np.array([INDUSTRIES.index(j.company_industry) for j in jobs], dtype=np.int64),
            company_size=np.array(
                [COMPANY_SIZES.index(j.company_size) for j in jobs], dtype=np.int64
            ),
            work_styles=np.array(
                [bitmask(j.company_work_styles, WORK_STYLES) for j in jobs], dtype=np.int64
            ),
            skills=SkillMatrix.from_rows(
                [
                    [
                        (
                            _skill_id(s.skill_id, s.name, skill_ids),
                            float(s.min_proficiency),
                            1.0 if s.required else 0.0,
                        )
                        for s in j.skills
                    ]
                    for j in jobs
                ]
            ),
        )

    def take(self, rows: I64) -> JobFrame:
        return JobFrame(
            ids=[self.ids[i] for i in rows],
            **{name: getattr(self, name)[rows] for name in _JOB_ARRAYS},
            skills=self.skills.take(rows),
        )


_JOB_ARRAYS = (
    "level", "min_years", "max_years", "lat", "lon", "tz_offset", "remote_policy",
    "salary_min_usd", "salary_max_usd", "industry", "company_size", "work_styles",
)  # fmt: skip


def _floats(values: Iterable[float | None]) -> F64:
    return np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)


def _skill_id(skill_id: int | None, name: str, skill_ids: Mapping[str, int] | None) -> int:
    if skill_id is not None:
        return skill_id
    if skill_ids is not None and name.lower() in skill_ids:
        return skill_ids[name.lower()]
    raise ValueError(f"skill {name!r} has no id and is not in the skill vocabulary")


# --------------------------------------------------------------------------
# Extraction.
# --------------------------------------------------------------------------


def extract_features(
    anchor: TalentFrame | JobFrame,
    candidates: JobFrame | TalentFrame,
    semantic: F64 | None = None,
    *,
    dtype: type[np.floating[Any]] = np.float32,
) -> NDArray[np.floating[Any]]:
    """Features of one entity against many candidates: (len(candidates), N_FEATURES).

    `anchor` holds exactly one row. `semantic` (cosine similarities, NaN
    where unknown) is aligned with `candidates`.
    """
    if len(anchor) != 1:
        raise ValueError(f"the anchor frame must hold one entity, not {len(anchor)}")
    n = len(candidates)
    same = np.zeros(n, dtype=np.int64)
    every = np.arange(n, dtype=np.int64)
    if isinstance(anchor, TalentFrame) and isinstance(candidates, JobFrame):
        return extract_pair_features(anchor, candidates, same, every, semantic, dtype=dtype)
    if isinstance(anchor, JobFrame) and isinstance(candidates, TalentFrame):
        return extract_pair_features(candidates, anchor, every, same, semantic, dtype=dtype)
    raise TypeError("extract_features compares a talent with jobs or a job with talents")


# The overload tells the checker that asking for float64 (the fallback scorer's
# parity with SQL) gives float64 back; any other dtype stays generic.
@overload
def extract_pair_features(
    talents: TalentFrame,
    jobs: JobFrame,
    talent_rows: I64,
    job_rows: I64,
    semantic: F64 | None = None,
    *,
    dtype: type[np.float64],
) -> F64: ...


@overload
def extract_pair_features(
    talents: TalentFrame,
    jobs: JobFrame,
    talent_rows: I64,
    job_rows: I64,
    semantic: F64 | None = None,
    *,
    dtype: type[np.floating[Any]] = ...,
) -> NDArray[np.floating[Any]]: ...


def extract_pair_features(
    talents: TalentFrame,
    jobs: JobFrame,
    talent_rows: I64,
    job_rows: I64,
    semantic: F64 | None = None,
    *,
    dtype: type[np.floating[Any]] = np.float32,
) -> NDArray[np.floating[Any]]:
    """Features of many (talent, job) pairs at once: pair k is
    (talents[talent_rows[k]], jobs[job_rows[k]])."""
    talent_rows = np.asarray(talent_rows, dtype=np.int64)
    job_rows = np.asarray(job_rows, dtype=np.int64)
    if talent_rows.shape != job_rows.shape or talent_rows.ndim != 1:
        raise ValueError("talent_rows and job_rows must be 1-D arrays of the same length")
    n = len(talent_rows)
    if semantic is None:
        semantic = np.full(n, np.nan)
    semantic = np.asarray(semantic, dtype=np.float64)
    if semantic.shape != (n,):
        raise ValueError(f"semantic must hold one value per pair ({n}), not {semantic.shape}")

    out = np.empty((n, N_FEATURES), dtype=np.float64)
    columns = {
        **_skill_features(talents.skills, jobs.skills, talent_rows, job_rows),
        **_experience_features(talents, jobs, talent_rows, job_rows),
        **_location_features(talents, jobs, talent_rows, job_rows),
        **_salary_features(talents, jobs, talent_rows, job_rows),
        **_culture_features(talents, jobs, talent_rows, job_rows),
        **_semantic_features(semantic),
    }
    for name, values in columns.items():
        out[:, FEATURE_INDEX[name]] = values
    return out.astype(dtype, copy=False)


def _skill_features(tskills: SkillMatrix, jskills: SkillMatrix, ti: I64, ji: I64) -> dict[str, F64]:
    n = len(ti)
    # One entry per (pair, job skill): look the talent's value for that skill up
    # by binary search over (talent row, skill id) keys.
    jstarts = jskills.indptr[ji]
    jcount = jskills.indptr[ji + 1] - jstarts
    entries = _ranges(jstarts, jcount)
    pair = np.repeat(np.arange(n, dtype=np.int64), jcount)
    skill = jskills.skill_ids[entries]
    min_prof = jskills.a[entries]
    required = jskills.b[entries]

    width = int(max(tskills.skill_ids.max(initial=0), jskills.skill_ids.max(initial=0))) + 1
    talent_of_entry = np.repeat(np.arange(len(tskills.indptr) - 1, dtype=np.int64), tskills.counts)
    tkeys = talent_of_entry * width + tskills.skill_ids  # sorted: rows, then ids
    wanted = ti[pair] * width + skill
    if len(tkeys):
        pos = np.minimum(np.searchsorted(tkeys, wanted), len(tkeys) - 1)
        has = tkeys[pos] == wanted
        tprof = np.where(has, tskills.a[pos], 0.0)
        tyears = np.where(has, tskills.b[pos], 0.0)
    else:
        has = np.zeros(len(wanted), dtype=bool)
        tprof = tyears = np.zeros(len(wanted))

    def per_pair(weights: F64) -> F64:
        return np.bincount(pair, weights=weights, minlength=n).astype(np.float64)

    shared = per_pair(has.astype(np.float64))
    n_job = jcount.astype(np.float64)
    n_talent = tskills.counts[ti].astype(np.float64)
    union = n_job + n_talent - shared
    n_required = per_pair(required)
    covered_required = per_pair(required * has)
    alignment = per_pair(np.where(has, np.minimum(1.0, tprof / np.maximum(min_prof, 1.0)), 0.0))
    years_score = np.minimum(1.0, tyears / SKILL_YEARS_FULL)
    # required skills if any, else every job skill
    use_all = n_required == 0
    weight = np.where(use_all[pair], 1.0, required)
    years_sum = per_pair(weight * years_score)
    years_den = np.where(use_all, n_job, n_required)

    return {
        "skill_jaccard": _div(shared, union, 0.0),
        "required_coverage": _div(covered_required, n_required, 1.0),
        "proficiency_alignment": _div(alignment, shared, 0.0),
        "skill_years_score": _div(years_sum, years_den, 0.0),
        "missing_required_count": np.minimum(n_required - covered_required, MISSING_REQUIRED_CAP),
        "skills_missing": ((n_job == 0) | (n_talent == 0)).astype(np.float64),
        "required_skill_count": np.minimum(n_required, MISSING_REQUIRED_CAP),
    }


def _div(num: F64, den: F64, empty: float) -> F64:
    """num / den, with `empty` where den is 0 (no warnings, no NaN)."""
    safe = np.where(den > 0, den, 1.0)
    return np.where(den > 0, num / safe, empty)


def _experience_features(t: TalentFrame, j: JobFrame, ti: I64, ji: I64) -> dict[str, F64]:
    tl = t.level[ti].astype(np.float64)
    jl = j.level[ji].astype(np.float64)
    years = t.years[ti]
    lo = j.min_years[ji]
    hi = np.where(np.isnan(j.max_years[ji]), lo + 10.0, j.max_years[ji])
    outside = np.maximum(lo - years, 0.0) + np.maximum(years - hi, 0.0)
    over_years = np.maximum(years - hi, 0.0) / 10.0
    under_years = np.maximum(lo - years, 0.0) / np.maximum(lo, 1.0)
    return {
        "level_match": (tl == jl).astype(np.float64),
        "level_distance": np.abs(tl - jl),
        "years_ratio": np.minimum(years / np.maximum(lo, 0.5), YEARS_RATIO_CAP),
        "seniority_alignment": np.maximum(0.0, 1.0 - 0.2 * outside),
        "overqualified_penalty": np.minimum(
            1.0, np.maximum(np.maximum(tl - jl, 0.0) / 2.0, over_years)
        ),
        "underqualified_penalty": np.minimum(
            1.0, np.maximum(np.maximum(jl - tl, 0.0) / 2.0, under_years)
        ),
        "job_level": jl,
        "talent_level": tl,
        "talent_years": np.clip(years, 0.0, 60.0),
    }


def haversine_km(lat1: F64, lon1: F64, lat2: F64, lon2: F64) -> F64:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat = p2 - p1
    dlon = np.radians(lon2 - lon1)
    h: F64 = np.sin(dlat / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def timezone_overlap(offset_a: F64, offset_b: F64) -> F64:
    """Shared hours of two 9-17 days on a 24 h clock, as a share of the day."""
    diff = np.mod(np.abs(offset_a - offset_b), 24.0)
    diff = np.minimum(diff, 24.0 - diff)
    return np.maximum(0.0, WORKDAY_HOURS - diff) / WORKDAY_HOURS


def _location_features(t: TalentFrame, j: JobFrame, ti: I64, ji: I64) -> dict[str, F64]:
    tlat, tlon, jlat, jlon = t.lat[ti], t.lon[ti], j.lat[ji], j.lon[ji]
    missing = np.isnan(tlat) | np.isnan(tlon) | np.isnan(jlat) | np.isnan(jlon)
    km = np.where(
        missing,
        0.0,
        haversine_km(
            np.nan_to_num(tlat), np.nan_to_num(tlon), np.nan_to_num(jlat), np.nan_to_num(jlon)
        ),
    )
    km = np.minimum(km, MAX_DISTANCE_KM)
    policy = j.remote_policy[ji]
    radius = np.where(
        policy == REMOTE_POLICIES.index(RemotePolicy.HYBRID), HYBRID_RADIUS_KM, ONSITE_RADIUS_KM
    )
    commute = np.where(
        policy == REMOTE_POLICIES.index(RemotePolicy.REMOTE),
        1.0,
        np.where(missing, NEUTRAL, np.exp(-km / radius)),
    )
    tz_a, tz_b = t.tz_offset[ti], j.tz_offset[ji]
    tz_missing = np.isnan(tz_a) | np.isnan(tz_b)
    overlap = np.where(
        tz_missing, NEUTRAL, timezone_overlap(np.nan_to_num(tz_a), np.nan_to_num(tz_b))
    )
    return {
        "distance_km": km,
        "location_missing": missing.astype(np.float64),
        "remote_compatibility": REMOTE_COMPATIBILITY[t.remote_preference[ti], policy],
        "commute_fit": commute,
        "timezone_overlap": overlap,
        "timezone_missing": tz_missing.astype(np.float64),
        "job_remote_policy": policy.astype(np.float64),
        "talent_remote_preference": t.remote_preference[ti].astype(np.float64),
    }


def _salary_k(usd: F64) -> F64:
    """USD a year as the salary-level features read it: thousands, capped, -1 if absent."""
    return np.where(np.isnan(usd), NO_SALARY, np.minimum(np.nan_to_num(usd) / 1000.0, SALARY_K_CAP))


def _salary_features(t: TalentFrame, j: JobFrame, ti: I64, ji: I64) -> dict[str, F64]:
    tmin, tmax = t.salary_min_usd[ti], t.salary_max_usd[ti]
    jmin, jmax = j.salary_min_usd[ji], j.salary_max_usd[ji]
    levels = {
        "job_salary_k": _salary_k((jmin + jmax) / 2.0),
        "talent_salary_k": _salary_k(tmin),
    }
    missing = np.isnan(tmin) | np.isnan(tmax) | np.isnan(jmin) | np.isnan(jmax)
    tmin, tmax, jmin, jmax = (np.nan_to_num(x) for x in (tmin, tmax, jmin, jmax))
    inter = np.maximum(0.0, np.minimum(tmax, jmax) - np.maximum(tmin, jmin))
    union = np.maximum(tmax, jmax) - np.minimum(tmin, jmin)
    # two identical point ranges (min = max) overlap completely
    iou = np.where(
        union > 0, inter / np.where(union > 0, union, 1.0), (tmin == jmin).astype(np.float64)
    )
    # a job paying 0 is out of reach unless the talent also asks for 0
    zero_pay = np.where(tmin > 0, SALARY_RATIO_CAP, 1.0)
    ratio = np.minimum(
        np.where(jmax > 0, tmin / np.where(jmax > 0, jmax, 1.0), zero_pay), SALARY_RATIO_CAP
    )
    return {
        "salary_iou": np.where(missing, 0.0, iou),
        "salary_ratio": np.where(missing, 1.0, ratio),
        "salary_missing": missing.astype(np.float64),
        **levels,
    }


def _popcount(x: I64) -> F64:
    counts = np.zeros(x.shape, dtype=np.float64)
    x = x.copy()
    while np.any(x):
        counts += x & 1
        x >>= 1
    return counts


def _preference(mask: I64, value_index: I64) -> F64:
    hit = ((mask >> value_index) & 1).astype(np.float64)
    return np.where(mask == 0, NEUTRAL, hit)


def _culture_features(t: TalentFrame, j: JobFrame, ti: I64, ji: I64) -> dict[str, F64]:
    ts, js = t.work_styles[ti], j.work_styles[ji]
    inter = _popcount(ts & js)
    union = _popcount(ts | js)
    either_empty = (ts == 0) | (js == 0)
    return {
        "industry_match": _preference(t.preferred_industries[ti], j.industry[ji]),
        "company_size_match": _preference(t.preferred_sizes[ti], j.company_size[ji]),
        "work_style_alignment": np.where(either_empty, NEUTRAL, _div(inter, union, NEUTRAL)),
        "company_size": j.company_size[ji].astype(np.float64),
        "company_industry": j.industry[ji].astype(np.float64),
    }


def _semantic_features(semantic: F64) -> dict[str, F64]:
    missing = np.isnan(semantic)
    return {
        "semantic_similarity": np.where(missing, 0.0, np.clip(np.nan_to_num(semantic), -1.0, 1.0)),
        "semantic_missing": missing.astype(np.float64),
    }

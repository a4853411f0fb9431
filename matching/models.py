"""Boundary types: everything that enters or leaves the engine is one of these.

The database is the final authority (every rule is a CHECK or a type, see
migrations/), but rejecting bad input here gives callers a readable error
instead of a constraint violation half-way through a transaction. So each
limit below mirrors a CHECK in a table migration (migrations/*_talents.sql,
*_companies.sql, *_jobs.sql, *_settings_and_reference_data.sql, *_matches.sql,
*_feedback.sql), and each enum mirrors a
Postgres enum type; a DB test binds the two through `PG_ENUMS`,
`TEXT_LIMITS`, `ARRAY_LIMITS` and `NUMBER_RANGES`.

Text is sanitised before it is measured: control characters are removed
(the DB rejects them in single-line columns) and surrounding whitespace is
stripped, so a limit is checked on what would actually be stored.
"""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any, Literal, Self, TypeVar
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    computed_field,
    model_validator,
)

# --------------------------------------------------------------------------
# Limits. One place, named after what they limit; the values are the DB's.
# --------------------------------------------------------------------------

HEADLINE_MAX = 200  # talents.headline
BIO_MAX = 5000  # talents.bio
TITLE_MAX = 200  # jobs.title
DESCRIPTION_MAX = 10_000  # jobs.description
CITY_MAX = 100  # talents.city, jobs.city
SKILL_NAME_MAX = 100  # skills.name
SKILL_CATEGORY_MAX = 50  # skills.category: ^[a-z][a-z0-9_]{0,49}$
COMPANY_NAME_MAX = 200  # companies.name
COMPANY_DESCRIPTION_MAX = 5000  # companies.description
COMPANY_VALUE_MAX = 40  # each item of companies.values
COMPANY_VALUES_MAX = 10  # cardinality(companies.values)
WEBSITE_REST_MAX = 250  # companies.website: ^https?://[^[:space:]]{1,250}$
WORK_STYLES_MAX = 8  # cardinality(talents.work_styles), companies.work_styles
PREFERRED_INDUSTRIES_MAX = 16  # cardinality(talents.preferred_industries)
PREFERRED_COMPANY_SIZES_MAX = 5  # cardinality(talents.preferred_company_sizes)
SKILLS_MAX = 100  # skills per profile or posting (API limit; no DB CHECK)
YEARS_MAX = 60  # years_experience, min_years, max_years, talent_skills.years
SALARY_MAX = 1_000_000_000  # yearly, whole units; high enough for IDR, KRW, VND
PROFICIENCY_MIN = 1  # talent_skills.proficiency, job_skills.min_proficiency
PROFICIENCY_MAX = 5
DEFAULT_MIN_PROFICIENCY = 3  # job_skills.min_proficiency default
LATITUDE_MAX = 90.0
LONGITUDE_MAX = 180.0
TZ_OFFSET_MIN_MINUTES = -12 * 60  # matching.is_valid_timezone: -12:00
TZ_OFFSET_MAX_MINUTES = 14 * 60  # ... up to +14:00
SCORE_MAX = 100.0  # matches.score, match_feedback.score
MODEL_VERSION_MAX = 64  # model_versions.version: ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$
FEATURES_MAX = 500  # cardinality(matches.features)
LIMIT_DEFAULT = 20  # matches returned per request
LIMIT_MAX = 100
TOP_FACTORS_MAX = 3  # reasons shown per match
FEATURE_NAME_MAX = 100  # a model feature name in an explanation
FACTOR_SENTENCE_MAX = 500  # a human sentence explaining one factor

#: "table.column" -> maximum char_length, for the DB parity test.
TEXT_LIMITS: dict[str, int] = {
    "skills.name": SKILL_NAME_MAX,
    "companies.name": COMPANY_NAME_MAX,
    "companies.description": COMPANY_DESCRIPTION_MAX,
    "talents.headline": HEADLINE_MAX,
    "talents.bio": BIO_MAX,
    "talents.city": CITY_MAX,
    "jobs.title": TITLE_MAX,
    "jobs.description": DESCRIPTION_MAX,
    "jobs.city": CITY_MAX,
}

#: "table.column" -> maximum cardinality of an array column.
ARRAY_LIMITS: dict[str, int] = {
    "companies.work_styles": WORK_STYLES_MAX,
    "companies.values": COMPANY_VALUES_MAX,
    "talents.preferred_industries": PREFERRED_INDUSTRIES_MAX,
    "talents.preferred_company_sizes": PREFERRED_COMPANY_SIZES_MAX,
    "talents.work_styles": WORK_STYLES_MAX,
    "matches.features": FEATURES_MAX,
}

#: "table.column" -> inclusive (min, max) of a numeric column.
NUMBER_RANGES: dict[str, tuple[float, float]] = {
    "talents.years_experience": (0, YEARS_MAX),
    "talents.latitude": (-LATITUDE_MAX, LATITUDE_MAX),
    "talents.longitude": (-LONGITUDE_MAX, LONGITUDE_MAX),
    "talents.salary_min": (0, SALARY_MAX),
    "talents.salary_max": (0, SALARY_MAX),
    "jobs.min_years": (0, YEARS_MAX),
    "jobs.max_years": (0, YEARS_MAX),
    "jobs.latitude": (-LATITUDE_MAX, LATITUDE_MAX),
    "jobs.longitude": (-LONGITUDE_MAX, LONGITUDE_MAX),
    "jobs.salary_min": (0, SALARY_MAX),
    "jobs.salary_max": (0, SALARY_MAX),
    "talent_skills.proficiency": (PROFICIENCY_MIN, PROFICIENCY_MAX),
    "talent_skills.years": (0, YEARS_MAX),
    "job_skills.min_proficiency": (PROFICIENCY_MIN, PROFICIENCY_MAX),
    "matches.score": (0, SCORE_MAX),
    "match_feedback.score": (0, SCORE_MAX),
}

# Same patterns as the CHECKs. Matched with re.fullmatch, so `$` cannot
# accept a trailing newline the way it would with re.match.
SKILL_CATEGORY_PATTERN = r"[a-z][a-z0-9_]{0,49}"
COUNTRY_CODE_PATTERN = r"[A-Z]{2}"
CURRENCY_PATTERN = r"[A-Z]{3}"
MODEL_VERSION_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
WEBSITE_PATTERN = r"https?://\S{1,250}"
_TZ_OFFSET_PATTERN = r"([+-])([0-9]{2}):([0-5][0-9])"
_TZ_NAME_PATTERN = r"UTC|[A-Z][A-Za-z_]+(/[A-Za-z0-9_+-]+){1,2}"


# --------------------------------------------------------------------------
# Enumerations, value for value the Postgres enum types (order included:
# experience_level and company_size are ordinal in SQL too).
# --------------------------------------------------------------------------


class ExperienceLevel(StrEnum):
    """public.experience_level, junior < ... < principal."""

    JUNIOR = "junior"
    MID = "mid"
    SENIOR = "senior"
    LEAD = "lead"
    PRINCIPAL = "principal"

    @property
    def rank(self) -> int:
        """0-based position, the same order Postgres compares enum values in."""
        return list(type(self)).index(self)


class RemotePreference(StrEnum):
    """public.remote_preference: what a talent accepts (flexible = any)."""

    ONSITE = "onsite"
    HYBRID = "hybrid"
    REMOTE = "remote"
    FLEXIBLE = "flexible"


class RemotePolicy(StrEnum):
    """public.remote_policy: how a job is worked."""

    ONSITE = "onsite"
    HYBRID = "hybrid"
    REMOTE = "remote"


class JobStatus(StrEnum):
    """public.job_status; only open jobs are matched."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class CompanySize(StrEnum):
    """public.company_size: micro 1-10, small 11-50, medium 51-250, large 251-1000,
    enterprise 1001+ employees."""

    MICRO = "micro"
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"
    ENTERPRISE = "enterprise"

    @property
    def rank(self) -> int:
        """0-based position, the same order Postgres compares enum values in."""
        return list(type(self)).index(self)


class Industry(StrEnum):
    """public.industry."""

    SOFTWARE = "software"
    FINTECH = "fintech"
    FINANCE = "finance"
    HEALTHCARE = "healthcare"
    BIOTECH = "biotech"
    ECOMMERCE = "ecommerce"
    RETAIL = "retail"
    MEDIA = "media"
    GAMING = "gaming"
    EDUCATION = "education"
    MANUFACTURING = "manufacturing"
    ENERGY = "energy"
    LOGISTICS = "logistics"
    CONSULTING = "consulting"
    GOVERNMENT = "government"
    NONPROFIT = "nonprofit"


class WorkStyle(StrEnum):
    """public.work_style: culture traits shared by talents and companies."""

    REMOTE_FIRST = "remote_first"
    ASYNC = "async"
    OFFICE_CENTRIC = "office_centric"
    FLEXIBLE_HOURS = "flexible_hours"
    COLLABORATIVE = "collaborative"
    AUTONOMOUS = "autonomous"
    STRUCTURED = "structured"
    FAST_PACED = "fast_paced"


class MemberRole(StrEnum):
    """public.member_role: a user's role in a company."""

    OWNER = "owner"
    ADMIN = "admin"
    RECRUITER = "recruiter"


class MatchSource(StrEnum):
    """public.match_source: the LightGBM model, or the rule-based fallback."""

    ML = "ml"
    FALLBACK = "fallback"


class FeedbackActor(StrEnum):
    """public.feedback_actor: which side of a match gave the feedback."""

    TALENT = "talent"
    COMPANY = "company"


class FeedbackType(StrEnum):
    """public.feedback_type; the first three come from talents, the rest from companies."""

    APPLIED = "applied"
    INTERESTED = "interested"
    DISMISSED = "dismissed"
    CONTACTED = "contacted"
    SHORTLISTED = "shortlisted"
    REJECTED = "rejected"

    @property
    def actor(self) -> FeedbackActor:
        """The only actor the DB accepts for this type (match_feedback_actor_matches_type)."""
        return FEEDBACK_ACTOR[self]


#: Mirrors the CHECK match_feedback_actor_matches_type.
FEEDBACK_ACTOR: dict[FeedbackType, FeedbackActor] = {
    FeedbackType.APPLIED: FeedbackActor.TALENT,
    FeedbackType.INTERESTED: FeedbackActor.TALENT,
    FeedbackType.DISMISSED: FeedbackActor.TALENT,
    FeedbackType.CONTACTED: FeedbackActor.COMPANY,
    FeedbackType.SHORTLISTED: FeedbackActor.COMPANY,
    FeedbackType.REJECTED: FeedbackActor.COMPANY,
}


class ScoreCategory(StrEnum):
    """The sub-scores an explanation reports (not a Postgres type)."""

    SKILLS = "skills"
    EXPERIENCE = "experience"
    LOCATION = "location"
    SALARY = "salary"
    CULTURE = "culture"
    SEMANTIC = "semantic"


#: Postgres type name -> StrEnum, so a DB test can compare the value lists.
PG_ENUMS: dict[str, type[StrEnum]] = {
    "public.experience_level": ExperienceLevel,
    "public.remote_preference": RemotePreference,
    "public.remote_policy": RemotePolicy,
    "public.job_status": JobStatus,
    "public.company_size": CompanySize,
    "public.industry": Industry,
    "public.work_style": WorkStyle,
    "public.member_role": MemberRole,
    "public.match_source": MatchSource,
    "public.feedback_type": FeedbackType,
    "public.feedback_actor": FeedbackActor,
}

#: How talents can be ordered for a job: the overall score or one sub-score a
#: company sees (get_job_matches' p_sort; culture is the talent's preference fit,
#: which companies never see). tests/db/test_clientgen.py binds it to the SQL.
SortKey = Literal["score", "skills", "experience", "location", "salary", "semantic"]


# --------------------------------------------------------------------------
# Sanitisers and validators. Before-validators pass non-strings through
# untouched so pydantic's own type error is what the caller sees.
# --------------------------------------------------------------------------

# Characters the DB's [[:cntrl:]] may match: C0, DEL, C1 (Cc), plus the
# Unicode line/paragraph separators that glibc also classes as cntrl.
# Lone surrogates (Cs) cannot be encoded to UTF-8 at all.
_T = TypeVar("_T")
_CONTROL_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
_WHITESPACE_RUN = re.compile(r"\s+")
_LINE_BREAK = re.compile(r"\r\n|[\r\v\f\x1c-\x1e\x85\u2028\u2029]")


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in _CONTROL_CATEGORIES


def clean_single_line(value: str) -> str:
    """Sanitise a one-line label (headline, title, name, city).

    Control characters that are whitespace (tab, newline, ...) become spaces,
    every other control character is removed, runs of whitespace collapse to
    one space and the ends are stripped: such labels are shown in lists and
    embedded, where a line break or a run of blanks carries no meaning.
    """
    # printable text holds no control character (Cc, Cs, Zl and Zp are all
    # non-printable): skip the per-character scan, the hot path's common case
    # (every explanation's reasons pass here)
    if not value.isprintable():
        value = "".join(ch for ch in value if ch.isspace() or not _is_control(ch))
    elif "  " not in value and value[:1] != " " and value[-1:] != " ":
        # printable text's only whitespace is the ASCII space: already clean
        return value
    return _WHITESPACE_RUN.sub(" ", value).strip()


def clean_multi_line(value: str) -> str:
    """Sanitise free text (bio, description): keep newlines and tabs only.

    Line breaks of any convention become "\\n" first, so a Windows "\\r\\n" or
    a Unicode paragraph separator is kept as a line break rather than lost.
    """
    value = _LINE_BREAK.sub("\n", value)
    value = "".join(ch for ch in value if ch in "\n\t" or not _is_control(ch))
    return value.strip()


def _single_line(value: Any) -> Any:
    return clean_single_line(value) if isinstance(value, str) else value


def _multi_line(value: Any) -> Any:
    return clean_multi_line(value) if isinstance(value, str) else value


def _stripped(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _upper_code(value: Any) -> Any:
    # ASCII only: "ß".upper() is "SS", which would pass for a country code.
    if isinstance(value, str) and value.strip().isascii():
        return value.strip().upper()
    return value


def _lower_code(value: Any) -> Any:
    if isinstance(value, str) and value.strip().isascii():
        return value.strip().lower()
    return value


def _matches(pattern: str, what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if re.fullmatch(pattern, value) is None:
            raise ValueError(f"{what} must match ^{pattern}$")
        return value

    return check


def is_valid_timezone(tz: str) -> bool:
    """Python twin of the SQL function matching.is_valid_timezone.

    Accepts a fixed offset ±HH:MM between -12:00 and +14:00, or "UTC", or an
    Area/Location IANA name that the zone database knows, in its exact
    canonical spelling (Europe/PARIS is refused on both sides: the SQL rule
    reads matching.iana_timezones, which a test checks against zoneinfo).
    Single-word aliases (EST, GMT, Japan) are refused, as in SQL, because
    their meaning is ambiguous or deprecated.
    """
    offset = re.fullmatch(_TZ_OFFSET_PATTERN, tz)
    if offset is not None:
        sign = -1 if offset.group(1) == "-" else 1
        minutes = sign * (int(offset.group(2)) * 60 + int(offset.group(3)))
        return TZ_OFFSET_MIN_MINUTES <= minutes <= TZ_OFFSET_MAX_MINUTES
    if re.fullmatch(_TZ_NAME_PATTERN, tz) is None:
        return False
    # exact spelling: on a case-insensitive file system ZoneInfo("Europe/PARIS")
    # would load, and Postgres ignores case; neither is the canonical name
    if tz not in _canonical_zones():
        return False
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


@lru_cache(maxsize=1)
def _canonical_zones() -> frozenset[str]:
    """The zone names zoneinfo knows, in their canonical spelling (cached: a disk scan)."""
    return frozenset(zoneinfo.available_timezones())


def _check_timezone(value: str) -> str:
    if not is_valid_timezone(value):
        raise ValueError(
            "timezone must be an IANA name such as Europe/Berlin, or UTC, "
            "or an offset ±HH:MM between -12:00 and +14:00"
        )
    return value


def _unique(items: list[_T]) -> list[_T]:
    """Drop repeated enum values, keeping first-seen order: a set in spirit."""
    return list(dict.fromkeys(items))


def _check_salary(low: int | None, high: int | None, currency: str | None) -> None:
    if low is not None and high is not None and low > high:
        raise ValueError("salary_min must not exceed salary_max")
    if (low is not None or high is not None) and currency is None:
        raise ValueError("salary_currency is required when a salary is given")


def _check_coordinates(latitude: float | None, longitude: float | None) -> None:
    if (latitude is None) != (longitude is None):
        raise ValueError("latitude and longitude must be given together")


# --------------------------------------------------------------------------
# Reusable field types.
# --------------------------------------------------------------------------

# Annotation order matters: a constraint listed before a BeforeValidator is
# checked on the sanitised value, and reports "string_too_long" (characters).
Headline = Annotated[
    str, Field(min_length=1, max_length=HEADLINE_MAX), BeforeValidator(_single_line)
]
Title = Annotated[str, Field(min_length=1, max_length=TITLE_MAX), BeforeValidator(_single_line)]
Bio = Annotated[str, Field(max_length=BIO_MAX), BeforeValidator(_multi_line)]
Description = Annotated[str, Field(max_length=DESCRIPTION_MAX), BeforeValidator(_multi_line)]
City = Annotated[str, Field(min_length=1, max_length=CITY_MAX), BeforeValidator(_single_line)]
SkillName = Annotated[
    str, Field(min_length=1, max_length=SKILL_NAME_MAX), BeforeValidator(_single_line)
]
SkillCategory = Annotated[
    str,
    BeforeValidator(_lower_code),
    AfterValidator(_matches(SKILL_CATEGORY_PATTERN, "category")),
]
CompanyName = Annotated[
    str, Field(min_length=1, max_length=COMPANY_NAME_MAX), BeforeValidator(_single_line)
]
CompanyDescription = Annotated[
    str, Field(max_length=COMPANY_DESCRIPTION_MAX), BeforeValidator(_multi_line)
]
CompanyValue = Annotated[
    str, Field(min_length=1, max_length=COMPANY_VALUE_MAX), BeforeValidator(_single_line)
]
Website = Annotated[
    str, BeforeValidator(_single_line), AfterValidator(_matches(WEBSITE_PATTERN, "website"))
]
CountryCode = Annotated[
    str,
    BeforeValidator(_upper_code),
    AfterValidator(_matches(COUNTRY_CODE_PATTERN, "country_code")),
]
Currency = Annotated[
    str,
    BeforeValidator(_upper_code),
    AfterValidator(_matches(CURRENCY_PATTERN, "salary_currency")),
]
Timezone = Annotated[str, BeforeValidator(_stripped), AfterValidator(_check_timezone)]
ModelVersion = Annotated[
    str,
    BeforeValidator(_stripped),
    AfterValidator(_matches(MODEL_VERSION_PATTERN, "model_version")),
]
Latitude = Annotated[float, Field(ge=-LATITUDE_MAX, le=LATITUDE_MAX)]
Longitude = Annotated[float, Field(ge=-LONGITUDE_MAX, le=LONGITUDE_MAX)]
Years = Annotated[float, Field(ge=0, le=YEARS_MAX)]
Salary = Annotated[int, Field(ge=0, le=SALARY_MAX)]
Proficiency = Annotated[int, Field(ge=PROFICIENCY_MIN, le=PROFICIENCY_MAX)]
Score = Annotated[float, Field(ge=0, le=SCORE_MAX)]
Limit = Annotated[int, Field(ge=1, le=LIMIT_MAX)]
# skills.id is an integer identity: positive and within int4.
SkillId = Annotated[int, Field(ge=1, le=2**31 - 1)]

Industries = Annotated[
    list[Industry], Field(max_length=PREFERRED_INDUSTRIES_MAX), AfterValidator(_unique)
]
CompanySizes = Annotated[
    list[CompanySize], Field(max_length=PREFERRED_COMPANY_SIZES_MAX), AfterValidator(_unique)
]
WorkStyles = Annotated[list[WorkStyle], Field(max_length=WORK_STYLES_MAX), AfterValidator(_unique)]
CompanyValues = Annotated[list[CompanyValue], Field(max_length=COMPANY_VALUES_MAX)]


class _Model(BaseModel):
    """Shared config: values are immutable once validated, unknown keys are a
    caller's bug (a typo would otherwise be dropped silently), and NaN/inf are
    refused because no DB column or score can hold them meaningfully."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


# --------------------------------------------------------------------------
# Entities.
# --------------------------------------------------------------------------


class SkillData(_Model):
    """A skill as a talent has it or a job asks for it.

    Talent side: `proficiency` (required there) and `years`. Job side:
    `required` and `min_proficiency`. `skill_id` is None for a skill not yet
    resolved to a row of public.skills; `name` identifies it then.
    """

    skill_id: SkillId | None = None
    name: SkillName
    category: SkillCategory
    proficiency: Proficiency | None = None
    years: Years = 0
    required: bool = True
    min_proficiency: Proficiency = DEFAULT_MIN_PROFICIENCY


def _check_skills(skills: list[SkillData]) -> None:
    # (talent|job, skill_id) is a primary key and skills.name is unique on lower(name).
    ids = Counter(s.skill_id for s in skills if s.skill_id is not None)
    if any(n > 1 for n in ids.values()):
        raise ValueError("a skill_id appears more than once in skills")
    names = Counter(s.name.lower() for s in skills)
    if any(n > 1 for n in names.values()):
        raise ValueError("a skill name appears more than once in skills")


Skills = Annotated[list[SkillData], Field(max_length=SKILLS_MAX)]


class TalentProfile(_Model):
    """A talent as the matcher sees it: public.talents plus its skills."""

    id: UUID
    headline: Headline
    bio: Bio = ""
    experience_level: ExperienceLevel
    years_experience: Years
    city: City | None = None
    country_code: CountryCode | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    timezone: Timezone | None = None
    remote_preference: RemotePreference = RemotePreference.FLEXIBLE
    salary_min: Salary | None = None
    salary_max: Salary | None = None
    salary_currency: Currency | None = None
    open_to_work: bool = True
    preferred_industries: Industries = Field(default_factory=list)
    preferred_company_sizes: CompanySizes = Field(default_factory=list)
    work_styles: WorkStyles = Field(default_factory=list)
    skills: Skills = Field(default_factory=list)

    @model_validator(mode="after")
    def _cross_field(self) -> Self:
        _check_coordinates(self.latitude, self.longitude)
        _check_salary(self.salary_min, self.salary_max, self.salary_currency)
        _check_skills(self.skills)
        if any(s.proficiency is None for s in self.skills):
            # talent_skills.proficiency is NOT NULL
            raise ValueError("every talent skill needs a proficiency")
        return self


class Company(_Model):
    """public.companies: the culture side a job is matched on."""

    id: UUID
    name: CompanyName
    description: CompanyDescription = ""
    industry: Industry
    size: CompanySize
    work_styles: WorkStyles = Field(default_factory=list)
    values: CompanyValues = Field(default_factory=list)
    website: Website | None = None


class JobPosting(_Model):
    """A job as the matcher sees it: public.jobs, its skills, and the culture
    fields of its company (copied in so scoring needs one object per side)."""

    id: UUID
    company_id: UUID
    title: Title
    description: Description = ""
    experience_level: ExperienceLevel
    min_years: Years = 0
    max_years: Years | None = None
    city: City | None = None
    country_code: CountryCode | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    timezone: Timezone | None = None
    remote_policy: RemotePolicy = RemotePolicy.ONSITE
    salary_min: Salary | None = None
    salary_max: Salary | None = None
    salary_currency: Currency | None = None
    status: JobStatus = JobStatus.DRAFT
    company_industry: Industry
    company_size: CompanySize
    company_work_styles: WorkStyles = Field(default_factory=list)
    company_values: CompanyValues = Field(default_factory=list)
    skills: Skills = Field(default_factory=list)

    @model_validator(mode="after")
    def _cross_field(self) -> Self:
        if self.max_years is not None and self.min_years > self.max_years:
            raise ValueError("min_years must not exceed max_years")
        _check_coordinates(self.latitude, self.longitude)
        if self.remote_policy is not RemotePolicy.REMOTE and self.latitude is None:
            # jobs_location_required: distance is part of the score
            raise ValueError("an onsite or hybrid job needs latitude and longitude")
        _check_salary(self.salary_min, self.salary_max, self.salary_currency)
        _check_skills(self.skills)
        return self


# --------------------------------------------------------------------------
# Requests and responses.
# --------------------------------------------------------------------------


class TalentToJobsRequest(_Model):
    """Best open jobs for one talent."""

    talent_id: UUID
    limit: Limit = LIMIT_DEFAULT
    min_score: Score = 0.0


class JobToTalentsRequest(_Model):
    """Best talents for one job, optionally ordered by one sub-score."""

    job_id: UUID
    limit: Limit = LIMIT_DEFAULT
    min_score: Score = 0.0
    sort: SortKey = "score"


class TopFactor(_Model):
    """One reason behind a score: a model feature, its signed SHAP contribution
    (in the units of `MatchExplanation.base_value`) and a sentence a person
    can read, so the UI never has to interpret feature names."""

    feature: Annotated[
        str, Field(min_length=1, max_length=FEATURE_NAME_MAX), BeforeValidator(_single_line)
    ]
    contribution: float
    sentence: Annotated[
        str, Field(min_length=1, max_length=FACTOR_SENTENCE_MAX), BeforeValidator(_single_line)
    ]


class MatchExplanation(_Model):
    """What matches.explanation holds. Every field has a default so the DB's
    default '{}' parses as "no explanation"."""

    sub_scores: dict[ScoreCategory, Score] = Field(default_factory=dict)
    top_factors: Annotated[list[TopFactor], Field(max_length=TOP_FACTORS_MAX)] = Field(
        default_factory=list
    )
    base_value: float = 0.0
    #: model output before clipping to 0-100: base_value + sum(contributions)
    raw_score: float | None = None
    #: every feature's SHAP contribution, so the explanation can be checked
    #: against the score from stored data alone; stored in the column
    #: matches.contributions (registry order), not in the explanation's JSON
    contributions: Annotated[dict[str, float], Field(max_length=FEATURES_MAX)] = Field(
        default_factory=dict
    )
    #: rule-based (fallback) scores: the hard constraints the pair failed
    failed_constraints: Annotated[list[str], Field(max_length=10)] = Field(default_factory=list)


class MatchResult(_Model):
    """One scored (talent, job) pair, as stored in public.matches."""

    talent_id: UUID
    job_id: UUID
    score: Score
    source: MatchSource
    model_version: ModelVersion | None = None
    explanation: MatchExplanation = Field(default_factory=MatchExplanation)
    computed_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))

    @model_validator(mode="after")
    def _version_iff_ml(self) -> Self:
        # matches_source_model_version: (source = 'ml') = (model_version is not null)
        if (self.source is MatchSource.ML) != (self.model_version is not None):
            raise ValueError(
                "model_version is required for ml matches and must be None for fallback ones"
            )
        return self


class MatchFeedback(_Model):
    """Feedback on a match; the actor is fixed by the type, as in the DB."""

    talent_id: UUID
    job_id: UUID
    feedback_type: FeedbackType
    actor: FeedbackActor
    actor_user_id: UUID | None = None

    @model_validator(mode="after")
    def _actor_fits_type(self) -> Self:
        if self.actor is not self.feedback_type.actor:
            raise ValueError(
                f"{self.feedback_type} feedback is recorded by the {self.feedback_type.actor}"
            )
        return self


_DERIVED_RESPONSE_FIELDS = ("source_counts", "model_versions")


class MatchResponse(_Model):
    """Matches for one talent or one job, with a summary of where the scores
    came from so a client can tell when some came from the fallback.

    The summary fields are computed from `matches` and never trusted from
    input: when a dumped response is validated again they are dropped and
    recomputed, so the summary cannot disagree with the list.
    """

    entity_id: UUID
    matches: Annotated[list[MatchResult], Field(max_length=LIMIT_MAX)] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _drop_derived(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k not in _DERIVED_RESPONSE_FIELDS}
        return data

    @model_validator(mode="after")
    def _about_entity(self) -> Self:
        for match in self.matches:
            if self.entity_id not in (match.talent_id, match.job_id):
                raise ValueError("every match must involve entity_id as its talent or its job")
        pairs = Counter((m.talent_id, m.job_id) for m in self.matches)
        if any(n > 1 for n in pairs.values()):
            raise ValueError("a (talent, job) pair appears more than once in matches")
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def source_counts(self) -> dict[MatchSource, int]:
        """How many matches each source scored (every source present, 0 if none)."""
        counts = Counter(m.source for m in self.matches)
        return {source: counts.get(source, 0) for source in MatchSource}

    @computed_field  # type: ignore[prop-decorator]
    @property
    def model_versions(self) -> list[str]:
        """Distinct model versions behind the ml matches, sorted."""
        return sorted({m.model_version for m in self.matches if m.model_version is not None})


__all__ = [
    "ARRAY_LIMITS",
    "BIO_MAX",
    "CITY_MAX",
    "COMPANY_DESCRIPTION_MAX",
    "COMPANY_NAME_MAX",
    "COMPANY_VALUES_MAX",
    "COMPANY_VALUE_MAX",
    "COUNTRY_CODE_PATTERN",
    "CURRENCY_PATTERN",
    "DEFAULT_MIN_PROFICIENCY",
    "DESCRIPTION_MAX",
    "FACTOR_SENTENCE_MAX",
    "FEATURES_MAX",
    "FEATURE_NAME_MAX",
    "FEEDBACK_ACTOR",
    "HEADLINE_MAX",
    "LATITUDE_MAX",
    "LIMIT_DEFAULT",
    "LIMIT_MAX",
    "LONGITUDE_MAX",
    "MODEL_VERSION_MAX",
    "MODEL_VERSION_PATTERN",
    "NUMBER_RANGES",
    "PG_ENUMS",
    "PREFERRED_COMPANY_SIZES_MAX",
    "PREFERRED_INDUSTRIES_MAX",
    "PROFICIENCY_MAX",
    "PROFICIENCY_MIN",
    "SALARY_MAX",
    "SCORE_MAX",
    "SKILLS_MAX",
    "SKILL_CATEGORY_MAX",
    "SKILL_CATEGORY_PATTERN",
    "SKILL_NAME_MAX",
    "TEXT_LIMITS",
    "TITLE_MAX",
    "TOP_FACTORS_MAX",
    "TZ_OFFSET_MAX_MINUTES",
    "TZ_OFFSET_MIN_MINUTES",
    "WEBSITE_PATTERN",
    "WEBSITE_REST_MAX",
    "WORK_STYLES_MAX",
    "YEARS_MAX",
    "Company",
    "CompanySize",
    "ExperienceLevel",
    "FeedbackActor",
    "FeedbackType",
    "Industry",
    "JobPosting",
    "JobStatus",
    "JobToTalentsRequest",
    "MatchExplanation",
    "MatchFeedback",
    "MatchResponse",
    "MatchResult",
    "MatchSource",
    "MemberRole",
    "RemotePolicy",
    "RemotePreference",
    "ScoreCategory",
    "SkillData",
    "SortKey",
    "TalentProfile",
    "TalentToJobsRequest",
    "TopFactor",
    "WorkStyle",
    "clean_multi_line",
    "clean_single_line",
    "is_valid_timezone",
]

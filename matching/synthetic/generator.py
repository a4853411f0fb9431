"""Deterministic synthetic marketplace: skills, companies, talents, jobs.

The matching engine needs data with real structure to be trained and judged
on: skills that co-occur the way they do on real profiles, titles that agree
with skills, salaries that depend on role, seniority and city, culture
signals that line up with remote preferences, and prose that says what the
skill list cannot: the domain a talent wants to work in (or comes from) and
the kind of team, in the vocabulary jobs use for their company's industry
and team (`tx.INDUSTRY_DOMAINS`, `tx.TEAM_FOCUS`), so that a pair's text
similarity is not redundant with its skill overlap. `generate` builds such a
marketplace from `matching.taxonomy` and a seed, without touching a database,
and returns rows ready for COPY (see `matching.seed`).

Two constraints shape the code:

* Determinism. One `numpy.random.Generator` drives everything, in a fixed
  order, and UUIDs come from it too; the same seed gives the same rows.
* Speed. 100k talents must take seconds, so every random draw is a numpy
  array operation over all rows (skills are sampled with the Gumbel top-k
  trick per role family); Python loops only format strings and build tuples.

Every row satisfies the CHECKs of the table migrations (migrations/*_talents.sql,
*_companies.sql, *_jobs.sql, *_settings_and_reference_data.sql);
tests/unit/test_synthetic.py mirrors those CHECKs.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from functools import cache
from itertools import compress
from typing import Any

import numpy as np

from matching.models import SALARY_MAX
from matching.synthetic import taxonomy as tx

#: One table row, in the column order of its *_COLUMNS constant.
Row = tuple[Any, ...]

SKILL_COLUMNS: tuple[str, ...] = ("id", "name", "category")
COMPANY_COLUMNS: tuple[str, ...] = (
    "id", "name", "description", "industry", "size", "work_styles", "values", "website",
)  # fmt: skip
TALENT_COLUMNS: tuple[str, ...] = (
    "id", "headline", "bio", "experience_level", "years_experience", "city", "country_code",
    "latitude", "longitude", "timezone", "remote_preference", "salary_min", "salary_max",
    "salary_currency", "open_to_work", "preferred_industries", "preferred_company_sizes",
    "work_styles",
)  # fmt: skip
JOB_COLUMNS: tuple[str, ...] = (
    "id", "company_id", "title", "description", "experience_level", "min_years", "max_years",
    "city", "country_code", "latitude", "longitude", "timezone", "remote_policy",
    "salary_min", "salary_max", "salary_currency", "status",
)  # fmt: skip
TALENT_SKILL_COLUMNS: tuple[str, ...] = ("talent_id", "skill_id", "proficiency", "years")
JOB_SKILL_COLUMNS: tuple[str, ...] = ("job_id", "skill_id", "required", "min_proficiency")

#: schema cap on salary_min / salary_max (talents and jobs).
SALARY_CAP = SALARY_MAX

# Marketplace mix. Shares are rough but keep the shape of a real market:
# more mid/senior than principal people, most postings open, and so on.
TALENT_LEVEL_P = (0.20, 0.32, 0.28, 0.13, 0.07)
JOB_LEVEL_P = (0.15, 0.35, 0.32, 0.12, 0.06)
COMPANY_SIZE_P = (0.12, 0.28, 0.30, 0.18, 0.12)
TALENT_REMOTE_P = (0.12, 0.28, 0.30, 0.30)  # onsite, hybrid, remote, flexible
TALENT_REMOTE_P_NO_LOCATION = (0.0, 0.0, 0.75, 0.25)
JOB_STATUS_P = (0.05, 0.85, 0.10)  # draft, open, closed
P_TALENT_NO_SALARY = 0.10
P_TALENT_ONLY_MIN_SALARY = 0.06  # of talents with a salary: "at least X"
P_TALENT_NO_LOCATION = 0.05
P_TALENT_OPEN = 0.85
P_JOB_NO_SALARY = 0.15
P_JOB_NO_MAX_YEARS = 0.15
P_REMOTE_JOB_NO_LOCATION = 0.30
P_JOB_PRIMARY_FAMILY = 0.55  # else the job comes from the company's industry mix
P_SECOND_CLUSTER = 0.5
P_HEADLINE_DOMAIN = 0.5  # talents whose headline also names their domain

# Skill sampling weights (relative): family skills outside the drawn
# clusters, skills of neighbouring families, and boosts for the drawn
# primary cluster, optional second cluster and one neighbouring cluster.
W_OWN_FAMILY = 1.0
W_OTHER = 0.08
W_PRIMARY = 14.0
W_SECONDARY = 5.0
W_NEIGHBOUR_CLUSTER = 2.0
W_RELATED = 0.7  # membership of a cluster's `related` skills, relative to its own
ANCHOR_WEIGHT = 4.0  # membership of a cluster's first skill

TALENT_SKILLS_MIN, TALENT_SKILLS_MAX = 4, 12
JOB_SKILLS_MIN, JOB_SKILLS_MAX = 3, 8

# Work-style weights, columns in tx.WORK_STYLES order:
# remote_first, async, office_centric, flexible_hours, collaborative,
# autonomous, structured, fast_paced.
TALENT_STYLE_W = np.array(
    [
        [0.02, 0.30, 1.50, 0.60, 1.20, 0.80, 0.90, 0.80],  # onsite
        [0.30, 0.60, 0.50, 1.00, 1.20, 0.90, 0.80, 0.70],  # hybrid
        [1.60, 1.30, 0.01, 1.00, 0.60, 1.00, 0.50, 0.50],  # remote
        [0.60, 0.80, 0.40, 1.00, 1.00, 1.00, 0.70, 0.80],  # flexible
    ]
)
COMPANY_STYLE_W = np.array(
    [
        [1.20, 0.90, 0.30, 1.00, 0.90, 1.20, 0.20, 1.30],  # micro
        [1.00, 0.80, 0.50, 1.00, 1.00, 1.00, 0.40, 1.20],  # small
        [0.60, 0.60, 0.80, 0.90, 1.00, 0.80, 0.80, 0.80],  # medium
        [0.40, 0.50, 1.00, 0.80, 1.00, 0.60, 1.10, 0.50],  # large
        [0.30, 0.40, 1.20, 0.70, 0.90, 0.50, 1.40, 0.30],  # enterprise
    ]
)
_REMOTE_FIRST = tx.WORK_STYLES.index("remote_first")
_OFFICE_CENTRIC = tx.WORK_STYLES.index("office_centric")

# Job remote policy (onsite, hybrid, remote) by company culture.
JOB_POLICY_P_DEFAULT = (0.30, 0.42, 0.28)
JOB_POLICY_P_REMOTE_FIRST = (0.05, 0.25, 0.70)
JOB_POLICY_P_OFFICE = (0.60, 0.35, 0.05)

# Pay multipliers by company size (micro .. enterprise).
SIZE_PAY = (0.92, 0.96, 1.0, 1.04, 1.08)

_PROFICIENCY_WORDS = {
    1: "Some exposure to",
    2: "Working knowledge of",
    3: "Solid experience with",
    4: "Deep expertise in",
    5: "Expert-level mastery of",
}


@dataclass(frozen=True)
class SyntheticDataset:
    """Rows for each table, in the column order of the *_COLUMNS constants."""

    skills: list[Row]
    companies: list[Row]
    talents: list[Row]
    jobs: list[Row]
    talent_skills: list[Row]
    job_skills: list[Row]

    def tables(self) -> list[tuple[str, tuple[str, ...], list[Row]]]:
        """(table, columns, rows) with parents before children, so COPY never breaks an FK."""
        return [
            ("public.skills", SKILL_COLUMNS, self.skills),
            ("public.companies", COMPANY_COLUMNS, self.companies),
            ("public.talents", TALENT_COLUMNS, self.talents),
            ("public.jobs", JOB_COLUMNS, self.jobs),
            ("public.talent_skills", TALENT_SKILL_COLUMNS, self.talent_skills),
            ("public.job_skills", JOB_SKILL_COLUMNS, self.job_skills),
        ]


# --------------------------------------------------------------------------
# Catalog: the taxonomy flattened into arrays once per process.
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _FamilySampler:
    """Everything needed to sample one family's skills as matrix operations."""

    candidates: np.ndarray  # global skill indices a member may have
    base: np.ndarray  # base weight per candidate
    own: np.ndarray  # (n_clusters, m) membership weight of the family's clusters
    owned: np.ndarray  # (n_clusters, m) bool: the cluster lists the skill itself
    neighbour: np.ndarray  # (n_neighbour_clusters, m) membership of neighbour clusters
    is_own_family: np.ndarray  # (m,) bool


@dataclass(frozen=True)
class _Catalog:
    skill_names: tuple[str, ...]
    skill_category: tuple[str, ...]
    samplers: tuple[_FamilySampler, ...]
    family_p: np.ndarray
    n_clusters: np.ndarray  # per family
    n_neighbour_clusters: np.ndarray  # per family
    cluster_offset: np.ndarray  # per family: index of its first cluster globally
    titles: tuple[str, ...]
    title_start: np.ndarray  # (n_clusters_global, 5)
    title_count: np.ndarray
    headlines: tuple[str, ...]
    headline_start: np.ndarray  # per family
    headline_count: np.ndarray
    bio_frags: tuple[str, ...]
    bio_start: np.ndarray
    bio_count: np.ndarray
    job_frags: tuple[str, ...]
    job_start: np.ndarray
    job_count: np.ndarray
    focus: tuple[str, ...]  # tx.TEAM_FOCUS phrases, grouped per global cluster
    focus_start: np.ndarray  # per global cluster
    focus_count: np.ndarray
    domains: tuple[str, ...]  # tx.INDUSTRY_DOMAINS phrases, grouped per industry
    domain_start: np.ndarray  # per industry, in tx.INDUSTRIES order
    domain_count: np.ndarray
    salary_usd: np.ndarray  # (families, 5)
    family_industry_cum: np.ndarray  # (families, industries): industry of a company
    industry_family_cum: np.ndarray  # (industries, families): family of a job
    talent_industry_w: np.ndarray  # (families, industries)
    city_p: np.ndarray
    city_lat: np.ndarray
    city_lon: np.ndarray
    city_cost: np.ndarray
    city_fx: np.ndarray
    city_currency: np.ndarray  # object array, with a trailing None
    city_name: np.ndarray  # object array, with a trailing None
    city_country: np.ndarray  # object array, with a trailing None
    city_tz: np.ndarray  # object array, with a trailing None


def _cum(p: np.ndarray) -> np.ndarray:
    """Row-normalised cumulative probabilities, for `_sample_rows`."""
    p = np.asarray(p, dtype=float)
    c = np.cumsum(p / p.sum(axis=-1, keepdims=True), axis=-1)
    c[..., -1] = 1.0
    return c


def _membership(rank: int) -> float:
    """Weight of a cluster's skill by its position: the first one is the anchor.

    Real profiles almost always pair a framework with its language (Django
    with Python), so each cluster's first skill dominates and later ones,
    more specialised, appear less often.
    """
    return ANCHOR_WEIGHT if rank == 0 else 1.0 / (1.0 + 0.08 * rank)


@cache
def _catalog() -> _Catalog:
    families = tx.FAMILIES
    names: list[str] = []
    category: list[str] = []
    index: dict[str, int] = {}
    for fam in families:
        for skill in fam.skills:
            index[skill.lower()] = len(names)
            names.append(skill)
            category.append(fam.slug)
    fam_pos = {f.slug: i for i, f in enumerate(families)}

    samplers: list[_FamilySampler] = []
    for fam in families:
        neighbours = [families[fam_pos[s]] for s in fam.neighbours]
        ordered: dict[int, None] = {}
        for s in fam.skills:
            ordered[index[s.lower()]] = None
        for c in fam.clusters:
            for s in c.related:
                ordered[index[s.lower()]] = None
        for nf in neighbours:
            for s in nf.skills:
                ordered[index[s.lower()]] = None
        cand = np.fromiter(ordered, dtype=np.int64)
        pos = {int(g): j for j, g in enumerate(cand)}
        own_family = np.array([category[g] == fam.slug for g in cand])
        base = np.where(own_family, W_OWN_FAMILY, W_OTHER)
        own = np.zeros((len(fam.clusters), len(cand)))
        owned = np.zeros((len(fam.clusters), len(cand)), dtype=bool)
        for ci, c in enumerate(fam.clusters):
            for s in c.related:
                own[ci, pos[index[s.lower()]]] = W_RELATED
            for rank, s in enumerate(c.skills):
                own[ci, pos[index[s.lower()]]] = _membership(rank)
                owned[ci, pos[index[s.lower()]]] = True
        neigh_clusters = [c for nf in neighbours for c in nf.clusters]
        neigh = np.zeros((max(1, len(neigh_clusters)), len(cand)))
        for ci, c in enumerate(neigh_clusters):
            for s in c.skills:
                neigh[ci, pos[index[s.lower()]]] = 1.0
        samplers.append(_FamilySampler(cand, base, own, owned, neigh, own_family))

    titles: list[str] = []
    n_global_clusters = sum(len(f.clusters) for f in families)
    title_start = np.zeros((n_global_clusters, 5), dtype=np.int64)
    title_count = np.zeros((n_global_clusters, 5), dtype=np.int64)
    cluster_offset = np.zeros(len(families), dtype=np.int64)
    g = 0
    for fi, fam in enumerate(families):
        cluster_offset[fi] = g
        for c in fam.clusters:
            for lvl in range(5):
                found = dict.fromkeys(t.format(role=r) for t in fam.titles[lvl] for r in c.roles)
                title_start[g, lvl] = len(titles)
                title_count[g, lvl] = len(found)
                titles.extend(found)
            g += 1

    def flatten(groups: list[tuple[str, ...]]) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
        flat: list[str] = []
        start, count = [], []
        for grp in groups:
            start.append(len(flat))
            count.append(len(grp))
            flat.extend(grp)
        return tuple(flat), np.array(start), np.array(count)

    headlines, h_start, h_count = flatten([f.headlines + tx.COMMON_HEADLINES for f in families])
    bios, b_start, b_count = flatten([f.bio_fragments for f in families])
    # "{company}'s" would read "Acme Stores's"; the generator supplies the possessive.
    jobs, j_start, j_count = flatten(
        [
            tuple(t.replace("{company}'s", "{company_poss}") for t in f.job_fragments)
            for f in families
        ]
    )

    focus, f_start, f_count = flatten(
        [tx.TEAM_FOCUS[f.slug][c.key] for f in families for c in f.clusters]
    )
    domains, d_start, d_count = flatten([tx.INDUSTRY_DOMAINS[ind] for ind in tx.INDUSTRIES])

    n_ind = len(tx.INDUSTRIES)
    fam_ind = np.zeros((len(families), n_ind))
    talent_ind = np.full((len(families), n_ind), 0.08)
    for fi, fam in enumerate(families):
        for rank, ind in enumerate(fam.industries):
            # The first industries listed are the most typical.
            fam_ind[fi, tx.INDUSTRIES.index(ind)] = 1.0 / (1.0 + 0.35 * rank)
            talent_ind[fi, tx.INDUSTRIES.index(ind)] = 1.0
    family_p = np.array([f.weight for f in families])
    family_p = family_p / family_p.sum()
    ind_fam = np.zeros((n_ind, len(families)))
    for ii in range(n_ind):
        for fi, fam in enumerate(families):
            if fam_ind[fi, ii] > 0:
                ind_fam[ii, fi] = family_p[fi]
            elif fam.slug in tx.UNIVERSAL_FAMILIES:
                ind_fam[ii, fi] = 0.5 * family_p[fi]

    cities = tx.CITIES
    city_p = np.array([c.weight for c in cities])

    def with_none(values: list[object]) -> np.ndarray:
        out = np.empty(len(values) + 1, dtype=object)
        out[:-1] = values
        out[-1] = None
        return out

    return _Catalog(
        skill_names=tuple(names),
        skill_category=tuple(category),
        samplers=tuple(samplers),
        family_p=family_p,
        n_clusters=np.array([len(f.clusters) for f in families]),
        n_neighbour_clusters=np.array([s.neighbour.shape[0] for s in samplers]),
        cluster_offset=cluster_offset,
        titles=tuple(titles),
        title_start=title_start,
        title_count=title_count,
        headlines=headlines,
        headline_start=h_start,
        headline_count=h_count,
        bio_frags=bios,
        bio_start=b_start,
        bio_count=b_count,
        job_frags=jobs,
        job_start=j_start,
        job_count=j_count,
        focus=focus,
        focus_start=f_start,
        focus_count=f_count,
        domains=domains,
        domain_start=d_start,
        domain_count=d_count,
        salary_usd=np.array([f.salary_usd for f in families], dtype=float),
        family_industry_cum=_cum(fam_ind),
        industry_family_cum=_cum(ind_fam),
        talent_industry_w=talent_ind,
        city_p=city_p / city_p.sum(),
        city_lat=np.array([c.latitude for c in cities]),
        city_lon=np.array([c.longitude for c in cities]),
        city_cost=np.array([c.cost_index for c in cities]),
        city_fx=np.array([tx.FX_PER_USD[c.currency] for c in cities]),
        city_currency=with_none([c.currency for c in cities]),
        city_name=with_none([c.name for c in cities]),
        city_country=with_none([c.country_code for c in cities]),
        city_tz=with_none([c.timezone for c in cities]),
    )


# --------------------------------------------------------------------------
# Vectorised sampling helpers.
# --------------------------------------------------------------------------


def _sample_rows(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One categorical draw per row, each row with its own distribution."""
    draws: np.ndarray = np.minimum((u[:, None] > cum).sum(axis=1), cum.shape[1] - 1)
    return draws


def _top_k(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """Indices of k items per row, drawn without replacement proportionally to weights.

    Gumbel top-k: adding Gumbel noise to log-weights and keeping the k largest
    is equivalent to sequential weighted sampling without replacement, and it
    works on a whole matrix of rows at once.
    """
    n, m = weights.shape
    k = min(k, m)
    if n == 0:
        return np.zeros((0, k), dtype=np.int64)
    with np.errstate(divide="ignore"):
        keys = np.log(weights) + rng.gumbel(size=(n, m))
    if k < m:
        part = np.argpartition(-keys, k - 1, axis=1)[:, :k]
    else:
        part = np.broadcast_to(np.arange(m), (n, m)).copy()
    order = np.argsort(-np.take_along_axis(keys, part, axis=1), axis=1)
    return np.take_along_axis(part, order, axis=1)


def _uuids(rng: np.random.Generator, n: int) -> list[uuid.UUID]:
    """Version-4 UUIDs from the generator, so ids are reproducible per seed."""
    raw = np.frombuffer(rng.bytes(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    buf = raw.tobytes()
    return [uuid.UUID(bytes=buf[i : i + 16]) for i in range(0, 16 * n, 16)]


def _nice_round(values: np.ndarray) -> np.ndarray:
    """Round to about 2.5 significant digits, the way salaries are advertised."""
    v = np.maximum(values, 1.0)
    step = 5.0 * 10.0 ** np.maximum(np.floor(np.log10(v)) - 2.0, 0.0)
    rounded: np.ndarray = (np.round(v / step) * step).astype(np.int64)
    return rounded


def _years(rng: np.random.Generator, level: np.ndarray) -> np.ndarray:
    """Professional years consistent with the level, with a little jitter."""
    bounds = np.array(tx.LEVEL_YEARS)
    lo, hi = bounds[level, 0], bounds[level, 1]
    # Beta(1.3, 1.8) leans towards the lower end, most visibly for principals.
    y = lo + (hi - lo) * rng.beta(1.3, 1.8, size=level.shape[0])
    y = y + rng.normal(0.0, 0.35, size=level.shape[0])
    j = tx.LEVEL_YEARS_JITTER
    y = np.clip(y, np.maximum(lo - j, 0.0), np.minimum(hi + j, 60.0))
    rounded: np.ndarray = np.round(y, 1)
    return rounded


def _drop_conflict(idx: np.ndarray, valid: np.ndarray, a: int, b: int) -> None:
    """Remove the later of two contradictory picks (remote-first and office-centric)."""
    if idx.size == 0:
        return
    has_a = (idx == a) & valid
    has_b = (idx == b) & valid
    both = has_a.any(axis=1) & has_b.any(axis=1)
    if not both.any():
        return
    pos_a = np.argmax(has_a, axis=1)
    pos_b = np.argmax(has_b, axis=1)
    rows = np.flatnonzero(both)
    valid[rows, np.maximum(pos_a, pos_b)[rows]] = False


def _lists(names: tuple[str, ...], idx: np.ndarray, valid: np.ndarray) -> list[list[str]]:
    """Per-row lists of names from an index matrix and a keep mask."""
    if idx.shape[0] == 0:
        return []
    mat = np.asarray(names, dtype=object)[idx].tolist()
    return [list(compress(r, v)) for r, v in zip(mat, valid.tolist(), strict=True)]


def _pick_clusters(
    rng: np.random.Generator, cat: _Catalog, fam: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Primary cluster, optional second cluster (-1 for none), neighbour cluster."""
    n = fam.shape[0]
    ncl = cat.n_clusters[fam]
    primary = np.floor(rng.random(n) * ncl).astype(np.int64)
    second = (primary + 1 + np.floor(rng.random(n) * (ncl - 1)).astype(np.int64)) % ncl
    second = np.where(rng.random(n) < P_SECOND_CLUSTER, second, -1)
    neighbour = np.floor(rng.random(n) * cat.n_neighbour_clusters[fam]).astype(np.int64)
    return primary, second, neighbour


def _pick_skills(
    rng: np.random.Generator,
    cat: _Catalog,
    fam: np.ndarray,
    primary: np.ndarray,
    second: np.ndarray,
    neighbour: np.ndarray,
    k: np.ndarray,
    kmax: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct skills per row (the first k[i] of kmax count), most characteristic first.

    Returns global skill indices, whether each pick belongs to the row's
    primary cluster, and whether it comes from outside the row's family.
    Within a row's first k picks the primary cluster's skills come first, so
    headlines and a job's first (always required) skill are core skills.
    """
    n = fam.shape[0]
    sel = np.zeros((n, kmax), dtype=np.int64)
    in_primary = np.zeros((n, kmax), dtype=bool)
    foreign = np.zeros((n, kmax), dtype=bool)
    for fi, smp in enumerate(cat.samplers):
        rows = np.flatnonzero(fam == fi)
        if rows.size == 0:
            continue
        p, s, q = primary[rows], second[rows], neighbour[rows]
        prim_m = smp.own[p]
        w = smp.base[None, :] + W_PRIMARY * prim_m + W_NEIGHBOUR_CLUSTER * smp.neighbour[q]
        has_s = s >= 0
        w[has_s] += W_SECONDARY * smp.own[s[has_s]]
        top = _top_k(rng, w, kmax)
        sel[rows] = smp.candidates[top]
        in_primary[rows] = np.take_along_axis(smp.owned[p], top, axis=1)
        foreign[rows] = ~smp.is_own_family[top]
    rank = (~in_primary).astype(np.int64) + 2 * (np.arange(kmax)[None, :] >= k[:, None])
    order = np.argsort(rank, axis=1, kind="stable")
    return (
        np.take_along_axis(sel, order, axis=1),
        np.take_along_axis(in_primary, order, axis=1),
        np.take_along_axis(foreign, order, axis=1),
    )


def _pick_from_offsets(
    rng: np.random.Generator, start: np.ndarray, count: np.ndarray
) -> np.ndarray:
    return start + np.floor(rng.random(start.shape[0]) * count).astype(np.int64)


def _two_distinct(
    rng: np.random.Generator, start: np.ndarray, count: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Two different items per row from per-row ranges (count >= 2)."""
    n = start.shape[0]
    a = np.floor(rng.random(n) * count).astype(np.int64)
    b = (a + 1 + np.floor(rng.random(n) * (count - 1)).astype(np.int64)) % count
    return start + a, start + b


def _salaries(
    rng: np.random.Generator,
    usd: np.ndarray,
    fx: np.ndarray,
    currency: np.ndarray,
    low: tuple[float, float],
    high: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Yearly (min, max) in local currency, falling back to USD above the schema cap.

    Currencies with many units per dollar (JPY, KRW, IDR, NGN, ...) push
    senior pay past the 10,000,000 CHECK; such offers are quoted in USD,
    as international employers there often do.
    """
    n = usd.shape[0]
    lo = usd * rng.uniform(*low, size=n)
    hi = usd * rng.uniform(*high, size=n)
    over = hi * fx > SALARY_CAP * 0.98
    fx = np.where(over, 1.0, fx)
    currency = np.where(over, "USD", currency).astype(object)
    smin = _nice_round(lo * fx)
    smax = np.maximum(_nice_round(hi * fx), smin)
    return np.minimum(smin, SALARY_CAP), np.minimum(smax, SALARY_CAP), currency


def _masked(values: np.ndarray, keep: np.ndarray) -> list[object]:
    """Python values with None where keep is False."""
    out = values.astype(object)
    out[~keep] = None
    python_values: list[object] = out.tolist()
    return python_values


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeio" else "a"


def _years_phrase(years: float) -> str:
    if years < 1.0:
        return "less than a year"
    whole = int(years)
    return "1 year" if whole == 1 else f"{whole} years"


def _fmt_years(y: float) -> str:
    return f"{y:g}"


def _join(items: list[str], last: str = "and") -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(items) <= 2:
        return f" {last} ".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


# --------------------------------------------------------------------------
# Generation.
# --------------------------------------------------------------------------


def generate(
    *, seed: int = 42, n_talents: int = 1500, n_jobs: int = 300, n_companies: int | None = None
) -> SyntheticDataset:
    """Build a whole marketplace; the same arguments always give the same rows."""
    if n_talents < 0 or n_jobs < 0 or (n_companies is not None and n_companies < 0):
        raise ValueError("sizes must not be negative")
    if n_companies is None:
        n_companies = max(60, n_jobs // 5)
    if n_jobs > 0 and n_companies == 0:
        raise ValueError("jobs need at least one company")
    rng = np.random.default_rng(seed)
    cat = _catalog()

    skills = [
        (i + 1, name, category)
        for i, (name, category) in enumerate(zip(cat.skill_names, cat.skill_category, strict=True))
    ]
    companies, comp = _companies(rng, cat, n_companies)
    talents, talent_skills = _talents(rng, cat, n_talents)
    jobs, job_skills = _jobs(rng, cat, n_jobs, comp)
    return SyntheticDataset(
        skills=skills,
        companies=companies,
        talents=talents,
        jobs=jobs,
        talent_skills=talent_skills,
        job_skills=job_skills,
    )


@dataclass(frozen=True)
class _Companies:
    """Per-company attributes that jobs depend on but the table does not store."""

    ids: list[uuid.UUID]
    names: list[str]
    family: np.ndarray
    industry: np.ndarray
    size: np.ndarray
    offices: np.ndarray  # (n, 3) city indices, HQ first
    remote_first: np.ndarray
    office_centric: np.ndarray
    intro: list[str]


def _company_names(rng: np.random.Generator, industry: np.ndarray) -> list[str]:
    """Readable, unique names: prefix + root, an industry word, disambiguated if taken."""
    n = int(industry.shape[0])
    pre, roots = tx.COMPANY_NAME_PREFIXES, tx.COMPANY_NAME_ROOTS
    space = len(pre) * len(roots)
    combo = np.concatenate([rng.permutation(space) for _ in range(max(1, math.ceil(n / space)))])[
        :n
    ]
    suffix_u = rng.random(n)
    bare = rng.random(n) < 0.25
    dis_start = rng.integers(0, len(tx.COMPANY_NAME_DISAMBIGUATORS), size=n)
    seen: set[str] = set()
    names: list[str] = []
    for i in range(n):
        c = int(combo[i])
        base = f"{pre[c // len(roots)]}{roots[c % len(roots)].lower()}"
        suffixes = tx.INDUSTRY_NAME_SUFFIXES[tx.INDUSTRIES[industry[i]]]
        name = base if bare[i] else f"{base} {suffixes[int(suffix_u[i] * len(suffixes))]}"
        if name in seen:
            dis = tx.COMPANY_NAME_DISAMBIGUATORS
            for j in range(len(dis)):
                candidate = f"{name} {dis[(int(dis_start[i]) + j) % len(dis)]}"
                if candidate not in seen:
                    name = candidate
                    break
            else:
                k = 2
                while f"{name} {k}" in seen:
                    k += 1
                name = f"{name} {k}"
        seen.add(name)
        names.append(name)
    return names


def _companies(rng: np.random.Generator, cat: _Catalog, n: int) -> tuple[list[Row], _Companies]:
    n_fam = cat.family_p.shape[0]
    family = rng.choice(n_fam, size=n, p=cat.family_p)
    industry = _sample_rows(cat.family_industry_cum[family], rng.random(n))
    size = rng.choice(len(tx.COMPANY_SIZES), size=n, p=COMPANY_SIZE_P)
    offices = rng.choice(len(tx.CITIES), size=(n, 3), p=cat.city_p)
    # Small companies have one office: every job of theirs sits at the HQ.
    offices[size <= 1, 1:] = offices[size <= 1, :1]

    k_styles = rng.integers(1, 4, size=n)
    s_idx = _top_k(rng, COMPANY_STYLE_W[size], 3)
    s_valid = np.arange(3)[None, :] < k_styles[:, None]
    _drop_conflict(s_idx, s_valid, _REMOTE_FIRST, _OFFICE_CENTRIC)
    styles = _lists(tx.WORK_STYLES, s_idx, s_valid)
    remote_first = ((s_idx == _REMOTE_FIRST) & s_valid).any(axis=1)
    office_centric = ((s_idx == _OFFICE_CENTRIC) & s_valid).any(axis=1)

    k_values = rng.integers(2, 5, size=n)
    v_idx = _top_k(rng, np.ones((n, len(tx.COMPANY_VALUES))), 4)
    values = _lists(tx.COMPANY_VALUES, v_idx, np.arange(4)[None, :] < k_values[:, None])

    tagline = rng.integers(0, len(tx.COMPANY_TAGLINES), size=n)
    founded = rng.integers(1950, 2025, size=n)
    founded = np.where(size <= 1, rng.integers(2012, 2026, size=n), founded)
    tld_u = rng.random(n)
    ids = _uuids(rng, n)
    names = _company_names(rng, industry)

    rows: list[Row] = []
    intros: list[str] = []
    for i in range(n):
        name = names[i]
        ind = tx.INDUSTRIES[industry[i]]
        ind_label = tx.INDUSTRY_LABELS[ind]
        hq = tx.CITIES[offices[i, 0]]
        intro = (
            f"{name} is {tx.COMPANY_SIZE_LABELS[tx.COMPANY_SIZES[size[i]]]} in {ind_label},"
            f" headquartered in {hq.name}."
        )
        intros.append(intro)
        vals = values[i]
        sty = styles[i]
        culture = (
            f"We value {vals[0]} and {vals[1]}"
            + (f", and we care about {vals[2]}." if len(vals) > 2 else ".")
            + " Day to day we favour "
            + " and ".join(tx.WORK_STYLE_LABELS[s] for s in sty)
            + "."
        )
        others = sorted({tx.CITIES[c].name for c in offices[i, 1:]} - {hq.name})
        where = f" We also have offices in {' and '.join(others)}." if others else ""
        description = (
            f"{intro} Founded in {founded[i]}.{where}\n\n"
            f"{tx.COMPANY_TAGLINES[tagline[i]].format(industry=ind_label)}\n\n{culture}"
        )
        slug = "".join(ch for ch in name.lower() if ch.isalnum())
        if tld_u[i] < 0.6:
            tld = "com"
        elif tld_u[i] < 0.75 and ind in ("software", "fintech", "gaming"):
            tld = "io"
        else:
            tld = "co.uk" if hq.country_code == "GB" else hq.country_code.lower()
        rows.append(
            (
                ids[i],
                name,
                description,
                ind,
                tx.COMPANY_SIZES[size[i]],
                sty,
                vals,
                f"https://www.{slug}.{tld}",
            )
        )
    return rows, _Companies(
        ids=ids,
        names=names,
        family=family,
        industry=industry,
        size=size,
        offices=offices,
        remote_first=remote_first,
        office_centric=office_centric,
        intro=intros,
    )


def _talents(rng: np.random.Generator, cat: _Catalog, n: int) -> tuple[list[Row], list[Row]]:
    n_fam = cat.family_p.shape[0]
    n_city = len(tx.CITIES)
    fam = rng.choice(n_fam, size=n, p=cat.family_p)
    level = rng.choice(5, size=n, p=TALENT_LEVEL_P)
    years = _years(rng, level)
    primary, second, neighbour = _pick_clusters(rng, cat, fam)

    # Skills: seniors list a few more.
    k_p = np.array([0.30, 0.40, 0.50, 0.55, 0.60])[level]
    k = np.clip(TALENT_SKILLS_MIN + rng.binomial(8, k_p), TALENT_SKILLS_MIN, TALENT_SKILLS_MAX)
    sel, in_primary, foreign = _pick_skills(
        rng, cat, fam, primary, second, neighbour, k, TALENT_SKILLS_MAX
    )
    keep = np.arange(TALENT_SKILLS_MAX)[None, :] < k[:, None]
    row_of = np.repeat(np.arange(n), k)
    flat_skill = sel[keep]
    flat_primary = in_primary[keep]
    flat_foreign = foreign[keep]
    m = flat_skill.shape[0]
    prof = (
        np.array([2.2, 2.9, 3.5, 3.9, 4.2])[level[row_of]]
        + 0.5 * flat_primary
        - 0.7 * flat_foreign
        + rng.normal(0.0, 0.6, size=m)
    )
    prof = np.clip(np.rint(prof), 1, 5).astype(np.int64)
    frac = np.where(flat_primary, rng.uniform(0.5, 1.0, size=m), rng.uniform(0.1, 0.85, size=m))
    t_years = years[row_of]
    s_years = np.minimum(np.round(frac * t_years, 1), t_years)

    # Location: a few profiles are location-less (remote nomads, privacy).
    located = rng.random(n) >= P_TALENT_NO_LOCATION
    city = rng.choice(n_city, size=n, p=cat.city_p)
    city = np.where(located, city, n_city)  # n_city -> trailing None
    c_safe = np.minimum(city, n_city - 1)
    lat = np.round(cat.city_lat[c_safe] + rng.normal(0, 0.04, size=n), 4)
    lon = np.round(cat.city_lon[c_safe] + rng.normal(0, 0.04, size=n), 4)
    lat = np.clip(lat, -90.0, 90.0)
    lon = np.clip(lon, -180.0, 180.0)
    tz = cat.city_tz[city].copy()
    tz_kind = rng.random(n)
    tz_other = cat.city_tz[rng.choice(n_city, size=n, p=cat.city_p)]
    tz_fixed = np.asarray(tx.FIXED_UTC_OFFSETS, dtype=object)[
        rng.integers(0, len(tx.FIXED_UTC_OFFSETS), size=n)
    ]
    tz = np.where(~located & (tz_kind < 0.40), tz_other, tz)
    tz = np.where(~located & (tz_kind >= 0.40) & (tz_kind < 0.55), tz_fixed, tz)

    remote = np.where(
        located,
        rng.choice(4, size=n, p=TALENT_REMOTE_P),
        rng.choice(4, size=n, p=TALENT_REMOTE_P_NO_LOCATION),
    )

    # Salary expectations: role family x level x city, in the city's currency.
    cost = np.where(located, cat.city_cost[c_safe], rng.uniform(0.5, 1.0, size=n))
    fx = np.where(located, cat.city_fx[c_safe], 1.0)
    currency = np.where(located, cat.city_currency[c_safe], "USD").astype(object)
    euro = ~located & (rng.random(n) < 0.2)
    fx = np.where(euro, tx.FX_PER_USD["EUR"], fx)
    currency[euro] = "EUR"
    usd = cat.salary_usd[fam, level] * cost * rng.lognormal(0.0, 0.15, size=n)
    smin, smax, currency = _salaries(rng, usd, fx, currency, (0.85, 0.95), (1.05, 1.3))
    has_salary = rng.random(n) >= P_TALENT_NO_SALARY
    has_max = has_salary & (rng.random(n) >= P_TALENT_ONLY_MIN_SALARY)
    open_to_work = (rng.random(n) < P_TALENT_OPEN).tolist()

    # Culture.
    k_ind = rng.choice(4, size=n, p=(0.2, 0.35, 0.3, 0.15))
    ind_idx = _top_k(rng, cat.talent_industry_w[fam], 3)
    ind_valid = np.arange(3)[None, :] < k_ind[:, None]
    industries = _lists(tx.INDUSTRIES, ind_idx, ind_valid)
    k_size = rng.choice(3, size=n, p=(0.4, 0.4, 0.2))
    centre = rng.choice(5, size=n, p=(0.15, 0.25, 0.3, 0.2, 0.1))
    step = np.where(rng.random(n) < 0.5, -1, 1)
    other = centre + step
    other = np.where((other < 0) | (other > 4), centre - step, other)
    size_idx = np.stack([centre, other], axis=1)
    sizes = _lists(tx.COMPANY_SIZES, size_idx, np.arange(2)[None, :] < k_size[:, None])
    k_sty = rng.integers(1, 4, size=n)
    sty_idx = _top_k(rng, TALENT_STYLE_W[remote], 3)
    sty_valid = np.arange(3)[None, :] < k_sty[:, None]
    _drop_conflict(sty_idx, sty_valid, _REMOTE_FIRST, _OFFICE_CENTRIC)
    styles = _lists(tx.WORK_STYLES, sty_idx, sty_valid)

    # Text.
    gcl = cat.cluster_offset[fam] + primary
    title_idx = _pick_from_offsets(rng, cat.title_start[gcl, level], cat.title_count[gcl, level])
    head_idx = _pick_from_offsets(rng, cat.headline_start[fam], cat.headline_count[fam])
    bio_a, bio_b = _two_distinct(rng, cat.bio_start[fam], cat.bio_count[fam])
    opener = rng.integers(0, len(tx.BIO_OPENERS), size=n)
    opener = np.where(~located & (opener == 1), 0, opener)  # opener 1 names a place
    closer = rng.integers(0, 2, size=n)
    skills_line = rng.random(n) < 0.3
    # Domain and team wording, which the skill list does not carry: the
    # industries a talent wants (or, without preferences, the one it comes
    # from: the first of its drawn industries), a phrase of that domain, the
    # kind of team its primary cluster works in.
    first_ind = ind_idx[:, 0]
    has_pref = k_ind > 0
    focus_idx = _pick_from_offsets(rng, cat.focus_start[gcl], cat.focus_count[gcl])
    domain_idx = _pick_from_offsets(rng, cat.domain_start[first_ind], cat.domain_count[first_ind])
    n_dom_tpl = np.where(has_pref, len(tx.BIO_DOMAIN_WANTED), len(tx.BIO_DOMAIN_PAST))
    domain_tpl = np.floor(rng.random(n) * n_dom_tpl).astype(np.int64)
    head_domain = (rng.random(n) < P_HEADLINE_DOMAIN).tolist()
    n_head_tpl = np.where(has_pref, len(tx.HEADLINE_DOMAIN_WANTED), len(tx.HEADLINE_DOMAIN_PAST))
    head_tpl = np.floor(rng.random(n) * n_head_tpl).astype(np.int64)
    top_names = np.asarray(cat.skill_names, dtype=object)[sel[:, :4]].tolist()
    level_names = np.asarray(tx.EXPERIENCE_LEVELS, dtype=object)[level].tolist()
    remote_names = np.asarray(tx.REMOTE_PREFERENCES, dtype=object)[remote].tolist()
    city_names = cat.city_name[city].tolist()
    years_l = years.tolist()
    first_ind_names = np.asarray(tx.INDUSTRIES, dtype=object)[first_ind].tolist()

    headlines: list[str] = []
    bios: list[str] = []
    for i in range(n):
        title = cat.titles[title_idx[i]]
        s = top_names[i]
        y = years_l[i]
        # == industries[i][0] when the talent has preferences
        industry = tx.INDUSTRY_LABELS[first_ind_names[i]]
        labels = [tx.INDUSTRY_LABELS[x] for x in industries[i]] or [industry]
        focus = cat.focus[focus_idx[i]]
        domain_fields = {
            "industries": _join(labels),
            "domain": cat.domains[domain_idx[i]],
            "focus": focus,
            "a_focus": f"{_article(focus)} {focus}",
        }
        if industries[i]:
            domain_line = tx.BIO_DOMAIN_WANTED[domain_tpl[i]]
            head_suffix = tx.HEADLINE_DOMAIN_WANTED[head_tpl[i]]
        else:
            domain_line = tx.BIO_DOMAIN_PAST[domain_tpl[i]]
            head_suffix = tx.HEADLINE_DOMAIN_PAST[head_tpl[i]]
        fields = {
            "title": title,
            "s0": s[0],
            "s1": s[1],
            "s2": s[2],
            "s3": s[3],
            "years": max(1, int(y)),
            "industry": industry,
        }
        template = cat.headlines[head_idx[i]]
        if y < 2.0 and "{years}" in template:
            template = tx.COMMON_HEADLINES[0]  # "1+ years of X" oversells a junior
        headline = template.format(**fields)
        if head_domain[i]:
            headline += head_suffix.format(
                **{**domain_fields, "industries": " & ".join(labels[:2])}
            )
        if len(headline) > 200:
            headline = title
        headlines.append(headline)
        place = city_names[i] or "a remote setup"
        phrase = _years_phrase(y)
        parts = [
            tx.BIO_OPENERS[opener[i]].format(
                title=title,
                article=_article(title),
                years_phrase=phrase,
                years_phrase_cap=phrase[0].upper() + phrase[1:],
                industry=industry,
                place=place,
            ),
            domain_line.format(**domain_fields),
            cat.bio_frags[bio_a[i]].format(**fields),
            cat.bio_frags[bio_b[i]].format(**fields),
            tx.BIO_CLOSERS[remote_names[i]][closer[i]].format(place=place),
        ]
        bio = " ".join(parts)
        if skills_line[i]:
            bio += "\n\nSkills: " + ", ".join(s[: k[i]]) + "."
        bios.append(bio)

    ids = _uuids(rng, n)
    rows = list(
        zip(
            ids,
            headlines,
            bios,
            level_names,
            years_l,
            city_names,
            cat.city_country[city].tolist(),
            _masked(lat, located),
            _masked(lon, located),
            tz.tolist(),
            remote_names,
            _masked(smin, has_salary),
            _masked(smax, has_max),
            _masked(currency, has_salary),
            open_to_work,
            industries,
            sizes,
            styles,
            strict=True,
        )
    )
    id_arr = np.empty(n, dtype=object)
    id_arr[:] = ids
    skill_rows = list(
        zip(
            id_arr[row_of].tolist(),
            (flat_skill + 1).tolist(),
            prof.tolist(),
            s_years.tolist(),
            strict=True,
        )
    )
    return rows, skill_rows


def _jobs(
    rng: np.random.Generator, cat: _Catalog, n: int, comp: _Companies
) -> tuple[list[Row], list[Row]]:
    n_comp = len(comp.ids)
    n_city = len(tx.CITIES)
    # Every company posts at least once (when there are enough jobs); beyond
    # that, a few companies post most jobs, as on any real job board.
    first = rng.permutation(n_comp)[: min(n, n_comp)]
    popularity = 1.0 / (1.0 + rng.permutation(n_comp)) ** 0.8
    rest = (
        rng.choice(n_comp, size=n - n_comp, p=popularity / popularity.sum())
        if n > n_comp
        else np.zeros(0, dtype=np.int64)
    )
    company = rng.permutation(np.concatenate([first, rest]).astype(np.int64))

    c_ind = comp.industry[company]
    fam = np.where(
        rng.random(n) < P_JOB_PRIMARY_FAMILY,
        comp.family[company],
        _sample_rows(cat.industry_family_cum[c_ind], rng.random(n)),
    )
    level = rng.choice(5, size=n, p=JOB_LEVEL_P)
    bounds = np.array(tx.LEVEL_YEARS)
    lo, hi = bounds[level, 0], bounds[level, 1]
    min_years = np.maximum(lo + rng.choice([-1.0, 0.0, 0.0, 1.0], size=n), 0.0)
    max_years = np.maximum(hi + rng.choice([0.0, 0.0, 1.0, 2.0], size=n), min_years)
    has_max_years = rng.random(n) >= P_JOB_NO_MAX_YEARS

    primary, second, neighbour = _pick_clusters(rng, cat, fam)
    k = rng.integers(JOB_SKILLS_MIN, JOB_SKILLS_MAX + 1, size=n)
    sel, in_primary, _foreign = _pick_skills(
        rng, cat, fam, primary, second, neighbour, k, JOB_SKILLS_MAX
    )
    keep = np.arange(JOB_SKILLS_MAX)[None, :] < k[:, None]
    req_p = np.where(in_primary, 0.8, 0.4)
    required = rng.random((n, JOB_SKILLS_MAX)) < req_p
    required[:, 0] = True
    min_prof = (
        np.array([3, 3, 4, 4, 4])[level][:, None]
        - (rng.random((n, JOB_SKILLS_MAX)) < 0.35)
        - (~required & (rng.random((n, JOB_SKILLS_MAX)) < 0.6))
    )
    min_prof = np.clip(min_prof, 2, 4)

    # Where: one of the company's offices, HQ most often.
    policy_p = np.where(
        comp.remote_first[company][:, None],
        np.array(JOB_POLICY_P_REMOTE_FIRST)[None, :],
        np.where(
            comp.office_centric[company][:, None],
            np.array(JOB_POLICY_P_OFFICE)[None, :],
            np.array(JOB_POLICY_P_DEFAULT)[None, :],
        ),
    )
    policy = _sample_rows(_cum(policy_p), rng.random(n))
    office_col = rng.choice(3, size=n, p=(0.6, 0.25, 0.15))
    office = comp.offices[company, office_col]
    located = (policy != 2) | (rng.random(n) >= P_REMOTE_JOB_NO_LOCATION)
    tz_only = ~located & (rng.random(n) < 0.5)
    city = np.where(located, office, n_city)
    lat = np.round(cat.city_lat[office] + rng.normal(0, 0.01, size=n), 4)
    lon = np.round(cat.city_lon[office] + rng.normal(0, 0.01, size=n), 4)
    lat = np.clip(lat, -90.0, 90.0)
    lon = np.clip(lon, -180.0, 180.0)
    tz = cat.city_tz[np.where(located | tz_only, office, n_city)]  # n_city -> trailing None

    # A remote job tied to a region pays like its office; "anywhere" pays in USD.
    local_pay = located | tz_only
    cost = np.where(local_pay, cat.city_cost[office], 0.9)
    fx = np.where(local_pay, cat.city_fx[office], 1.0)
    currency = np.where(local_pay, cat.city_currency[office], "USD").astype(object)
    usd = (
        cat.salary_usd[fam, level]
        * cost
        * np.array(SIZE_PAY)[comp.size[company]]
        * rng.lognormal(0.0, 0.1, size=n)
    )
    smin, smax, currency = _salaries(rng, usd, fx, currency, (0.88, 0.95), (1.08, 1.3))
    has_salary = rng.random(n) >= P_JOB_NO_SALARY
    status = rng.choice(3, size=n, p=JOB_STATUS_P)

    gcl = cat.cluster_offset[fam] + primary
    title_idx = _pick_from_offsets(rng, cat.title_start[gcl, level], cat.title_count[gcl, level])
    frag_a, frag_b = _two_distinct(rng, cat.job_start[fam], cat.job_count[fam])
    # The same team and domain vocabulary as talent bios (see tx.TEAM_FOCUS).
    focus_idx = _pick_from_offsets(rng, cat.focus_start[gcl], cat.focus_count[gcl])
    domain_idx = _pick_from_offsets(rng, cat.domain_start[c_ind], cat.domain_count[c_ind])
    line_idx = rng.integers(0, len(tx.JOB_DOMAIN_LINES), size=n)
    ids = _uuids(rng, n)

    names_m = np.asarray(cat.skill_names, dtype=object)[sel].tolist()
    req_l = required.tolist()
    prof_l = min_prof.tolist()
    k_l = k.tolist()
    min_l = min_years.tolist()
    max_l = max_years.tolist()
    has_max_l = has_max_years.tolist()
    city_l = cat.city_name[city].tolist()
    tz_l = tz.tolist()
    policy_l = policy.tolist()
    smin_l, smax_l, cur_l = smin.tolist(), smax.tolist(), currency.tolist()
    has_sal_l = has_salary.tolist()

    titles: list[str] = []
    descriptions: list[str] = []
    for i in range(n):
        c = int(company[i])
        fam_i = tx.FAMILIES[fam[i]]
        title = cat.titles[title_idx[i]]
        titles.append(title)
        names = names_m[i][: k_l[i]]
        focus = cat.focus[focus_idx[i]]
        fields = {
            "s0": names[0],
            "s1": names[1],
            "s2": names[2],
            "company": comp.names[c],
            "company_poss": _possessive(comp.names[c]),
            "team": fam_i.team,
            "industry": tx.INDUSTRY_LABELS[tx.INDUSTRIES[comp.industry[c]]],
            "focus": focus,
            "a_focus": f"{_article(focus)} {focus}",
            "domain": cat.domains[domain_idx[i]],
        }
        must = [
            f"- {_PROFICIENCY_WORDS[prof_l[i][j]]} {names[j]}"
            for j in range(len(names))
            if req_l[i][j]
        ]
        nice = [f"- {names[j]}" for j in range(len(names)) if not req_l[i][j]]
        y0 = min_l[i]
        if has_max_l[i]:
            exp = f"- {_fmt_years(y0)}-{_fmt_years(max_l[i])} years of relevant experience"
        elif y0 > 0:
            exp = f"- {_fmt_years(y0)}+ years of relevant experience"
        else:
            exp = "- No prior professional experience required"
        where = city_l[i]
        if policy_l[i] == 0:
            place = f"This role is on-site in {where}."
        elif policy_l[i] == 1:
            place = f"This is a hybrid role based in {where}, with two or three office days a week."
        elif where is not None:
            place = f"This role is fully remote; the team is anchored in {where} ({tz_l[i]})."
        elif tz_l[i] is not None:
            place = f"This role is fully remote within a few hours of {tz_l[i]}."
        else:
            place = "This role is fully remote, from anywhere."
        pay = (
            f" The salary range is {smin_l[i]:,} to {smax_l[i]:,} {cur_l[i]} per year."
            if has_sal_l[i]
            else ""
        )
        body = (
            f"{comp.intro[c]}\n\n"
            f"We are hiring {_article(title)} {title} to join the {fam_i.team} team. "
            f"{tx.JOB_DOMAIN_LINES[line_idx[i]].format(**fields)} "
            f"{cat.job_frags[frag_a[i]].format(**fields)} "
            f"{cat.job_frags[frag_b[i]].format(**fields)}\n\n"
            "What you will bring:\n" + "\n".join([exp, *must])
        )
        if nice:
            body += "\n\nNice to have:\n" + "\n".join(nice)
        descriptions.append(f"{body}\n\n{place}{pay}")

    comp_ids = np.empty(n_comp, dtype=object)
    comp_ids[:] = comp.ids
    rows = list(
        zip(
            ids,
            comp_ids[company].tolist(),
            titles,
            descriptions,
            np.asarray(tx.EXPERIENCE_LEVELS, dtype=object)[level].tolist(),
            min_l,
            _masked(max_years, has_max_years),
            city_l,
            cat.city_country[city].tolist(),
            _masked(lat, located),
            _masked(lon, located),
            tz_l,
            np.asarray(tx.REMOTE_POLICIES, dtype=object)[policy].tolist(),
            _masked(smin, has_salary),
            _masked(smax, has_salary),
            _masked(currency, has_salary),
            np.asarray(tx.JOB_STATUSES, dtype=object)[status].tolist(),
            strict=True,
        )
    )
    row_of = np.repeat(np.arange(n), k)
    id_arr = np.empty(n, dtype=object)
    id_arr[:] = ids
    skill_rows = list(
        zip(
            id_arr[row_of].tolist(),
            (sel[keep] + 1).tolist(),
            required[keep].tolist(),
            min_prof[keep].tolist(),
            strict=True,
        )
    )
    return rows, skill_rows

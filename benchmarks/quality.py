"""Ranking quality of what users are served, against cosine-only and rules-only orderings.

Three synthetic markets, each loaded with plain SQL into its own scratch
database (with `matching.skip_enqueue = on`), embedded with the real
all-MiniLM-L6-v2 model, rematched entity by entity through the real
`RankingPipeline`, and read back through the real RPCs
(`public.get_talent_matches` / `public.get_job_matches`, as service_role):

  (a) text only: every talent and job has the same structured fields (level,
      remote, salary band, company, no skills); talent i's right job is job i,
      the only one about the same niche topic (domain x activity).
  (b) structure only: the same generic headline/bio/title/description
      everywhere; job i is the one whose skills, level, salary band and city
      fit talent i (the embedding text still carries level and skill names:
      that is the product's text template).
  (c) both, plus a hidden preference: topics in the text, cities in the
      structure, and a company-size preference no field states
      (`preferred_company_sizes` is empty): talents early in their career
      (< 5 years) prefer micro/small companies, experienced ones
      large/enterprise. (A preference that varies by talent is what lets a
      company's list of talents change too; a uniform one would only shift
      every talent of a job by the same amount.) Topics, with all their
      talents and jobs, are split into training and held-out halves. Simulated
      users act on the top 10 they are served (training pairs only):
      talents apply / are interested / dismiss, companies shortlist / contact /
      reject, by the ground-truth relevance; then `TrainingPipeline` retrains
      (gate included), every entity is rematched, and held-out talents and
      held-out jobs are measured again.

Relevance: (a), (b) 1 for the right pair, 0 otherwise; (c) graded
topic x (1 + same city + preferred size), 0..3. Metrics per list (top 10,
linear gains, ideal = the entity's best possible list over the whole market):
hit@1 and hit@10 (a best-relevance item at the top / in the top 10) and
NDCG@10. Baselines reorder the SAME served list: by the cosine of the stored
embeddings, and by `FallbackMatcher` rules with no semantic input (ties by
the pair's stable hash).

The SQL fallback path (no active model: the pipeline stores fallback rows)
is measured on (a) and (b) too. On the seeded market (the one the initial
model is trained on) the share of distinct top-3 reason sets among stored
rows is reported for ML and fallback rows.

    python benchmarks/quality.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import structlog
from psycopg import sql
from psycopg_pool import ConnectionPool

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import scratch_database, write_result

from matching.db.migrate import migrate
from matching.db.scratch import temporary_database
from matching.pipeline.loaders import load_fx_rates, load_jobs, load_talents
from matching.pipeline.ranking import RankingPipeline, pair_tiebreak
from matching.retrieval import store as embedding_store
from matching.retrieval.embedder import TextEmbedder
from matching.scoring import registry
from matching.scoring.fallback import FallbackMatcher
from matching.scoring.registry import ActiveModel
from matching.settings import get_settings
from matching.synthetic.seed import seed as seed_market
from matching.training.initial import train_initial_model
from matching.training.retrain import TrainingPipeline

K = 10
TOLERANCE = 0.02
SERVED_LIMIT = 100  # the read functions' maximum page


# ---------------------------------------------------------------- metrics (pure)


def dcg_at_k(gains: Sequence[float], k: int = K) -> float:
    """Sum of gain / log2(rank + 1) over the first k ranks (rank 1 first), linear gains."""
    return float(sum(g / math.log2(r + 2) for r, g in enumerate(list(gains)[:k])))


def ndcg_at_k(ranked: Sequence[float], ideal: Sequence[float], k: int = K) -> float | None:
    """DCG of the served order over the DCG of the best order of `ideal` (every
    candidate the entity could have been shown); None when nothing is relevant."""
    best = dcg_at_k(sorted(ideal, reverse=True), k)
    if best <= 0:
        return None
    return dcg_at_k(ranked, k) / best


def hit_at_k(ranked: Sequence[float], target: float, k: int) -> float:
    """1.0 when an item of relevance >= target (the entity's best, > 0) is in the top k."""
    if target <= 0:
        raise ValueError("hit@k needs a positive target relevance")
    return float(any(g >= target for g in list(ranked)[:k]))


def list_metrics(
    ranked: Sequence[float], ideal: Sequence[float], k: int = K
) -> dict[str, float] | None:
    """hit@1, hit@k and NDCG@k of one list; None when the entity has no relevant item."""
    target = max(ideal, default=0.0)
    if target <= 0:
        return None
    ndcg = ndcg_at_k(ranked, ideal, k)
    assert ndcg is not None
    return {
        "hit@1": hit_at_k(ranked, target, 1),
        f"hit@{k}": hit_at_k(ranked, target, k),
        f"ndcg@{k}": ndcg,
    }


def mean_metrics(rows: Iterable[dict[str, float] | None]) -> dict[str, float]:
    """Mean of each metric over the lists that count, plus how many did."""
    kept = [r for r in rows if r is not None]
    if not kept:
        return {"n": 0}
    out: dict[str, float] = {name: float(np.mean([r[name] for r in kept])) for name in kept[0]}
    out["n"] = len(kept)
    return out


def distinct_share(sets: Sequence[Iterable[str]]) -> float:
    """Distinct sets / sets (1.0: every row has its own set of reasons)."""
    if not sets:
        return 0.0
    return len({frozenset(s) for s in sets}) / len(sets)


def baseline_order(values: Sequence[float], ties: Sequence[int]) -> list[int]:
    """Positions best first: value descending, ties by the pair's stable hash."""
    v = np.round(np.asarray(values, dtype=np.float64), 9)
    return [int(i) for i in np.lexsort((np.asarray(ties, dtype=np.int64), -v))]


# ------------------------------------------------------------------ vocabulary

DOMAINS: tuple[tuple[str, str], ...] = (
    ("veterinary clinics", "pet owners, vets and animal patients"),
    ("maritime shipping", "container vessels, ports and harbour pilots"),
    ("solar farms", "photovoltaic panels, inverters and grid operators"),
    ("dental practices", "dentists, hygienists and patient check-ups"),
    ("commercial bakeries", "bread ovens, flour suppliers and early delivery runs"),
    ("ski resorts", "lift passes, slopes and snow conditions"),
    ("public libraries", "librarians, book loans and reading rooms"),
    ("wind turbine maintenance", "turbine blades, nacelles and offshore crews"),
    ("craft breweries", "brewing tanks, hops and taprooms"),
    ("airport ground handling", "baggage carts, gates and aircraft turnaround crews"),
    ("dairy farms", "milking parlours, cattle herds and milk collection"),
    ("hospital pharmacies", "prescriptions, drug stock and pharmacists"),
    ("wedding planning", "venues, caterers and guest lists"),
    ("freight rail", "locomotives, rail yards and cargo wagons"),
    ("hotel housekeeping", "room cleaning, linen and the front desk"),
    ("construction cranes", "tower cranes, building sites and lift plans"),
    ("fitness studios", "gym members, group classes and personal trainers"),
    ("vineyards", "grape harvests, wine cellars and tastings"),
    ("car rental", "rental fleets, pick-up counters and mileage"),
    ("museum collections", "artefacts, exhibitions and curators"),
    ("fishing fleets", "trawlers, catch quotas and fish auctions"),
    ("university admissions", "applicants, transcripts and offer letters"),
    ("theatre productions", "rehearsals, stage crews and ticketed shows"),
    ("waste collection", "garbage trucks, recycling bins and landfill sites"),
    ("beekeeping", "bee hives, honey extraction and pollination contracts"),
    ("elevator servicing", "lift shafts, safety inspections and technicians"),
    ("greenhouse horticulture", "seedlings, climate control and flower growers"),
    ("esports tournaments", "players, match brackets and live streams"),
    ("funeral homes", "memorial services, grieving families and burial plots"),
    ("water utilities", "pipelines, reservoirs and water meters"),
)
ACTIVITIES: tuple[tuple[str, str], ...] = (
    ("scheduling", "appointment calendars and shift rotas"),
    ("route planning", "delivery routes and travel times"),
    ("billing", "invoices, payments and refunds"),
    ("demand forecasting", "seasonal demand and sales predictions"),
    ("inventory tracking", "stock levels and reorder points"),
    ("safety compliance", "inspections, audits and incident reports"),
    ("customer support", "help desk tickets and live chat"),
    ("sensor monitoring", "IoT sensors, alerts and telemetry dashboards"),
    ("pricing optimisation", "dynamic prices and discount rules"),
    ("staff training", "training courses and certification records"),
    ("quality inspection", "defect detection and inspection checklists"),
    ("online booking", "web reservations and availability calendars"),
    ("energy reporting", "electricity meters and consumption reports"),
    ("fraud detection", "suspicious transactions and risk scores"),
    ("document archiving", "scanned records and search indexes"),
    ("marketing analytics", "campaign performance and customer segments"),
    ("maintenance planning", "work orders and equipment repairs"),
    ("payroll", "wages, timesheets and tax deductions"),
    ("supplier procurement", "purchase orders and vendor contracts"),
    ("mobile apps", "iOS and Android apps with push notifications"),
)
CITIES: tuple[tuple[str, str, float, float, str], ...] = (
    ("Berlin", "DE", 52.52, 13.405, "Europe/Berlin"),
    ("Madrid", "ES", 40.4168, -3.7038, "Europe/Madrid"),
    ("Paris", "FR", 48.8566, 2.3522, "Europe/Paris"),
    ("London", "GB", 51.5074, -0.1278, "Europe/London"),
    ("Warsaw", "PL", 52.2297, 21.0122, "Europe/Warsaw"),
    ("Rome", "IT", 41.9028, 12.4964, "Europe/Rome"),
    ("Stockholm", "SE", 59.3293, 18.0686, "Europe/Stockholm"),
    ("New York", "US", 40.7128, -74.006, "America/New_York"),
    ("Chicago", "US", 41.8781, -87.6298, "America/Chicago"),
    ("Toronto", "CA", 43.6532, -79.3832, "America/Toronto"),
    ("Sao Paulo", "BR", -23.5505, -46.6333, "America/Sao_Paulo"),
    ("Tokyo", "JP", 35.6762, 139.6503, "Asia/Tokyo"),
    ("Sydney", "AU", -33.8688, 151.2093, "Australia/Sydney"),
    ("Bangalore", "IN", 12.9716, 77.5946, "Asia/Kolkata"),
)
SKILLS: tuple[tuple[str, str], ...] = tuple(
    (name, cat)
    for cat, names in (
        ("software", ("Python", "Go", "Rust", "Java", "Kotlin", "TypeScript", "C++", "Ruby")),
        ("data", ("SQL", "Spark", "Airflow", "dbt", "Pandas", "Kafka", "Tableau", "PyTorch")),
        ("infra", ("Kubernetes", "Terraform", "AWS", "GCP", "Linux", "Ansible", "Docker", "Nginx")),
        ("design", ("Figma", "Sketch", "Illustrator", "InDesign", "Blender", "Webflow")),
        ("business", ("Salesforce", "HubSpot", "Excel", "SAP", "Jira", "Notion")),
    )
    for name in names
)
LEVELS = ("junior", "mid", "senior", "lead", "principal")
#: (talent years, job min years, job max years) by level
LEVEL_YEARS = {
    "junior": (1.0, 0.0, 2.0),
    "mid": (3.5, 2.0, 5.0),
    "senior": (6.5, 5.0, 8.0),
    "lead": (10.0, 8.0, 12.0),
    "principal": (15.0, 12.0, 20.0),
}
SALARY_BANDS = (
    (50_000, 65_000),
    (65_000, 80_000),
    (80_000, 95_000),
    (95_000, 110_000),
    (110_000, 130_000),
    (130_000, 150_000),
)
#: skills market (b) draws its 3-skill sets from
B_SKILL_POOL = 8
SMALL_SIZES = ("micro", "small")
LARGE_SIZES = ("large", "enterprise")


def topics(n: int, rng: random.Random) -> list[tuple[int, int]]:
    """n distinct (domain, activity) index pairs from as small a grid as fits
    (600 = every pair), so most topics have near misses: jobs of the same
    domain with another activity, and the other way round."""
    n_act = min(len(ACTIVITIES), max(2, math.ceil(math.sqrt(n))))
    n_dom = math.ceil(n / n_act)
    if n_dom > len(DOMAINS):
        raise SystemExit(f"at most {len(DOMAINS) * len(ACTIVITIES)} distinct topics, asked for {n}")
    domains = rng.sample(range(len(DOMAINS)), n_dom)
    activities = rng.sample(range(len(ACTIVITIES)), n_act)
    return rng.sample([(d, a) for d in domains for a in activities], n)


def talent_topic_text(topic: tuple[int, int], rng: random.Random) -> tuple[str, str]:
    (domain, dwords), (activity, awords) = DOMAINS[topic[0]], ACTIVITIES[topic[1]]
    role = rng.choice(("Software engineer", "Developer", "Product engineer", "Engineer"))
    headline = f"{role} specialising in {activity} for {domain}"
    bio = rng.choice(
        (
            f"I have spent years building {activity} software for {domain}: {dwords},"
            f" {awords}. I like working close to the people who run {domain}.",
            f"My work is {activity} for {domain}. I know {awords} inside out and the"
            f" day-to-day of {dwords}.",
            f"Builder of {activity} systems for {domain} ({dwords}); happiest when"
            f" {awords} just work.",
        )
    )
    return headline, bio


def job_topic_text(topic: tuple[int, int], rng: random.Random) -> tuple[str, str]:
    (domain, dwords), (activity, awords) = DOMAINS[topic[0]], ACTIVITIES[topic[1]]
    title = rng.choice(
        (f"Engineer, {activity} for {domain}", f"{activity.capitalize()} engineer ({domain})")
    )
    description = rng.choice(
        (
            f"Join the team building {activity} tools for {domain}. You will own"
            f" {awords} for {dwords}.",
            f"We make {activity} software used by {domain}: {dwords}. The role covers"
            f" {awords} end to end.",
        )
    )
    return title, description


# ---------------------------------------------------------------------- markets


def new_id(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


@dataclass
class Market:
    name: str
    companies: list[dict[str, Any]]
    talents: list[dict[str, Any]]
    jobs: list[dict[str, Any]]
    #: (talent row, skill index, proficiency, years)
    talent_skills: list[tuple[int, int, int, float]] = field(default_factory=list)
    #: (job row, skill index, required, minimum proficiency)
    job_skills: list[tuple[int, int, bool, int]] = field(default_factory=list)
    #: ground-truth relevance, talents x jobs
    relevance: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    train_talents: set[int] = field(default_factory=set)
    train_jobs: set[int] = field(default_factory=set)

    @property
    def talent_ids(self) -> list[uuid.UUID]:
        return [t["id"] for t in self.talents]

    @property
    def job_ids(self) -> list[uuid.UUID]:
        return [j["id"] for j in self.jobs]


def _company(rng: random.Random, name: str, size: str) -> dict[str, Any]:
    return {
        "id": new_id(rng),
        "name": name,
        "description": "",
        "industry": "software",
        "size": size,
        "work_styles": ["async"],
        "values": ["craft"],
    }


def _talent(rng: random.Random, **fields: Any) -> dict[str, Any]:
    row = {
        "id": new_id(rng),
        "experience_level": "senior",
        "years_experience": 6.5,
        "city": None,
        "country_code": None,
        "latitude": None,
        "longitude": None,
        "timezone": "Europe/London",
        "remote_preference": "remote",
        "salary_min": 95_000,
        "salary_max": 105_000,
        "salary_currency": "USD",
    }
    row.update(fields)
    return row


def _job(rng: random.Random, company: dict[str, Any], **fields: Any) -> dict[str, Any]:
    row = {
        "id": new_id(rng),
        "company_id": company["id"],
        "experience_level": "senior",
        "min_years": 5.0,
        "max_years": 8.0,
        "city": None,
        "country_code": None,
        "latitude": None,
        "longitude": None,
        "timezone": "Europe/London",
        "remote_policy": "remote",
        "salary_min": 90_000,
        "salary_max": 120_000,
        "salary_currency": "USD",
    }
    row.update(fields)
    return row


def _city(c: int) -> dict[str, Any]:
    name, country, lat, lon, tz = CITIES[c]
    return {
        "city": name,
        "country_code": country,
        "latitude": lat,
        "longitude": lon,
        "timezone": tz,
    }


def market_a(n: int, seed: int) -> Market:
    """Only the text tells jobs apart."""
    rng = random.Random(seed)
    company = _company(rng, "Northwind Works", "medium")
    talents, jobs = [], []
    for topic in topics(n, rng):
        headline, bio = talent_topic_text(topic, rng)
        talents.append(_talent(rng, headline=headline, bio=bio))
        title, description = job_topic_text(topic, rng)
        jobs.append(_job(rng, company, title=title, description=description))
    return Market("a", [company], talents, jobs, relevance=np.eye(n))


def market_b(n: int, seed: int) -> Market:
    """Only the structured fields tell jobs apart (text is generic)."""
    rng = random.Random(seed)
    company = _company(rng, "Northwind Works", "medium")
    talents, jobs, t_skills, j_skills = [], [], [], []
    # a small skill pool: skill sets (and levels) repeat across jobs, so the
    # text (which names them) cannot single out the right job; salary band and
    # city can
    pool = rng.sample(range(len(SKILLS)), B_SKILL_POOL)
    seen: set[tuple[Any, ...]] = set()
    for i in range(n):
        while True:
            skills = tuple(sorted(rng.sample(pool, 3)))
            level = rng.choice(LEVELS)
            band = rng.choice(SALARY_BANDS)
            city = rng.randrange(len(CITIES))
            if (skills, level, band, city) not in seen:
                seen.add((skills, level, band, city))
                break
        years, lo, hi = LEVEL_YEARS[level]
        where = _city(city)
        talents.append(
            _talent(
                rng,
                headline="Professional open to new opportunities",
                bio="Looking for my next role.",
                experience_level=level,
                years_experience=years,
                remote_preference="onsite",
                salary_min=band[0] + 2_000,
                salary_max=band[1] - 2_000,
                **where,
            )
        )
        jobs.append(
            _job(
                rng,
                company,
                title="Open position",
                description="We are hiring. Apply to learn more.",
                experience_level=level,
                min_years=lo,
                max_years=hi,
                remote_policy="onsite",
                salary_min=band[0],
                salary_max=band[1],
                **where,
            )
        )
        for s in skills:
            t_skills.append((i, s, 4, years))
            j_skills.append((i, s, True, 3))
    return Market("b", [company], talents, jobs, t_skills, j_skills, relevance=np.eye(n))


def market_c(n: int, seed: int) -> Market:
    """Text (topic) and structure (city) both matter; a hidden size preference.

    Per topic: 4 jobs = {city A, city B} x {small-ish, large-ish company} and 4
    talents = {A, B} x {early career, experienced}. Relevance of a pair:
    same topic x (1 + same city + preferred size), so each talent has exactly
    one best job and each job one best talent.
    """
    if n % 4:
        raise SystemExit("market c needs a multiple of 4 talents and jobs")
    rng = random.Random(seed)
    # one name for every company: the name is part of a job's embedded text and
    # must not give the size away
    companies = [
        _company(rng, "Acme Group", size) for size in SMALL_SIZES + LARGE_SIZES for _ in (0, 1)
    ]
    by_size = {s: [c for c in companies if c["size"] == s] for s in SMALL_SIZES + LARGE_SIZES}
    talents, jobs = [], []
    t_meta: list[tuple[int, int, bool]] = []  # topic, city, early career
    j_meta: list[tuple[int, int, bool]] = []  # topic, city, small company
    n_topics = n // 4
    topic_list = topics(n_topics, rng)
    for k, topic in enumerate(topic_list):
        cities = rng.sample(range(len(CITIES)), 2)
        for city in cities:
            for small in (True, False):
                size = rng.choice(SMALL_SIZES if small else LARGE_SIZES)
                title, description = job_topic_text(topic, rng)
                jobs.append(
                    _job(
                        rng,
                        rng.choice(by_size[size]),
                        title=title,
                        description=description,
                        experience_level="mid",
                        min_years=1.0,
                        max_years=10.0,
                        remote_policy="onsite",
                        salary_min=80_000,
                        salary_max=110_000,
                        **_city(city),
                    )
                )
                j_meta.append((k, city, small))
            for early in (True, False):
                headline, bio = talent_topic_text(topic, rng)
                years = float(rng.choice((2, 3, 4)) if early else rng.choice((6, 7, 8, 9)))
                talents.append(
                    _talent(
                        rng,
                        headline=headline,
                        bio=bio,
                        experience_level="mid",
                        years_experience=years,
                        remote_preference="onsite",
                        salary_min=85_000,
                        salary_max=100_000,
                        **_city(city),
                    )
                )
                t_meta.append((k, city, early))
    rel = np.zeros((n, n))
    for t, (tk, tc, early) in enumerate(t_meta):
        for j, (jk, jc, small) in enumerate(j_meta):
            if tk == jk:
                rel[t, j] = 1.0 + float(tc == jc) + float(early == small)
    train_topics = set(rng.sample(range(n_topics), n_topics // 2))
    return Market(
        "c",
        companies,
        talents,
        jobs,
        relevance=rel,
        train_talents={t for t, m in enumerate(t_meta) if m[0] in train_topics},
        train_jobs={j for j, m in enumerate(j_meta) if m[0] in train_topics},
    )


# -------------------------------------------------------------------- loading

_TALENT_COLUMNS = (
    "id",
    "headline",
    "bio",
    "experience_level",
    "years_experience",
    "city",
    "country_code",
    "latitude",
    "longitude",
    "timezone",
    "remote_preference",
    "salary_min",
    "salary_max",
    "salary_currency",
)
_JOB_COLUMNS = (
    "id",
    "company_id",
    "title",
    "description",
    "experience_level",
    "min_years",
    "max_years",
    "city",
    "country_code",
    "latitude",
    "longitude",
    "timezone",
    "remote_policy",
    "salary_min",
    "salary_max",
    "salary_currency",
)


def load_market(conn: Any, market: Market) -> None:
    """Insert the market in one transaction, without enqueueing rematches."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("select set_config('matching.skip_enqueue', 'on', true)")
        cur.executemany(
            "insert into public.skills (id, name, category) overriding system value"
            " values (%s, %s, %s)",
            [(i + 1, name, cat) for i, (name, cat) in enumerate(SKILLS)],
        )
        cur.executemany(
            "insert into public.companies (id, name, description, industry, size, work_styles,"
            ' "values") values (%(id)s, %(name)s, %(description)s, %(industry)s, %(size)s,'
            " %(work_styles)s::public.work_style[], %(values)s)",
            market.companies,
        )
        cur.executemany(
            f"insert into public.talents ({', '.join(_TALENT_COLUMNS)}, open_to_work,"
            " preferred_industries, preferred_company_sizes, work_styles) values ("
            + ", ".join(f"%({c})s" for c in _TALENT_COLUMNS)
            + ", true, '{}', '{}', '{}')",
            market.talents,
        )
        cur.executemany(
            f"insert into public.jobs ({', '.join(_JOB_COLUMNS)}, status) values ("
            + ", ".join(f"%({c})s" for c in _JOB_COLUMNS)
            + ", 'open')",
            market.jobs,
        )
        cur.executemany(
            "insert into public.talent_skills (talent_id, skill_id, proficiency, years)"
            " values (%s, %s, %s, %s)",
            [(market.talents[t]["id"], s + 1, p, y) for t, s, p, y in market.talent_skills],
        )
        cur.executemany(
            "insert into public.job_skills (job_id, skill_id, required, min_proficiency)"
            " values (%s, %s, %s, %s)",
            [(market.jobs[j]["id"], s + 1, r, m) for j, s, r, m in market.job_skills],
        )


# ------------------------------------------------------------- engine helpers


class Engine:
    """The pool, embedder and pipeline of one market database, built like the worker's."""

    def __init__(self, url: str, embedder: Any, threads: int) -> None:
        self.url = url
        self.embedder = embedder
        self.threads = threads
        self.settings = get_settings()
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=threads + 1,
            kwargs={"autocommit": True},
            open=True,
            name="bench-quality",
        )
        self.active = ActiveModel()
        self.pipeline = RankingPipeline(self.pool, embedder, self.active, self.settings)

    def close(self) -> None:
        self.pool.close()

    def fresh_model_cache(self) -> None:
        """A new ActiveModel (ActiveModel keeps the last model when none is active)."""
        self.active = ActiveModel()
        self.pipeline = RankingPipeline(self.pool, self.embedder, self.active, self.settings)

    def embed(self, talent_ids: list[uuid.UUID], job_ids: list[uuid.UUID]) -> int:
        """Embed every entity in batches first (as the worker's backfill does:
        jobs first), so single rematches retrieve against a complete index."""
        with self.pool.connection() as conn:
            n = embedding_store.ensure_embeddings(conn, self.embedder, "job", job_ids)
            n += embedding_store.ensure_embeddings(conn, self.embedder, "talent", talent_ids)
        return n

    def rematch_all(self, talent_ids: list[uuid.UUID], job_ids: list[uuid.UUID]) -> dict[str, Any]:
        """Every talent, then every job, through the pipeline; sources and timing."""
        started = time.perf_counter()
        sources: dict[str, int] = {}
        for run, ids in (
            (self.pipeline.rematch_talent, talent_ids),
            (self.pipeline.rematch_job, job_ids),
        ):
            if self.threads > 1:
                with ThreadPoolExecutor(self.threads) as ex:
                    results = list(ex.map(run, ids))
            else:
                results = [run(i) for i in ids]
            for r in results:
                sources[str(r.source)] = sources.get(str(r.source), 0) + 1
        seconds = time.perf_counter() - started
        return {
            "rematches": len(talent_ids) + len(job_ids),
            "seconds": round(seconds, 2),
            "per_second": round((len(talent_ids) + len(job_ids)) / seconds, 1),
            "sources": sources,
        }


_TALENT_RPC = (
    "select job_id, score::float8, source::text from public.get_talent_matches("
    "p_talent_id := %s, p_limit := %s, p_min_score := 0)"
)
_JOB_RPC = (
    "select talent_id, score::float8, source::text from public.get_job_matches("
    "p_job_id := %s, p_limit := %s)"
)


@contextmanager
def as_service_role(conn: Any):
    """One request as PostgREST runs it for the service role."""
    with conn.transaction():
        conn.execute("set local role service_role")
        conn.execute(
            "select set_config('request.jwt.claims', %s, true),"
            " set_config('request.method', 'POST', true)",
            (json.dumps({"role": "service_role"}),),
        )
        yield


def served(conn: Any, side: str, entity: uuid.UUID, limit: int = SERVED_LIMIT) -> list[tuple]:
    with as_service_role(conn):
        return conn.execute(
            _TALENT_RPC if side == "talent" else _JOB_RPC, (entity, limit)
        ).fetchall()


# ------------------------------------------------------------------ measuring


def measure(conn: Any, market: Market, side: str, entities: Sequence[int]) -> dict[str, Any]:
    """Served vs cosine-only vs rules-only over the same served list, one side."""

    t_ids, j_ids = market.talent_ids, market.job_ids
    t_pos = {t: i for i, t in enumerate(t_ids)}
    j_pos = {j: i for i, j in enumerate(j_ids)}
    tv = embedding_store.vectors(conn, "talent", t_ids)
    jv = embedding_store.vectors(conn, "job", j_ids)
    lists: list[tuple[int, list[int], list[str]]] = []  # entity, counterpart rows, sources
    for e in entities:
        rows = served(conn, side, (t_ids if side == "talent" else j_ids)[e])
        pos = j_pos if side == "talent" else t_pos
        lists.append((e, [pos[r[0]] for r in rows], [r[2] for r in rows]))
    # every served pair, as (talent row, job row)
    pairs = [(e, o) if side == "talent" else (o, e) for e, others, _ in lists for o in others]
    cosine = np.array([float(np.dot(tv[t_ids[t]], jv[j_ids[j]])) for t, j in pairs])
    fx = load_fx_rates(conn)
    talents, jobs = load_talents(conn, t_ids, fx), load_jobs(conn, j_ids, fx)
    rules = (
        FallbackMatcher()
        .score_pairs(
            talents,
            jobs,
            np.array([t for t, _ in pairs], dtype=np.int64),
            np.array([j for _, j in pairs], dtype=np.int64),
            semantic=None,
            reasons=False,
        )
        .score
        if pairs
        else np.zeros(0)
    )
    ties = [pair_tiebreak(t_ids[t], j_ids[j]) for t, j in pairs]

    out: dict[str, list] = {"served": [], "cosine": [], "rules": []}
    sources: dict[str, int] = {}
    empty = 0
    at = 0
    for e, others, srcs in lists:
        n = len(others)
        rel = market.relevance[e] if side == "talent" else market.relevance[:, e]
        gains = [float(rel[o]) for o in others]
        for s in srcs:
            sources[s] = sources.get(s, 0) + 1
        empty += n == 0
        cos_order = baseline_order(cosine[at : at + n], ties[at : at + n])
        rule_order = baseline_order(rules[at : at + n], ties[at : at + n])
        at += n
        out["served"].append(list_metrics(gains, rel))
        out["cosine"].append(list_metrics([gains[i] for i in cos_order], rel))
        out["rules"].append(list_metrics([gains[i] for i in rule_order], rel))
    result: dict[str, Any] = {name: mean_metrics(rows) for name, rows in out.items()}
    result["lists"] = len(lists)
    result["empty_lists"] = int(empty)
    result["mean_list_length"] = round(len(pairs) / max(1, len(lists)), 1)
    result["served_sources"] = sources
    return result


def reason_diversity(conn: Any) -> dict[str, Any]:
    """Share of distinct top-3 reason sets (feature names) among stored rows, by source."""
    out: dict[str, Any] = {}
    for source, factors in conn.execute(
        "select source::text, coalesce(array_agg(explanation -> 'top_factors'), '{}')"
        " from public.matches group by source"
    ).fetchall():
        sets = [[f["feature"] for f in (row or [])] for row in factors]
        out[source] = {
            "rows": len(sets),
            "distinct_sets": len({frozenset(s) for s in sets}),
            "share": round(distinct_share(sets), 4),
        }
    return out


def deactivate_model(conn: Any) -> None:
    """No active model: the pipeline falls back to the SQL scorer."""
    conn.execute("update matching.model_versions set is_active = false where is_active")
    conn.execute("delete from public.matches")


def quick_commits(url: str) -> None:
    """synchronous_commit = off for this scratch database: every rematch commits,
    and waiting for the WAL flush measures the disk, not the ranking."""
    with psycopg.connect(url, autocommit=True) as conn:
        name = conn.execute("select current_database()").fetchone()[0]
        conn.execute(
            sql.SQL("alter database {} set synchronous_commit = off").format(sql.Identifier(name))
        )


def copy_model(url: str, model: Any) -> None:
    with psycopg.connect(url) as conn, conn.transaction():
        registry.register(conn, model)
        registry.activate(conn, model.version, reason="activate")


# ------------------------------------------------------------ simulated users


def simulate_feedback(conn: Any, market: Market, rng: random.Random) -> dict[str, int]:
    """Training users act on the top 10 they are served (training pairs only),
    by the ground-truth relevance; recorded through public.record_match_feedback."""
    t_ids, j_ids = market.talent_ids, market.job_ids
    t_pos = {t: i for i, t in enumerate(t_ids)}
    j_pos = {j: i for i, j in enumerate(j_ids)}
    top = int(market.relevance.max())
    events: list[tuple[uuid.UUID, uuid.UUID, str]] = []
    for t in sorted(market.train_talents):
        for job_id, _, _ in served(conn, "talent", t_ids[t], K):
            j = j_pos[job_id]
            if j not in market.train_jobs:
                continue
            rel = market.relevance[t, j]
            kind = "applied" if rel >= top else "interested" if rel >= top - 1 else "dismissed"
            events.append((t_ids[t], job_id, kind))
    for j in sorted(market.train_jobs):
        for talent_id, _, _ in served(conn, "job", j_ids[j], K):
            t = t_pos[talent_id]
            if t not in market.train_talents:
                continue
            rel = market.relevance[t, j]
            kind = "shortlisted" if rel >= top else "contacted" if rel >= top - 1 else "rejected"
            events.append((talent_id, j_ids[j], kind))
    rng.shuffle(events)  # users act in no particular order (the gate splits by time)
    # every talent and every company (one recruiter) acts through its own
    # account: the gate weighs feedback per account and needs many of them
    conn.execute("insert into auth.users (id) select id from public.talents on conflict do nothing")
    conn.execute("update public.talents set user_id = id where user_id is null")
    conn.execute(
        "insert into auth.users (id) select id from public.companies on conflict do nothing"
    )
    conn.execute(
        "insert into public.company_members (company_id, user_id) select id, id"
        " from public.companies on conflict do nothing"
    )
    company_of = dict(conn.execute("select id, company_id from public.jobs").fetchall())
    conn.commit()
    counts: dict[str, int] = {}
    for talent_id, job_id, kind in events:
        actor = talent_id if kind in ("applied", "interested", "dismissed") else company_of[job_id]
        with conn.transaction():
            conn.execute("set local role authenticated")
            conn.execute(
                "select set_config('request.jwt.claims', %s, true)",
                (json.dumps({"sub": str(actor), "role": "authenticated"}),),
            )
            conn.execute(
                "select 1 from public.record_match_feedback(%s, %s, %s)", (talent_id, job_id, kind)
            )
        counts[kind] = counts.get(kind, 0) + 1
    return counts


# ---------------------------------------------------------------------- runs


def _say(msg: str, t0: float) -> None:
    print(f"[{time.perf_counter() - t0:6.1f} s] {msg}", flush=True)


def run_seeded(url: str, embedder: Any, args: argparse.Namespace, t0: float) -> tuple[Any, dict]:
    """Train the initial model on the standard seeded market; reason diversity there."""
    _say("scratch server up", t0)
    migrate(url)
    quick_commits(url)
    seed_market(url, seed=42, n_talents=args.seed_talents, n_jobs=args.seed_jobs)
    with psycopg.connect(url) as conn:
        every_talent = [r[0] for r in conn.execute("select id from public.talents order by id")]
        every_job = [r[0] for r in conn.execute("select id from public.jobs order by id")]
        talents = [
            r[0]
            for r in conn.execute("select id from public.talents where open_to_work order by id")
        ]
        jobs = [
            r[0]
            for r in conn.execute("select id from public.jobs where status = 'open' order by id")
        ]
    engine = Engine(url, embedder, args.threads)
    try:
        # embedded here with the already loaded model: training reuses stored
        # embeddings of the same text (and would otherwise load a second model)
        embedded = engine.embed(every_talent, every_job)
        _say(f"seeded market loaded, {embedded} texts embedded; training the initial model", t0)
        report = train_initial_model(url, n_pairs=args.pairs, folds=args.folds, seed=42)
        _say(
            f"initial model {report.version}: holdout RMSE"
            f" {report.metrics['holdout_rmse']:.2f} (activated: {report.activated})",
            t0,
        )
        with psycopg.connect(url) as conn:
            model = registry.load(conn, report.version)
        ml_run = engine.rematch_all(talents, jobs)
        with psycopg.connect(url, autocommit=True) as conn:
            ml = reason_diversity(conn).get("ml", {})
            deactivate_model(conn)
        engine.fresh_model_cache()
        fb_run = engine.rematch_all(talents, jobs)
        with psycopg.connect(url, autocommit=True) as conn:
            fb = reason_diversity(conn).get("fallback", {})
    finally:
        engine.close()
    _say(f"seeded market: reasons measured ({ml_run['per_second']} rematches/s)", t0)
    return model, {
        "talents": len(talents),
        "jobs": len(jobs),
        "initial_model": {"version": report.version, "metrics": report.metrics},
        "ml": ml,
        "fallback": fb,
        "rematch_ml": ml_run,
        "rematch_fallback": fb_run,
    }


def prepare(url: str, market: Market, model: Any, engine: Engine) -> dict[str, Any]:
    migrate(url)
    quick_commits(url)
    with psycopg.connect(url) as conn:
        load_market(conn, market)
    copy_model(url, model)
    started = time.perf_counter()
    embedded = engine.embed(market.talent_ids, market.job_ids)
    return {"embedded": embedded, "embed_seconds": round(time.perf_counter() - started, 2)}


def run_structured(
    url: str, market: Market, model: Any, embedder: Any, args: argparse.Namespace, t0: float
) -> dict[str, Any]:
    """Markets (a) and (b): ML served, then the fallback path."""

    n_t, n_j = len(market.talents), len(market.jobs)
    engine = Engine(url, embedder, args.threads)
    try:
        info = prepare(url, market, model, engine)
        info["talents"], info["jobs"] = n_t, n_j
        info["rematch_ml"] = engine.rematch_all(market.talent_ids, market.job_ids)
        with psycopg.connect(url, autocommit=True) as conn:
            info["ml"] = {
                "talent": measure(conn, market, "talent", range(n_t)),
                "job": measure(conn, market, "job", range(n_j)),
            }
            deactivate_model(conn)
        engine.fresh_model_cache()
        info["rematch_fallback"] = engine.rematch_all(market.talent_ids, market.job_ids)
        with psycopg.connect(url, autocommit=True) as conn:
            info["fallback"] = {
                "talent": measure(conn, market, "talent", range(n_t)),
                "job": measure(conn, market, "job", range(n_j)),
            }
    finally:
        engine.close()
    _say(f"market ({market.name}) measured", t0)
    return info


def run_feedback(
    url: str, market: Market, model: Any, embedder: Any, args: argparse.Namespace, t0: float
) -> dict[str, Any]:
    """Market (c): before, feedback, retrain, after."""

    n_t, n_j = len(market.talents), len(market.jobs)
    held_t = [t for t in range(n_t) if t not in market.train_talents]
    held_j = [j for j in range(n_j) if j not in market.train_jobs]
    engine = Engine(url, embedder, args.threads)
    try:
        info = prepare(url, market, model, engine)
        info.update(
            talents=n_t,
            jobs=n_j,
            train_talents=len(market.train_talents),
            train_jobs=len(market.train_jobs),
        )
        info["rematch_before"] = engine.rematch_all(market.talent_ids, market.job_ids)
        with psycopg.connect(url, autocommit=True) as conn:
            info["before"] = {
                "heldout_talents": measure(conn, market, "talent", held_t),
                "heldout_jobs": measure(conn, market, "job", held_j),
            }
            info["feedback"] = simulate_feedback(conn, market, random.Random(args.seed + 3))
        _say(f"market (c): {sum(info['feedback'].values())} feedback events; retraining", t0)
        report = TrainingPipeline(url).run_training(force=True, trigger="cli")
        info["retrain"] = {
            "status": report.status,
            "reason": report.reason,
            "candidate": report.candidate_version,
            "previous": report.previous_version,
            "seconds": round(report.seconds, 2),
            "gate": {k: report.metrics.get(k) for k in ("candidate", "active")},
        }
        # the activation queued a rematch_all; no worker runs here, so rematch directly
        info["rematch_after"] = engine.rematch_all(market.talent_ids, market.job_ids)
        with psycopg.connect(url, autocommit=True) as conn:
            info["after"] = {
                "heldout_talents": measure(conn, market, "talent", held_t),
                "heldout_jobs": measure(conn, market, "job", held_j),
            }
    finally:
        engine.close()
    _say("market (c) measured", t0)
    return info


# --------------------------------------------------------------------- targets


def _close(a: dict, b: dict) -> bool:
    return all(abs(a[m] - b[m]) <= TOLERANCE for m in ("hit@1", f"ndcg@{K}"))


def targets(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    a, b, c = result["markets"]["a"]["ml"], result["markets"]["b"]["ml"], result["markets"]["c"]
    out["a_served_matches_cosine"] = {
        "met": all(_close(a[s]["served"], a[s]["cosine"]) for s in ("talent", "job")),
        "rule": f"|served - cosine| <= {TOLERANCE} on hit@1 and NDCG@10, talent and job side",
    }
    out["b_served_matches_rules"] = {
        "met": all(_close(b[s]["served"], b[s]["rules"]) for s in ("talent", "job")),
        "rule": f"|served - rules| <= {TOLERANCE} on hit@1 and NDCG@10, talent and job side",
    }
    ht = c["after"]["heldout_talents"]
    out["c_after_beats_baselines"] = {
        "met": all(
            ht["served"][m] > max(ht["cosine"][m], ht["rules"][m]) for m in ("hit@1", f"ndcg@{K}")
        ),
        "rule": "held-out talents after retraining: served > cosine and > rules"
        " on hit@1 and NDCG@10",
    }
    before, after = c["before"]["heldout_jobs"]["served"], c["after"]["heldout_jobs"]["served"]
    out["c_heldout_jobs_improve"] = {
        "met": after[f"ndcg@{K}"] > before[f"ndcg@{K}"],
        "rule": "held-out jobs: served NDCG@10 after retraining > before",
    }
    return out


# --------------------------------------------------------------------- printing


def _row(label: str, m: dict[str, float]) -> str:
    if not m.get("n"):
        return f"    {label:<22} (no lists)"
    return (
        f"    {label:<22} hit@1 {m['hit@1']:.3f}  hit@10 {m[f'hit@{K}']:.3f}"
        f"  NDCG@10 {m[f'ndcg@{K}']:.3f}  (n={m['n']})"
    )


def _block(title: str, r: dict[str, Any], served_label: str = "served") -> list[str]:
    lines = [
        f"  {title}  [lists {r['lists']}, mean length {r['mean_list_length']},"
        f" sources {r['served_sources']}]"
    ]
    lines.append(_row(served_label, r["served"]))
    lines.append(_row("cosine-only (same set)", r["cosine"]))
    lines.append(_row("rules-only (same set)", r["rules"]))
    return lines


def summary(result: dict[str, Any]) -> str:
    m = result["markets"]
    lines = []
    for key, title in (("a", "(a) text only"), ("b", "(b) structure only")):
        x = m[key]
        lines.append(f"market {title}: {x['talents']} talents x {x['jobs']} jobs")
        for side in ("talent", "job"):
            lines += _block(f"{side} side, ML (get_{side}_matches)", x["ml"][side])
        for side in ("talent", "job"):
            lines += _block(f"{side} side, SQL fallback", x["fallback"][side], "served (fallback)")
    c = m["c"]
    lines.append(
        f"market (c) text + structure + hidden size preference: {c['talents']} x"
        f" {c['jobs']} ({c['train_talents']} training talents, {c['train_jobs']} jobs)"
    )
    lines.append(
        f"  feedback {c['feedback']}; retrain: {c['retrain']['status']} ({c['retrain']['reason']})"
    )
    for phase in ("before", "after"):
        lines += _block(f"{phase} retraining, held-out talents", c[phase]["heldout_talents"])
        lines += _block(f"{phase} retraining, held-out jobs", c[phase]["heldout_jobs"])
    s = result["seeded_market"]
    lines.append(
        f"seeded market ({s['talents']} talents, {s['jobs']} jobs): distinct top-3"
        f" reason sets / stored rows: ml {s['ml'].get('share', 0):.3f}"
        f" ({s['ml'].get('distinct_sets', 0)}/{s['ml'].get('rows', 0)}),"
        f" fallback {s['fallback'].get('share', 0):.3f}"
        f" ({s['fallback'].get('distinct_sets', 0)}/{s['fallback'].get('rows', 0)})"
    )
    lines.append("targets:")
    for name, t in result["targets"].items():
        lines.append(f"  {'PASS' if t['met'] else 'MISS'}  {name}: {t['rule']}")
    return "\n".join(lines)


# ------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small markets, under a minute")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2, help="rematches run at once")
    args = parser.parse_args(argv)
    # sizes: talents = jobs per market; the seeded market trains the initial model
    if args.quick:
        args.a, args.b, args.c = 40, 40, 56
        args.seed_talents, args.seed_jobs, args.pairs, args.folds = 30, 24, 700, 3
    else:
        args.a, args.b, args.c = 600, 400, 400
        args.seed_talents, args.seed_jobs, args.pairs, args.folds = 400, 200, 6000, 5

    # the pipeline logs one line per rematch; keep warnings only
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    t0 = time.perf_counter()
    embedder = TextEmbedder()
    embedder.warm(["warm up"])
    _say("embedding model loaded", t0)
    result: dict[str, Any] = {"params": {k: v for k, v in vars(args).items()}, "markets": {}}
    with scratch_database("bench_quality") as base:
        model, result["seeded_market"] = run_seeded(base, embedder, args, t0)
        builders: dict[str, Callable[[int, int], Market]] = {
            "a": market_a,
            "b": market_b,
            "c": market_c,
        }
        for key in ("a", "b", "c"):
            market = builders[key](getattr(args, key), args.seed)
            # another database on the same scratch server
            with temporary_database(base, f"bench_quality_{key}") as url:
                run = run_feedback if key == "c" else run_structured
                result["markets"][key] = run(url, market, model, embedder, args, t0)
    result["targets"] = targets(result)
    result["wall_seconds"] = round(time.perf_counter() - t0, 1)
    path = write_result("quality", result)
    print(summary(result))
    print(f"wall time {result['wall_seconds']} s -> {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""SQL fallback scorer == its Python mirror, to 1e-6, on thousands of pairs."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest
from pgvector import Vector
from psycopg import errors

from matching.features.extraction import REMOTE_COMPATIBILITY, REMOTE_POLICIES, REMOTE_PREFERENCES
from matching.pipeline.loaders import load_fx_rates, load_jobs, load_talents
from matching.retrieval.store import register_vector_type, vectors
from matching.scoring.fallback import FallbackMatcher
from matching.synthetic.seed import seed
from matching.synthetic.taxonomy import FX_PER_USD

pytestmark = pytest.mark.integration

N_PAIRS = 3000
N_NEAR = 1000
SUB_SCORES = ("skills", "experience", "location", "salary", "culture")  # columns 3-7


def _store_vectors(
    conn: psycopg.Connection, kind: str, ids: list, rng: np.random.Generator
) -> None:
    """Unit vectors for most entities (the rest keep none), drawn in a random
    4-dimensional subspace so pair cosines spread over [-1, 1]: the scorer's
    arithmetic is under test here, not the embedding model."""
    basis = np.linalg.qr(np.random.default_rng(99).normal(size=(384, 4)))[0].T
    keep = [i for i in ids if rng.random() < 0.85]
    vectors = rng.normal(size=(len(keep), 4)) @ basis
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    register_vector_type(conn)
    with conn.cursor() as cur:
        cur.executemany(
            f"insert into matching.{kind}_embeddings ({kind}_id, embedding, model_name,"
            " text_sha256) values (%s, %s, 'parity-test', repeat('0', 64))",
            [(i, Vector(v.astype(np.float32))) for i, v in zip(keep, vectors, strict=True)],
        )


@pytest.fixture(scope="module")
def seeded(db_url):
    seed(db_url, seed=11, n_talents=1500, n_jobs=400)
    rng = np.random.default_rng(3)
    with psycopg.connect(db_url) as conn:
        for kind, table in (("talent", "talents"), ("job", "jobs")):
            ids = [r[0] for r in conn.execute(f"select id from public.{table} order by id")]
            _store_vectors(conn, kind, ids, rng)
    return db_url


def test_sql_and_python_agree_on_random_pairs(seeded):
    rng = np.random.default_rng(5)
    with psycopg.connect(seeded) as conn:
        talent_ids = [r[0] for r in conn.execute("select id from public.talents order by id")]
        job_ids = [r[0] for r in conn.execute("select id from public.jobs order by id")]
        # random pairs are mostly poor matches; add each sampled talent's best
        # jobs so both sides of every rule are exercised
        ti = rng.integers(0, len(talent_ids), N_PAIRS - N_NEAR)
        ji = rng.integers(0, len(job_ids), N_PAIRS - N_NEAR)
        job_row = {job: k for k, job in enumerate(job_ids)}
        near_t, near_j = [], []
        for t in rng.choice(len(talent_ids), N_NEAR // 25, replace=False):
            best = conn.execute(
                "select job_id from matching.fallback_scores_for_talent(%s, 25)", (talent_ids[t],)
            ).fetchall()
            near_t += [t] * len(best)
            near_j += [job_row[r[0]] for r in best]
        ti = np.concatenate([ti, near_t]).astype(np.int64)
        ji = np.concatenate([ji, near_j]).astype(np.int64)
        rows = conn.execute(
            "select * from matching.fallback_score_pairs(%s::uuid[], %s::uuid[])",
            ([talent_ids[i] for i in ti], [job_ids[j] for j in ji]),
        ).fetchall()
        fx = load_fx_rates(conn)
        talents = load_talents(conn, talent_ids, fx)
        jobs = load_jobs(conn, job_ids, fx)
        tv = vectors(conn, "talent", talent_ids)
        jv = vectors(conn, "job", job_ids)

    assert len(rows) == N_PAIRS
    assert [r[0] for r in rows] == [talent_ids[i] for i in ti]
    assert [r[1] for r in rows] == [job_ids[j] for j in ji]
    # the mirror gets the cosine the ranking pipeline computes (numpy, float32 vectors)
    semantic = np.array(
        [
            float(np.dot(tv[talent_ids[t]], jv[job_ids[j]]))
            if talent_ids[t] in tv and job_ids[j] in jv
            else np.nan
            for t, j in zip(ti, ji, strict=True)
        ]
    )
    sql_similarity = np.array([np.nan if r[10] is None else r[10] for r in rows])
    np.testing.assert_array_equal(np.isnan(sql_similarity), np.isnan(semantic))
    np.testing.assert_allclose(sql_similarity, semantic, rtol=0, atol=1e-6)
    # pgvector computes the cosine in float32 (1e-7 apart from numpy, x 100 / 0.6
    # in the text term): the rules are compared on the same cosine, to 1e-6
    py = FallbackMatcher().score_pairs(talents, jobs, ti, ji, semantic=sql_similarity)
    np.testing.assert_allclose([r[9] for r in rows], py.sub_scores["semantic"], rtol=0, atol=1e-6)
    assert [list(r[11]) for r in rows] == py.unscored
    # both sides of the text term are exercised: missing, floor, ceiling, between
    text = np.array([r[9] for r in rows])
    assert np.isnan(semantic).sum() >= 100
    assert (text == 0).sum() >= 100 and (text == 100).sum() >= 50
    assert ((text > 0) & (text < 100) & (text != 50)).sum() >= 300
    assert {"salary", "culture", "semantic"} <= {c for r in rows for c in r[11]}

    sql_score = np.array([r[2] for r in rows])
    np.testing.assert_allclose(sql_score, py.score, rtol=0, atol=1e-6)
    for k, name in enumerate(SUB_SCORES):
        np.testing.assert_allclose(
            np.array([r[3 + k] for r in rows]),
            py.sub_scores[name],
            rtol=0,
            atol=1e-6,
            err_msg=name,
        )
    assert [list(r[8]) for r in rows] == py.failed_constraints
    # the sample must exercise the rules, not only easy pairs
    assert sum(1 for r in rows if not r[8]) >= 20
    reasons = " | ".join(reason for r in rows for reason in r[8])
    for kind in (
        "required skills",
        "on-site job",
        "hybrid job",
        "wants remote",
        "salary expectation",
        "under-qualified",
    ):
        assert kind in reasons, kind
    assert sql_score.std() > 5


def test_remote_compatibility_table_matches(conn):
    for p, preference in enumerate(REMOTE_PREFERENCES):
        for q, policy in enumerate(REMOTE_POLICIES):
            value = conn.execute(
                "select matching.remote_compatibility(%s, %s)", (preference.value, policy.value)
            ).fetchone()[0]
            assert value == REMOTE_COMPATIBILITY[p, q]


def test_fx_rates_table_matches_the_synthetic_rates(conn):
    assert load_fx_rates(conn) == dict(FX_PER_USD)


@pytest.mark.parametrize(
    ("tz", "hours"),
    [
        ("UTC", 0.0),
        ("Asia/Kathmandu", 5.75),
        ("Asia/Kolkata", 5.5),
        ("America/St_Johns", -3.5),
        ("Pacific/Kiritimati", 14.0),
        ("Etc/GMT+12", -12.0),
        ("-12:00", -12.0),
        ("+05:45", 5.75),
        ("Europe/Berlin", 1.0),
        ("Australia/Sydney", 11.0),
    ],
)
def test_utc_offsets_agree(conn, tz, hours):
    from matching.features.extraction import utc_offset_hours

    assert utc_offset_hours(tz) == hours
    assert conn.execute("select matching.utc_offset_hours(%s)", (tz,)).fetchone()[0] == hours


def test_one_talent_against_every_open_job(seeded):
    with psycopg.connect(seeded) as conn:
        talent = conn.execute("select id from public.talents order by id limit 1").fetchone()[0]
        rows = conn.execute(
            "select job_id, score from matching.fallback_scores_for_talent(%s, 50)", (talent,)
        ).fetchall()
        open_jobs = conn.execute(
            "select count(*) from public.jobs where status = 'open'"
        ).fetchone()[0]
    assert len(rows) == min(50, open_jobs)
    scores = [r[1] for r in rows]
    assert scores == sorted(scores, reverse=True)


def test_one_job_against_talents_open_to_work(seeded):
    with psycopg.connect(seeded) as conn:
        job = conn.execute("select id from public.jobs order by id limit 1").fetchone()[0]
        rows = conn.execute(
            "select f.talent_id, t.open_to_work from matching.fallback_scores_for_job(%s, 20) f"
            " join public.talents t on t.id = f.talent_id",
            (job,),
        ).fetchall()
    assert len(rows) == 20 and all(r[1] for r in rows)


@pytest.mark.parametrize(
    ("query", "args", "code"),
    [
        ("select * from matching.fallback_score_pairs(null, '{}')", (), "MT001"),
        (
            "select * from matching.fallback_score_pairs(%s::uuid[], '{}')",
            (["00000000-0000-4000-8000-000000000001"],),
            "MT002",
        ),
        ("select * from matching.fallback_score(null, null)", (), "MT001"),
        (
            "select * from matching.fallback_score(gen_random_uuid(), gen_random_uuid())",
            (),
            "MT404",
        ),
        ("select * from matching.fallback_scores_for_talent(gen_random_uuid(), 0)", (), "MT005"),
        ("select * from matching.fallback_scores_for_job(gen_random_uuid(), 10)", (), "MT404"),
    ],
)
def test_bad_input_gets_a_stable_code(conn, query, args, code):
    with pytest.raises(errors.Error) as caught, conn.transaction():
        conn.execute(query, args)
    assert caught.value.sqlstate == code


def test_api_roles_cannot_call_the_scorer_directly(conn):
    conn.execute("set local role authenticated")
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute("select * from matching.fallback_score_pairs('{}', '{}')")

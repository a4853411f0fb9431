"""SQL fallback scorer == its Python mirror, to 1e-6, on thousands of pairs."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest
from psycopg import errors

from matching.fallback import FallbackMatcher
from matching.features import REMOTE_COMPATIBILITY, REMOTE_POLICIES, REMOTE_PREFERENCES
from matching.loaders import load_fx_rates, load_jobs, load_talents
from matching.seed import seed
from matching.taxonomy import FX_PER_USD

pytestmark = pytest.mark.integration

N_PAIRS = 3000
N_NEAR = 1000
SUB_SCORES = ("skills", "experience", "location", "salary", "culture")


@pytest.fixture(scope="module")
def seeded(db_url):
    seed(db_url, seed=11, n_talents=1500, n_jobs=400)
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

    assert len(rows) == N_PAIRS
    assert [r[0] for r in rows] == [talent_ids[i] for i in ti]
    assert [r[1] for r in rows] == [job_ids[j] for j in ji]
    py = FallbackMatcher().score_pairs(talents, jobs, ti, ji)

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
    from matching.features import utc_offset_hours

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

"""The real thing: SQL edits -> triggers -> a real worker process -> match rows.

One module-scoped marketplace and worker; tests run in file order, the last
one kills the worker with SIGKILL and recovers with a new one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import psycopg
import pytest
from support.worker import Worker, one, queue_idle, wait_for

from matching.features.extraction import FEATURE_NAMES
from matching.synthetic.seed import seed
from matching.training.initial import train_initial_model

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def market(db_url) -> str:
    seed(db_url, seed=8, n_talents=150, n_jobs=80)
    train_initial_model(db_url, n_pairs=800, folds=2, seed=8)
    return db_url


@pytest.fixture(scope="module")
def worker(market, tmp_path_factory) -> Iterator[Worker]:
    w = Worker(market, tmp_path_factory.mktemp("worker") / "worker.log")
    try:
        # the seed queued a backfill: embed everything, then rematch everyone
        wait_for(lambda: queue_idle(market), 600, "the backfill to finish", w)
        yield w
    finally:
        w.stop()


def test_backfill_embeds_and_matches_the_market(market, worker):
    assert (
        one(
            market,
            "select count(*) from public.talents t where t.open_to_work and not exists"
            " (select 1 from matching.talent_embeddings e where e.talent_id = t.id)",
        )
        == 0
    )
    assert (
        one(
            market,
            "select count(*) from public.jobs j where j.status = 'open' and not exists"
            " (select 1 from matching.job_embeddings e where e.job_id = j.id and e.matchable)",
        )
        == 0
    )
    unmatched = one(
        market,
        "select count(*) from public.talents t where t.open_to_work and not exists"
        " (select 1 from public.matches m where m.talent_id = t.id and m.source = 'ml')",
    )
    assert unmatched == 0
    assert '"event": "rematch"' in worker.log() or '"rematch"' in worker.log()


def test_a_skill_edit_produces_fresh_matches_with_the_active_model(market, worker):
    with psycopg.connect(market, autocommit=True) as conn:
        talent = conn.execute(
            "select id from public.talents where open_to_work order by id limit 1"
        ).fetchone()[0]
        active = conn.execute(
            "select version from matching.model_versions where is_active"
        ).fetchone()[0]
        edited_at = conn.execute(
            "update public.talent_skills set proficiency = 6 - proficiency"
            " where talent_id = %s returning clock_timestamp()",
            (talent,),
        ).fetchone()[0]

    def fresh() -> bool:
        return one(
            market,
            "select count(*) > 0 and bool_and(computed_at > %s and model_version = %s)"
            " from public.matches where talent_id = %s",
            (edited_at, active, talent),
        )

    wait_for(fresh, 30, "the talent's matches to be recomputed", worker)
    with psycopg.connect(market) as conn:
        row = conn.execute(
            "select score, source, explanation, contributions from public.matches"
            " where talent_id = %s order by score desc limit 1",
            (talent,),
        ).fetchone()
    score, source, explanation, contributions = row
    assert source == "ml" and 0 <= score <= 100
    assert len(explanation["top_factors"]) == 3
    assert "contributions" not in explanation  # a column of its own
    assert len(contributions) == len(FEATURE_NAMES)
    # the stored explanation adds up to the stored score (kept with two
    # decimals); contributions are float4: 36 of them round by < 1e-4
    raw = explanation["base_value"] + sum(contributions)
    assert abs(explanation["raw_score"] - raw) < 1e-4
    assert abs(round(min(100.0, max(0.0, explanation["raw_score"])), 2) - score) < 1e-4


def test_ten_rapid_edits_make_one_or_two_jobs(market, worker):
    wait_for(lambda: queue_idle(market), 60, "an idle queue", worker)
    with psycopg.connect(market, autocommit=True) as conn:
        talent = conn.execute(
            "select id from public.talents where open_to_work order by id desc limit 1"
        ).fetchone()[0]
        before = conn.execute(
            "select coalesce(max(id), 0) from procrastinate.procrastinate_jobs"
        ).fetchone()[0]
        for n in range(10):
            conn.execute(
                "update public.talents set headline = %s where id = %s",
                (f"Platform engineer {n}", talent),
            )
        jobs = conn.execute(
            "select count(*) from procrastinate.procrastinate_jobs"
            " where id > %s and queueing_lock = %s",
            (before, f"rematch_talent:{talent}"),
        ).fetchone()[0]
    assert 1 <= jobs <= 2


def test_bulk_insert_of_1000_jobs_commits_and_all_get_matched(market, worker):
    wait_for(lambda: queue_idle(market), 60, "an idle queue", worker)
    with psycopg.connect(market, autocommit=True) as conn:
        company = conn.execute("select id from public.companies order by id limit 1").fetchone()[0]
        talent = conn.execute(
            "select t.id from public.talents t where t.open_to_work order by t.id limit 1"
        ).fetchone()[0]
        ids = [
            r[0]
            for r in conn.execute(
                "insert into public.jobs (company_id, title, description, experience_level,"
                " remote_policy, status, min_years)"
                " select %s, 'Backend engineer ' || g, 'Python and PostgreSQL services', 'mid',"
                " 'remote', 'open', 2 from generate_series(1, 1000) g returning id",
                (company,),
            )
        ]
        conn.execute(
            "insert into public.job_skills (job_id, skill_id, required, min_proficiency)"
            " select j, s.skill_id, true, 2 from unnest(%s::uuid[]) j"
            " cross join (select skill_id from public.talent_skills where talent_id = %s"
            " limit 3) s",
            (ids, talent),
        )
    wait_for(lambda: queue_idle(market), 600, "1,000 new jobs to be matched", worker)
    unmatched = one(
        market,
        "select count(*) from unnest(%s::uuid[]) j where not exists"
        " (select 1 from public.matches m where m.job_id = j)",
        (ids,),
    )
    assert unmatched == 0


def test_a_poison_job_fails_once_and_stays_visible(market, worker):
    job_id = one(
        market,
        "select matching.enqueue_task('rematch_talent', 'rematch', 'poison-test',"
        ' \'{"talent_id": "not-a-uuid"}\'::jsonb)',
    )

    def failed() -> bool:
        return one(
            market,
            "select status = 'failed' from procrastinate.procrastinate_jobs where id = %s",
            (job_id,),
        )

    wait_for(failed, 30, "the poison job to fail", worker)
    time.sleep(1.0)
    # one run, no retry: procrastinate counts the finished attempt
    assert (
        one(
            market, "select attempts from procrastinate.procrastinate_jobs where id = %s", (job_id,)
        )
        == 1
    )
    assert (
        one(
            market,
            "select count(*) from procrastinate.procrastinate_jobs where queueing_lock"
            " = 'poison-test' or args->>'talent_id' = 'not-a-uuid'",
        )
        == 1
    )


def test_sigkill_mid_write_leaves_no_half_written_set_and_recovers(market, worker, tmp_path):
    wait_for(lambda: queue_idle(market), 60, "an idle queue", worker)
    talent = one(
        market, "select id from public.talents where open_to_work order by id offset 3 limit 1"
    )
    with psycopg.connect(market, autocommit=True) as watcher:
        before = watcher.execute(
            "select job_id, score, computed_at from public.matches where talent_id = %s"
            " order by job_id",
            (talent,),
        ).fetchall()
        assert before
        with psycopg.connect(market) as blocker:
            # hold the rows the worker must rewrite: its write stage will wait here
            blocker.execute(
                "select 1 from public.matches where talent_id = %s for update", (talent,)
            )
            watcher.execute(
                "update public.talents set years_experience = years_experience + 1 where id = %s",
                (talent,),
            )

            def writing() -> bool:
                return watcher.execute(
                    "select count(*) > 0 from pg_stat_activity where wait_event_type = 'Lock'"
                    " and query like 'insert into public.matches%%'"
                ).fetchone()[0]

            wait_for(writing, 60, "the worker to reach its write", worker)
            worker.kill()
            blocker.rollback()
        after = watcher.execute(
            "select job_id, score, computed_at from public.matches where talent_id = %s"
            " order by job_id",
            (talent,),
        ).fetchall()
        assert after == before, "a killed worker must leave the previous match set intact"
        assert (
            watcher.execute(
                "select count(*) from procrastinate.procrastinate_jobs where status = 'doing'"
                " and queueing_lock = %s",
                (f"rematch_talent:{talent}",),
            ).fetchone()[0]
            == 1
        )

    time.sleep(4)  # past the stalled-worker timeout (3 s in this test)
    second = Worker(market, tmp_path / "second.log")
    try:

        def rematched() -> bool:
            return one(
                market,
                "select coalesce(min(computed_at) > %s, false) from public.matches"
                " where talent_id = %s",
                (max(r[2] for r in before), talent),
            )

        wait_for(rematched, 90, "the recovered job to rematch the talent", second)
        assert "stalled_jobs_recovered" in second.log()
    finally:
        second.stop()


def test_an_edit_lane_takes_edits_and_leaves_bulk_batches(market, worker, tmp_path):
    """A worker on the rematch queue alone never starts a re-rank batch, so an
    edit never waits behind one: it rematches the edit while a batch waits
    (the module's worker, on every queue, is stopped first; the SIGKILL test
    may have killed it already)."""
    from matching.side import TALENT
    from worker.tasks import enqueue_batches

    worker.stop()
    wait_for(lambda: queue_idle(market), 120, "an idle queue")
    with psycopg.connect(market, autocommit=True) as conn:
        ids = [
            r[0]
            for r in conn.execute(
                "select id from public.talents where open_to_work order by id limit 3"
            )
        ]
        # a batch waiting on the bulk queue, at bulk priority (as rematch_all enqueues it)
        assert enqueue_batches(conn, TALENT, ids[1:], 8) == 1
        edited_at = conn.execute(
            "update public.talents set years_experience = years_experience + 1 where id = %s"
            " returning now()",
            (ids[0],),
        ).fetchone()[0]
    lane = Worker(market, tmp_path / "lane.log", args=("--queue", "rematch"))
    try:

        def fresh() -> bool:
            return one(
                market,
                "select coalesce(min(computed_at) > %s, false) from public.matches"
                " where talent_id = %s",
                (edited_at, ids[0]),
            )

        wait_for(fresh, 120, "the edit lane to rematch the edited talent", lane)
        time.sleep(1.0)  # time enough to (wrongly) fetch the batch too
        statuses = [
            r[0]
            for r in psycopg.connect(market, autocommit=True).execute(
                "select status from procrastinate.procrastinate_jobs"
                " where task_name = 'matching:rematch_batch' and args->'ids' = %s::jsonb",
                (json.dumps([str(i) for i in ids[1:]]),),
            )
        ]
        assert statuses == ["todo"]
        assert '"rematch_batch"' not in lane.log()
    finally:
        lane.stop()

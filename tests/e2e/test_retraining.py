"""Feedback -> retrain behind the gate -> activation -> re-ranking, end to end.

The feedback follows a hidden preference the rule-based labels don't have:
talents apply to remote jobs and dismiss the others. It is recorded through
`record_match_feedback` exactly as PostgREST would call it, the retrain is
requested through SQL by an admin JWT, and a real worker process trains,
gates, activates and re-ranks.
"""

from __future__ import annotations

import json
import uuid

import numpy as np
import psycopg
import pytest
from psycopg_pool import ConnectionPool
from support.worker import Worker, one, queue_idle, wait_for

from matching.pipeline.ranking import RankingPipeline
from matching.retrieval import store as embedding_store
from matching.retrieval.embedder import TextEmbedder
from matching.scoring.model import MatchingModel
from matching.scoring.registry import ActiveModel, active_version, new_version
from matching.synthetic.seed import seed
from matching.training.evaluation import ndcg_at_k
from matching.training.feedback import feedback_training_data, time_split
from matching.training.initial import train_initial_model
from matching.training.retrain import TrainingPipeline

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def as_api_user(conn: psycopg.Connection, claims: dict) -> None:
    conn.execute("set local role authenticated")
    conn.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))


@pytest.fixture(scope="module")
def market(db_url) -> str:
    seed(db_url, seed=21, n_talents=400, n_jobs=150)
    train_initial_model(db_url, n_pairs=1500, folds=2, seed=21)
    pool = ConnectionPool(db_url, min_size=1, max_size=2, kwargs={"autocommit": True}, open=True)
    try:
        embedder = TextEmbedder()
        pipeline = RankingPipeline(pool, embedder, ActiveModel())
        with pool.connection() as conn:
            jobs = [r[0] for r in conn.execute("select id from public.jobs where status = 'open'")]
            talents = [
                r[0] for r in conn.execute("select id from public.talents where open_to_work")
            ]
            embedding_store.ensure_embeddings(conn, embedder, "job", jobs)
            # accounts for the talents, so they can act through the API
            conn.execute(
                "insert into auth.users (id) select id from public.talents where open_to_work"
            )
            conn.execute("update public.talents set user_id = id where open_to_work")
        for talent in talents:
            pipeline.rematch_talent(talent)
    finally:
        pool.close()
    with psycopg.connect(db_url) as conn:
        # the seed's backfill is not needed here: everything is embedded and matched
        conn.execute("select set_config('search_path', 'procrastinate', true)")
        conn.execute("delete from procrastinate.procrastinate_jobs")
    return db_url


def test_too_few_samples_records_a_skipped_run(market):
    report = TrainingPipeline(market).run_training(force=True, trigger="cli")
    assert report.status == "skipped"
    assert "too few feedback samples: 0 pairs" in report.reason
    with psycopg.connect(market) as conn:
        status, reason, finished = conn.execute(
            "select status, reason, finished_at is not null from matching.training_runs"
            " where id = %s",
            (report.run_id,),
        ).fetchone()
    assert (status, finished) == ("skipped", True) and "too few" in reason


def test_hidden_preference_is_learned_and_activated_and_matches_rerank(market, tmp_path):
    rng = np.random.default_rng(3)
    initial = one(market, "select version from matching.model_versions where is_active")
    with psycopg.connect(market) as conn:
        shown = conn.execute(
            "select m.talent_id, m.job_id, j.remote_policy = 'remote'"
            " from public.matches m join public.jobs j on j.id = m.job_id"
            " where m.source = 'ml'"
            " order by m.talent_id, m.score desc"
        ).fetchall()
        per_talent: dict = {}
        for talent, job, remote in shown:
            per_talent.setdefault(talent, [])
            if len(per_talent[talent]) < 12:
                per_talent[talent].append((job, remote))
        recorded = 0
        for talent, items in per_talent.items():
            for job, remote in items:
                likes = remote if rng.random() > 0.1 else not remote
                with conn.transaction():
                    as_api_user(conn, {"sub": str(talent), "role": "authenticated"})
                    conn.execute(
                        "select * from public.record_match_feedback(%s, %s, %s)",
                        (talent, job, "applied" if likes else "dismissed"),
                    )
                conn.execute("reset role")
                recorded += 1
        conn.commit()
        assert recorded >= 1000

        admin = {
            "sub": str(uuid.uuid4()),
            "role": "authenticated",
            "app_metadata": {"role": "admin"},
        }
        for _ in range(3):  # however often it is asked, one retrain is pending
            with conn.transaction():
                as_api_user(conn, admin)
                conn.execute("select * from public.request_retrain(true)")
            conn.execute("reset role")
        conn.commit()
        assert (
            conn.execute(
                "select count(*) from procrastinate.procrastinate_jobs"
                " where task_name = 'matching:retrain' and status = 'todo'"
            ).fetchone()[0]
            == 1
        )

    worker = Worker(market, tmp_path / "worker.log")
    try:

        def trained() -> bool:
            return one(
                market,
                "select count(*) > 0 from matching.training_runs"
                " where trigger = 'admin' and status <> 'running'",
            )

        wait_for(trained, 300, "the retrain", worker)
        with psycopg.connect(market) as conn:
            status, candidate, previous, details = conn.execute(
                "select status, candidate_version, previous_version, details"
                " from matching.training_runs where trigger = 'admin' order by id desc limit 1"
            ).fetchone()
        assert status == "activated", details
        assert previous == initial
        new_ndcg = details["metrics"]["candidate"]["ndcg_at_10"]
        old_ndcg = details["metrics"]["active"]["ndcg_at_10"]
        assert new_ndcg > old_ndcg + 0.05, (new_ndcg, old_ndcg)
        assert one(market, "select version from matching.model_versions where is_active") == (
            candidate
        )
        wait_for(lambda: queue_idle(market), 600, "the re-ranking", worker)
    finally:
        worker.stop()
    stale = one(
        market,
        "select count(*) from public.matches where source = 'ml' and model_version <> %s",
        (candidate,),
    )
    assert stale == 0


def test_a_worse_candidate_is_refused_and_the_active_model_stays(market):
    pipeline = TrainingPipeline(market)
    with psycopg.connect(market, autocommit=True) as conn:
        before = active_version(conn)
        data = feedback_training_data(conn)
        split = time_split(data)
        shuffled = np.random.default_rng(0).permutation(data.y[split.train])
        worse = MatchingModel.train(data.x[split.train], shuffled, version=new_version("shuffled"))
        run_id = conn.execute(
            "insert into matching.training_runs (trigger) values ('cli') returning id"
        ).fetchone()[0]
        report = pipeline.evaluate_and_decide(conn, run_id, worse, data, split)
        assert report.status == "rejected", report.reason
        assert active_version(conn) == before
        assert conn.execute(
            "select status, candidate_version from matching.training_runs where id = %s",
            (run_id,),
        ).fetchone() == ("rejected", worse.version)


def test_ndcg_at_k_by_hand():
    groups = np.array([0, 0, 0, 1, 1])
    y = np.array([90.0, 10.0, 50.0, 10.0, 10.0])
    perfect = ndcg_at_k(groups, y, y)
    assert perfect == pytest.approx(1.0)
    # talent 0 ranked worst-first: gains 0.1, 0.5, 0.9 at ranks 1..3
    dcg = 0.1 + 0.5 / np.log2(3) + 0.9 / 2
    idcg = 0.9 + 0.5 / np.log2(3) + 0.1 / 2
    worst = ndcg_at_k(groups, y, -y)
    assert worst == pytest.approx((dcg / idcg + 1.0) / 2)

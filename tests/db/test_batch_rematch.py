"""The bulk re-rank's batch path writes exactly what the per-entity path writes.

A small market is embedded and matched entity by entity with one model;
then another model is activated (what `rematch_all` re-ranks after), one
talent leaves the market and one job closes (both keeping their stored
pairs), and one talent and one job get data that cannot be featurised. That
state is saved. Each test restores it, rematches a shuffled batch of one
side (every entity in the market, the one that left, the poison one and an
id that does not exist) entity by entity with `RankingPipeline.rematch`,
saves the stored rows and rematch marks, restores, runs the same ids
through `RankingPipeline.rematch_batch`, and compares: the rows (talent,
job, score, source, model version, explanation, features, similarity) and
the marks must be identical. Lists are bounded, so with small lists
(`stored_matches` 4, `candidates_k` 8, through the HNSW index) earlier
writes of the batch prune pairs of later entities; with the defaults
(k = 200 on 40 jobs) retrieval is the exact-scan fallback.
"""

from __future__ import annotations

import contextlib
import json
import random
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import psycopg
import pytest
from psycopg_pool import ConnectionPool

from matching.db.queries import query
from matching.pipeline import batch as batch_module
from matching.pipeline.loaders import BadEntityDataError
from matching.pipeline.ranking import RankingPipeline
from matching.retrieval import store as embedding_store
from matching.retrieval.embedder import TextEmbedder
from matching.scoring.explain import MatchExplainer
from matching.scoring.registry import ActiveModel, active_version
from matching.settings import Settings
from matching.side import TALENT
from matching.synthetic.seed import seed
from matching.training.initial import train_initial_model
from worker import tasks as worker_tasks

pytestmark = [pytest.mark.integration, pytest.mark.slow]

N_TALENTS = 80
N_JOBS = 40

SNAPSHOT = """
drop schema if exists snap cascade;
create schema snap;
create table snap.matches as
  select talent_id, job_id, score, source, model_version, explanation, features,
         contributions, computed_at, similarity
  from public.matches;
create table snap.talent_marks as select * from matching.talent_rematch_marks;
create table snap.job_marks as select * from matching.job_rematch_marks;
"""

RESTORE = """
delete from public.matches;
insert into public.matches (talent_id, job_id, score, source, model_version, explanation,
                            features, contributions, computed_at, similarity)
  select * from snap.matches;
delete from matching.talent_rematch_marks;
insert into matching.talent_rematch_marks select * from snap.talent_marks;
delete from matching.job_rematch_marks;
insert into matching.job_rematch_marks select * from snap.job_marks;
"""


def settings(candidates_k: int = 200, stored_matches: int = 50) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        candidates_k=candidates_k,
        stored_matches=stored_matches,
    )


@pytest.fixture(scope="module")
def market(db_url: str) -> Iterator[dict[str, Any]]:
    seed(db_url, seed=13, n_talents=N_TALENTS, n_jobs=N_JOBS)
    train_initial_model(db_url, n_pairs=800, folds=2, seed=13)
    pool = ConnectionPool(db_url, min_size=1, max_size=2, kwargs={"autocommit": True}, open=True)
    try:
        embedder = TextEmbedder(settings())
        first = RankingPipeline(pool, embedder, ActiveModel(), settings(8, 4))
        with pool.connection() as conn:
            # procrastinate's delete trigger calls its functions unqualified
            with conn.transaction():
                conn.execute("select set_config('search_path', 'procrastinate', true)")
                conn.execute("delete from procrastinate.procrastinate_jobs")
            talents = [r[0] for r in conn.execute("select id from public.talents order by id")]
            jobs = [r[0] for r in conn.execute("select id from public.jobs order by id")]
            embedding_store.ensure_embeddings(conn, embedder, "talent", talents)
            embedding_store.ensure_embeddings(conn, embedder, "job", jobs)
            conn.execute("analyze matching.talent_embeddings, matching.job_embeddings")
            open_talents = [
                r[0]
                for r in conn.execute(
                    "select id from public.talents where open_to_work order by id"
                )
            ]
            open_jobs = [
                r[0] for r in conn.execute("select id from public.jobs where status = 'open'")
            ]
        # stored lists written from both sides, small enough to prune
        for t in open_talents:
            first.rematch_talent(t)
        for j in open_jobs:
            first.rematch_job(j)
        with pool.connection() as conn:
            old_version = active_version(conn)
        train_initial_model(db_url, n_pairs=800, folds=2, seed=14)
        with pool.connection() as conn:
            new_version = active_version(conn)
            assert new_version != old_version
            # the activation queued the re-rank: this test runs it by hand
            with conn.transaction():
                conn.execute("select set_config('search_path', 'procrastinate', true)")
                conn.execute("delete from procrastinate.procrastinate_jobs")
            stored = "select {col} from public.matches group by {col} order by count(*) desc"
            left, bad_talent = [
                r[0] for r in conn.execute(stored.format(col="talent_id")).fetchmany(2)
            ]
            bad_job, closed_job = [
                r[0] for r in conn.execute(stored.format(col="job_id")).fetchmany(2)
            ]
            # out of the market with their pairs still stored (their own
            # rematch has not run yet); out of the ANN index already, so both
            # runs search the same graph
            conn.execute("update public.talents set open_to_work = false where id = %s", (left,))
            conn.execute("update public.jobs set status = 'closed' where id = %s", (closed_job,))
            conn.execute(
                "update matching.talent_embeddings set matchable = false where talent_id = %s",
                (left,),
            )
            conn.execute(
                "update matching.job_embeddings set matchable = false where job_id = %s",
                (closed_job,),
            )
            # data written before a validation rule existed
            conn.execute("alter table public.talents drop constraint talents_timezone_valid")
            conn.execute("alter table public.jobs drop constraint jobs_timezone_valid")
            conn.execute(
                "update public.talents set timezone = 'Mars/Olympus_Mons' where id = %s",
                (bad_talent,),
            )
            conn.execute(
                "update public.jobs set timezone = 'Europe/PARIS' where id = %s", (bad_job,)
            )
            ids = {
                "talent": [
                    r[0]
                    for r in conn.execute(
                        "select id from public.talents where open_to_work order by id"
                    )
                ],
                "job": [
                    r[0]
                    for r in conn.execute(
                        "select id from public.jobs where status = 'open' order by id"
                    )
                ],
            }
            ids["talent"].append(left)
            ids["job"].append(closed_job)
            for kind in ids:
                ids[kind].append(uuid.uuid4())  # no such entity
                random.Random(5).shuffle(ids[kind])
            conn.execute(SNAPSHOT)
        yield {
            "pool": pool,
            "embedder": embedder,
            "ids": ids,
            "left": {"talent": left, "job": closed_job},
            "bad": {"talent": bad_talent, "job": bad_job},
            "old_version": old_version,
            "new_version": new_version,
        }
    finally:
        pool.close()


def restore(pool: ConnectionPool) -> None:
    with pool.connection() as conn, conn.transaction():
        conn.execute(RESTORE)


def clear_queue(pool: ConnectionPool) -> None:
    with pool.connection() as conn, conn.transaction():
        # procrastinate's delete trigger calls its functions unqualified
        conn.execute("select set_config('search_path', 'procrastinate', true)")
        conn.execute("delete from procrastinate.procrastinate_jobs")


def stored_state(pool: ConnectionPool) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every stored row (computed_at aside) and every rematch mark (marked_at aside)."""
    with pool.connection() as conn:
        rows = [
            (t, j, score, source, version, json.dumps(explanation, sort_keys=True), x, c, sim)
            for t, j, score, source, version, explanation, x, c, sim in conn.execute(
                "select talent_id, job_id, score, source, model_version, explanation,"
                " features, contributions, similarity from public.matches"
                " order by talent_id, job_id"
            )
        ]
        marks = conn.execute(
            "select 'talent', talent_id, source_updated_at, outcome, error"
            " from matching.talent_rematch_marks"
            " union all select 'job', job_id, source_updated_at, outcome, error"
            " from matching.job_rematch_marks order by 1, 2"
        ).fetchall()
    return rows, marks


@pytest.mark.parametrize("kind", ["talent", "job"])
@pytest.mark.parametrize(
    "sizes", [(8, 4), (200, 50)], ids=["ann-small-lists", "default-exact-scan"]
)
def test_batch_writes_what_entity_by_entity_writes(market, kind, sizes) -> None:
    pool, ids = market["pool"], market["ids"][kind]
    pipeline = RankingPipeline(pool, market["embedder"], ActiveModel(), settings(*sizes))

    restore(pool)
    failed = []
    for entity_id in ids:
        try:
            pipeline.rematch(kind, entity_id)
        except BadEntityDataError:
            failed.append(entity_id)
    assert failed == [market["bad"][kind]]
    one_by_one = stored_state(pool)

    restore(pool)
    result = pipeline.rematch_batch(kind, ids)
    batched = stored_state(pool)

    assert batched[1] == one_by_one[1]  # marks: matched, removed, failed (same error)
    assert batched[0] == one_by_one[0]  # rows, value for value

    # the batch did the work itself: only the poison entity went one by one
    assert result.single == 1 and list(result.failed) == [market["bad"][kind]]
    assert result.superseded == []
    outcomes = {r.entity_id: r.outcome for r in result.results}
    assert outcomes[market["left"][kind]] == "removed"
    assert sorted(outcomes.values()).count("missing") == 1
    assert sum(o == "matched" for o in outcomes.values()) == len(ids) - 3
    # everything the batch stored is the new model's
    new_rows = [r for r in batched[0] if r[4] == market["new_version"]]
    assert new_rows and all(r[3] == "ml" for r in new_rows)
    if sizes == (8, 4):
        # bounded lists: the batch's writes pruned pairs, as the entity-by-entity ones did
        assert sum(r.deleted for r in result.results if r.outcome == "matched") > 0


def test_an_entity_edited_during_the_batch_is_left_to_its_own_job(market, monkeypatch) -> None:
    """The batch read version v1; an edit commits v2 before the write: the
    write is skipped (no stale rows, no mark of v1), the edit's job does it."""
    pool, ids = market["pool"], market["ids"]["talent"]
    pipeline = RankingPipeline(pool, market["embedder"], ActiveModel(), settings(8, 4))
    edited = next(i for i in ids if i not in (market["left"]["talent"], market["bad"]["talent"]))
    plan = batch_module._plan

    def plan_then_edit(*args: Any, **kwargs: Any) -> Any:
        planned = plan(*args, **kwargs)
        with psycopg.connect(pool.conninfo, autocommit=True) as other:
            # a user's edit (its trigger enqueues the talent's own rematch)
            other.execute(
                "update public.talents set headline = headline || ' (edited)' where id = %s",
                (edited,),
            )
        return planned

    restore(pool)
    with pool.connection() as conn:
        mark_before = conn.execute(
            "select source_updated_at, outcome from matching.talent_rematch_marks"
            " where talent_id = %s",
            (edited,),
        ).fetchone()
    monkeypatch.setattr(batch_module, "_plan", plan_then_edit)
    try:
        result = pipeline.rematch_batch("talent", ids)
    finally:
        with pool.connection() as conn:
            conn.execute(
                "update public.talents set headline = replace(headline, ' (edited)', '')"
                " where id = %s",
                (edited,),
            )
            with conn.transaction():
                conn.execute("select set_config('search_path', 'procrastinate', true)")
                conn.execute("delete from procrastinate.procrastinate_jobs")
    assert result.superseded == [edited]
    with pool.connection() as conn:
        mark_after = conn.execute(
            "select source_updated_at, outcome from matching.talent_rematch_marks"
            " where talent_id = %s",
            (edited,),
        ).fetchone()
        versions = {
            r[0]
            for r in conn.execute(
                "select model_version from public.matches where talent_id = %s", (edited,)
            )
        }
    assert mark_after == mark_before
    # none of its rows were rescored with data the edit has replaced
    assert market["new_version"] not in versions


def test_a_batch_yields_to_a_waiting_edit_and_its_rest_writes_the_same(market) -> None:
    """An edit's job queued while a batch writes: the batch stops before the
    next entity's write (the real edits_waiting query sees the job) and hands
    back the rest; running the rest afterwards stores what one batch does."""
    pool, ids = market["pool"], market["ids"]["talent"]
    pipeline = RankingPipeline(pool, market["embedder"], ActiveModel(), settings(8, 4))

    restore(pool)
    pipeline.rematch_batch("talent", ids)
    whole = stored_state(pool)

    restore(pool)
    clear_queue(pool)  # the seed's own rematch jobs would count as waiting edits
    asked = 0

    def edit_arrives_at_the_third_write(conn: psycopg.Connection) -> bool:
        nonlocal asked
        asked += 1
        if asked == 3:
            # an edit's rematch (priority 0, the rematch queue), as a trigger enqueues it
            params = worker_tasks._batch_params(TALENT, [ids[0]])
            params.update(
                task="matching:rematch_talent",
                queue=TALENT.queue,
                lock=f"talent:{ids[0]}",
                priority=0,
            )
            conn.execute(query("enqueue_batch"), params)
        return worker_tasks._edits_waiting(conn)

    try:
        first = pipeline.rematch_batch("talent", ids, yield_to=edit_arrives_at_the_third_write)
    finally:
        with pool.connection() as conn, conn.transaction():
            conn.execute("select set_config('search_path', 'procrastinate', true)")
            conn.execute("delete from procrastinate.procrastinate_jobs")
    # asked before the 2nd, 3rd and 4th writes: the 4th entity on are handed back
    assert asked == 3
    assert first.deferred == ids[3:]
    assert first.entities == 3
    # the worker hands the rest its plan back (worker/tasks.py): nothing moved
    # since, so the rest runs on it, as the first batch would have gone on
    assert first.carry is not None and first.carry.ids == first.deferred
    rest = pipeline.rematch_batch("talent", first.deferred, resume=first.carry)
    assert rest.resumed and "featurise" not in rest.timings
    assert rest.deferred == []
    assert stored_state(pool) == whole

    # and without the plan, the rest computes its own: the same rows
    restore(pool)
    first = pipeline.rematch_batch("talent", ids, yield_to=lambda conn: True)
    assert first.deferred == ids[1:]
    rest = pipeline.rematch_batch("talent", first.deferred)
    assert not rest.resumed
    assert stored_state(pool) == whole


def test_a_carried_plan_is_dropped_when_a_counterpart_moved(market) -> None:
    pool, ids = market["pool"], market["ids"]["talent"]
    pipeline = RankingPipeline(pool, market["embedder"], ActiveModel(), settings(8, 4))
    restore(pool)
    first = pipeline.rematch_batch("talent", ids, yield_to=lambda conn: True)
    carry = first.carry
    assert carry is not None and carry.plan.counterparts
    # a carry for other ids, or of the other side, is not used
    assert not pipeline.rematch_batch("talent", ids[2:], resume=carry).resumed
    restore(pool)
    # a job the plan read is edited (its version moves) between the yield and the rest
    job = next(iter(carry.plan.counterparts))
    with pool.connection() as conn:
        conn.execute("update public.jobs set updated_at = now() where id = %s", (job,))
    clear_queue(pool)  # the job's own rematch, enqueued by the edit
    rest = pipeline.rematch_batch("talent", first.deferred, resume=carry)
    assert not rest.resumed
    assert "featurise" in rest.timings
    assert rest.deferred == [] and rest.failed.keys() <= {market["bad"]["talent"]}


@pytest.mark.parametrize(
    "sizes", [(8, 4), (200, 50)], ids=["ann-small-lists", "default-exact-scan"]
)
def test_a_whole_re_rank_in_batches_stores_what_entity_by_entity_stores(market, sizes) -> None:
    """Talents, then jobs, as `rematch_all` orders them: the jobs' batches
    find most pairs rescored by the talents' and leave those as they are,
    and the stored rows still equal the per-entity path's, value for value."""
    pool = market["pool"]
    pipeline = RankingPipeline(pool, market["embedder"], ActiveModel(), settings(*sizes))
    order = [("talent", market["ids"]["talent"]), ("job", market["ids"]["job"])]

    restore(pool)
    for kind, ids in order:
        for entity_id in ids:
            with contextlib.suppress(BadEntityDataError):
                pipeline.rematch(kind, entity_id)
    one_by_one = stored_state(pool)

    restore(pool)
    # as the rematch_batch task runs them: commits not waiting for the flush
    results = {kind: pipeline.rematch_batch(kind, ids, flushed_later=True) for kind, ids in order}
    batched = stored_state(pool)
    with pool.connection() as conn:
        # only the write transactions skipped the flush: the session did not
        setting = conn.execute("select current_setting('synchronous_commit')").fetchone()
        assert setting == ("on",)

    assert batched[1] == one_by_one[1]
    assert batched[0] == one_by_one[0]
    # the talents' batches rescored every pair they store (the snapshot is
    # the old model's); the jobs' found most of theirs done
    assert results["talent"].unchanged == 0
    job_stored = sum(r.stored for r in results["job"].results if r.outcome == "matched")
    assert results["job"].unchanged > job_stored / 2


@pytest.mark.parametrize("flushed_later", [True, False])
def test_bulk_writes_skip_the_flush_and_one_synchronous_commit_flushes_them(
    market, db_url, flushed_later
) -> None:
    """With `flushed_later` (the rematch_batch task), each entity's write
    commits without waiting for the WAL flush, and the batch's last
    statement is a synchronous commit that writes WAL on the same connection
    (query flush_commits), which flushes them all; without it, neither."""
    sent: list[str] = []

    class Recording(psycopg.Connection):
        def execute(self, statement, params=None, **kwargs):  # type: ignore[no-untyped-def]
            text = statement if isinstance(statement, str) else statement.as_string(self)
            sent.append(text)
            return super().execute(statement, params, **kwargs)

    restore(market["pool"])
    with ConnectionPool(
        db_url,
        connection_class=Recording,
        min_size=1,
        max_size=1,
        kwargs={"autocommit": True},
        open=True,
    ) as pool:
        pipeline = RankingPipeline(pool, market["embedder"], ActiveModel(), settings(8, 4))
        ids = market["ids"]["talent"]
        result = pipeline.rematch_batch("talent", ids, flushed_later=flushed_later)
        with pool.connection() as conn:
            # only the write transactions skipped the flush: the session did not
            setting = conn.execute("select current_setting('synchronous_commit')").fetchone()
            assert setting == ("on",)
    skipped = [k for k, text in enumerate(sent) if "'synchronous_commit', 'off'" in text]
    flushes = [k for k, text in enumerate(sent) if "set marked_at = marked_at" in text]
    written = sum(r.outcome == "matched" for r in result.results) - (result.single - 1)
    if flushed_later:
        assert len(skipped) == written > 0
        assert len(flushes) == 1 and flushes[0] > skipped[-1]
        # the flush is the batch's last statement (the check above follows it)
        assert flushes[0] == len(sent) - 2
    else:
        assert skipped == [] and flushes == []


def test_stored_contributions_are_the_models_shap_values_of_the_stored_features(market) -> None:
    """Every ml row can be checked from the row and its model alone: the
    contributions column (float4, registry order) is the model's TreeSHAP of
    the stored features and adds up, with the base value, to the raw score;
    the explanation's JSON does not repeat them."""
    pool = market["pool"]
    pipeline = RankingPipeline(pool, market["embedder"], ActiveModel(), settings())
    restore(pool)
    pipeline.rematch_batch("talent", market["ids"]["talent"][:10])
    with pool.connection() as conn:
        model = ActiveModel().get(conn)
        assert model is not None
        # the snapshot restored holds the previous model's rows: every row of
        # this model was written by the batch above
        assert market["old_version"] != model.version
        rows = conn.execute(
            "select explanation, features, contributions from public.matches"
            " where model_version = %s order by talent_id, job_id",
            (model.version,),
        ).fetchall()
    assert len(rows) >= 10
    x = np.array([r[1] for r in rows], dtype=np.float32)
    attributions = MatchExplainer(model).attributions(x)
    for k, (explanation, _, contributions) in enumerate(rows):
        assert "contributions" not in explanation
        np.testing.assert_array_equal(
            np.asarray(contributions, dtype=np.float32),
            attributions.contributions[k].astype(np.float32),
        )
        assert explanation["base_value"] == pytest.approx(attributions.base_value, abs=1e-9)
        total = explanation["base_value"] + sum(contributions)
        assert total == pytest.approx(explanation["raw_score"], abs=1e-4)


def test_rows_stored_before_the_contributions_column_are_rewritten(market) -> None:
    """A row of this model in the old form (contributions in the JSON, none in
    the column) is not "unchanged": a re-rank rewrites it in today's form."""
    pool = market["pool"]
    pipeline = RankingPipeline(pool, market["embedder"], ActiveModel(), settings())
    talents = market["ids"]["talent"][:6]
    restore(pool)
    pipeline.rematch_batch("talent", talents)
    with pool.connection() as conn:
        talent = conn.execute(
            "select talent_id from public.matches where talent_id = any(%s)"
            " and model_version = %s limit 1",
            (talents, market["new_version"]),
        ).fetchone()[0]
        old_form = conn.execute(
            "update public.matches set contributions = null,"
            ' explanation = explanation || \'{"contributions": {"skill_jaccard": 1.0}}\''
            " where talent_id = %s and source = 'ml' returning job_id",
            (talent,),
        ).fetchall()
    assert old_form
    again = pipeline.rematch_batch("talent", talents)
    with pool.connection() as conn:
        # (a pair with the job whose data cannot be featurised is left alone)
        rewritten = [r[0] for r in old_form if r[0] != market["bad"]["job"]]
        left = conn.execute(
            "select count(*) from public.matches where talent_id = %s and job_id = any(%s)"
            " and (contributions is null or explanation ? 'contributions')",
            (talent, rewritten),
        ).fetchone()[0]
    assert rewritten and left == 0
    # the other talents' rows were left as they were
    assert again.unchanged > 0

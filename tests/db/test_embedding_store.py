"""matching.embedding_store on a real PostgreSQL + pgvector with the real model.

One database per module, seeded with 200 talents / 100 jobs and embedded
once (committed) by the `embedded` fixture; every test then works in the
rolled-back `conn`, so changes (headlines, closed jobs) never leak.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from uuid import UUID

import numpy as np
import psycopg
import pytest

from matching.retrieval import store
from matching.retrieval.embedder import MODEL_NAME, TextEmbedder, job_text, talent_text, text_sha256
from matching.settings import Settings
from matching.synthetic.seed import seed

pytestmark = pytest.mark.integration

N_TALENTS = 200
N_JOBS = 100


@pytest.fixture(scope="module")
def embedder() -> TextEmbedder:
    return TextEmbedder(Settings(_env_file=None))  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def seeded(db_url: str) -> str:
    seed(db_url, seed=7, n_talents=N_TALENTS, n_jobs=N_JOBS)
    return db_url


@pytest.fixture(scope="module")
def ids(seeded: str) -> dict[str, list[UUID]]:
    with psycopg.connect(seeded) as c:
        return {
            "talent": [r[0] for r in c.execute("select id from public.talents order by id")],
            "job": [r[0] for r in c.execute("select id from public.jobs order by id")],
        }


@pytest.fixture(scope="module")
def embedded(seeded: str, embedder: TextEmbedder, ids) -> dict[str, tuple[int, int]]:
    """Embed everything (committed); returns (first run, second run) counts per kind."""
    counts = {}
    with psycopg.connect(seeded, autocommit=True) as c:
        for kind in ("talent", "job"):
            first = store.ensure_embeddings(c, embedder, kind, ids[kind])
            second = store.ensure_embeddings(c, embedder, kind, ids[kind])
            counts[kind] = (first, second)
        c.execute("analyze matching.talent_embeddings, matching.job_embeddings")
    return counts


@pytest.fixture
def conn(embedded, seeded: str) -> Iterator[psycopg.Connection]:
    """A connection to the embedded database whose work is rolled back after the test."""
    with psycopg.connect(seeded) as connection:
        yield connection
        connection.rollback()


@pytest.fixture(params=["planner", "index_forced"])
def ann_conn(request, conn: psycopg.Connection) -> psycopg.Connection:
    """`conn`, once as the planner likes it and once with sequential scans disabled.

    On 100 rows the planner may well prefer a sequential scan (exact); forcing
    the HNSW index makes the ANN tests exercise the approximate path too.
    """
    if request.param == "index_forced":
        conn.execute("set local enable_seqscan = off")
    return conn


def open_job_ids(conn: psycopg.Connection) -> list[UUID]:
    return [r[0] for r in conn.execute("select id from public.jobs where status = 'open'")]


# -- ensure_embeddings -----------------------------------------------------


def test_ensure_embeds_everything_once(embedded, conn, ids):
    assert embedded["talent"] == (N_TALENTS, 0)
    assert embedded["job"] == (N_JOBS, 0)
    counts = conn.execute(
        "select (select count(*) from matching.talent_embeddings),"
        " (select count(*) from matching.job_embeddings),"
        " (select count(distinct model_name) from matching.job_embeddings)"
    ).fetchone()
    assert counts == (N_TALENTS, N_JOBS, 1)
    assert conn.execute("select min(model_name) from matching.job_embeddings").fetchone() == (
        MODEL_NAME,
    )


def test_matchable_follows_open_to_work_and_status(embedded, conn):
    mismatched = conn.execute(
        """
        select (select count(*) from matching.talent_embeddings e
                join public.talents t on t.id = e.talent_id
                where e.matchable <> t.open_to_work),
               (select count(*) from matching.job_embeddings e
                join public.jobs j on j.id = e.job_id
                where e.matchable <> (j.status = 'open')),
               (select count(*) filter (where not matchable) from matching.job_embeddings)
        """
    ).fetchone()
    assert mismatched[:2] == (0, 0)
    assert mismatched[2] > 0, "the seed should have some jobs that are not open"


def test_stored_fingerprint_and_vector_match_the_text(conn, embedder, ids):
    some = ids["talent"][:5]
    texts = store.texts(conn, "talent", some)
    vectors = store.vectors(conn, "talent", some)
    stored = dict(
        conn.execute(
            "select talent_id, text_sha256 from matching.talent_embeddings"
            " where talent_id = any(%s)",
            (some,),
        ).fetchall()
    )
    for talent_id in some:
        assert stored[talent_id] == text_sha256(texts[talent_id])
        np.testing.assert_allclose(
            vectors[talent_id], embedder.embed_one(texts[talent_id]), atol=1e-6
        )


def test_changing_a_headline_re_embeds_only_that_talent(conn, embedder, ids):
    target = ids["talent"][17]
    before = store.vectors(conn, "talent", [target])[target]
    conn.execute(
        "update public.talents set headline = 'Registered nurse in intensive care' where id = %s",
        (target,),
    )
    texts = store.texts(conn, "talent", ids["talent"])
    assert texts[target].startswith("Registered nurse in intensive care. Level: ")
    assert store.stale(conn, "talent", ids["talent"], texts) == [target]
    assert store.ensure_embeddings(conn, embedder, "talent", ids["talent"]) == 1
    assert store.stale(conn, "talent", ids["talent"], texts) == []
    after = store.vectors(conn, "talent", [target])[target]
    np.testing.assert_allclose(after, embedder.embed_one(texts[target]), atol=1e-6)
    assert float(before @ after) < 0.99
    assert store.ensure_embeddings(conn, embedder, "talent", ids["talent"]) == 0


def test_changing_skills_or_company_name_makes_stale(conn, ids):
    talent, job = ids["talent"][3], ids["job"][3]
    conn.execute(
        "insert into public.talent_skills (talent_id, skill_id, proficiency)"
        " select %s, s.id, 3 from public.skills s"
        " where s.id not in (select skill_id from public.talent_skills where talent_id = %s)"
        " order by s.id limit 1",
        (talent, talent),
    )
    conn.execute(
        "update public.companies set name = name || ' Group'"
        " where id = (select company_id from public.jobs where id = %s)",
        (job,),
    )
    texts = store.texts(conn, "talent", ids["talent"])
    assert store.stale(conn, "talent", ids["talent"], texts) == [talent]
    stale_jobs = store.stale(conn, "job", ids["job"], store.texts(conn, "job", ids["job"]))
    assert job in stale_jobs  # and every other job of that company
    company_jobs = {
        r[0]
        for r in conn.execute(
            "select id from public.jobs where company_id ="
            " (select company_id from public.jobs where id = %s)",
            (job,),
        )
    }
    assert set(stale_jobs) == company_jobs


def test_another_model_name_makes_stale(conn, ids):
    target = ids["job"][5]
    conn.execute(
        "update matching.job_embeddings set model_name = 'some/other-model' where job_id = %s",
        (target,),
    )
    texts = store.texts(conn, "job", ids["job"])
    assert store.stale(conn, "job", ids["job"], texts) == [target]


def test_missing_embedding_is_stale_and_unknown_ids_are_skipped(conn, ids):
    target = ids["talent"][0]
    conn.execute("delete from matching.talent_embeddings where talent_id = %s", (target,))
    unknown = UUID(int=1)
    texts = store.texts(conn, "talent", [target, unknown])
    assert set(texts) == {target}
    assert store.stale(conn, "talent", [unknown, target], texts) == [target]


# -- texts -----------------------------------------------------------------


def test_texts_follow_the_templates(conn, ids):
    talent, job = ids["talent"][0], ids["job"][0]
    headline, level, bio = conn.execute(
        "select headline, experience_level::text, bio from public.talents where id = %s",
        (talent,),
    ).fetchone()
    skills = [
        r[0]
        for r in conn.execute(
            "select s.name from public.talent_skills ts join public.skills s on s.id = ts.skill_id"
            " where ts.talent_id = %s",
            (talent,),
        )
    ]
    assert skills
    text = store.texts(conn, "talent", [talent])[talent]
    assert text == talent_text(headline, level, skills, bio)

    title, level, description, company = conn.execute(
        "select j.title, j.experience_level::text, j.description, c.name"
        " from public.jobs j join public.companies c on c.id = j.company_id where j.id = %s",
        (job,),
    ).fetchone()
    skills = [
        r[0]
        for r in conn.execute(
            "select s.name from public.job_skills js join public.skills s on s.id = js.skill_id"
            " where js.job_id = %s",
            (job,),
        )
    ]
    text = store.texts(conn, "job", [job])[job]
    assert text == job_text(title, level, skills, description, company)
    assert text.startswith(f"{title.rstrip('. ')} at {company}. Level: {level}.")


# -- matchable -------------------------------------------------------------


def test_closing_a_job_takes_it_out_of_ann(ann_conn, embedder, ids):
    conn = ann_conn
    target = open_job_ids(conn)[0]
    query = store.vectors(conn, "job", [target])[target]
    assert store.nearest(conn, "job", query, k=5)[0][0] == target

    conn.execute("update public.jobs set status = 'closed' where id = %s", (target,))
    assert store.ensure_embeddings(conn, embedder, "job", [target]) == 0  # text unchanged
    assert conn.execute(
        "select matchable from matching.job_embeddings where job_id = %s", (target,)
    ).fetchone() == (False,)
    n_open = len(open_job_ids(conn))
    found = store.nearest(conn, "job", query, k=n_open + 10)
    assert target not in {job for job, _ in found}
    assert len(found) == n_open
    assert target not in {job for job, _ in store.exact_nearest(conn, "job", query, k=N_JOBS)}

    conn.execute("update public.jobs set status = 'open' where id = %s", (target,))
    assert store.ensure_embeddings(conn, embedder, "job", [target]) == 0
    assert store.nearest(conn, "job", query, k=5)[0][0] == target


def test_set_matchable(conn, ids):
    target = ids["talent"][9]
    query = store.vectors(conn, "talent", [target])[target]
    assert store.set_matchable(conn, "talent", [target], False) == 1
    assert store.set_matchable(conn, "talent", [target], False) == 0  # already
    assert target not in {t for t, _ in store.nearest(conn, "talent", query, k=N_TALENTS)}
    assert store.set_matchable(conn, "talent", [target], True) == 1
    assert store.nearest(conn, "talent", query, k=3)[0][0] == target
    job = ids["job"][0]
    store.set_matchable(conn, "job", [job], False)
    assert conn.execute(
        "select matchable from matching.job_embeddings where job_id = %s", (job,)
    ).fetchone() == (False,)


# -- ANN retrieval ---------------------------------------------------------


def test_nearest_jobs_sorted_with_true_cosine_similarity(ann_conn, ids):
    conn = ann_conn
    query = store.vectors(conn, "talent", [ids["talent"][0]])[ids["talent"][0]]
    found = store.nearest(conn, "job", query, k=30)
    assert len(found) == 30
    sims = [s for _, s in found]
    assert sims == sorted(sims, reverse=True)
    assert len({j for j, _ in found}) == 30
    vectors = store.vectors(conn, "job", [j for j, _ in found])
    for job, sim in found:
        v = vectors[job]
        expected = float(query @ v / (np.linalg.norm(query) * np.linalg.norm(v)))
        assert sim == pytest.approx(expected, abs=1e-5)
        assert -1.0 <= sim <= 1.0 + 1e-6


def test_k_above_default_ef_search_returns_k_rows(ann_conn, ids):
    conn = ann_conn
    n_open = len(open_job_ids(conn))
    assert n_open > 60
    query = store.vectors(conn, "talent", [ids["talent"][1]])[ids["talent"][1]]
    assert len(store.nearest(conn, "job", query, k=60)) == 60
    # The pitfall this guards against: plain HNSW with pgvector's default
    # ef_search (40) and no iterative scan stops at 40 rows whatever LIMIT says.
    settings = Settings(_env_file=None, ann_ef_search=1)  # type: ignore[call-arg]
    assert len(store.nearest(conn, "job", query, k=60, settings=settings)) == 60


def test_default_ef_search_would_starve_an_index_scan(conn, ids):
    """Documents why nearest_jobs raises ef_search: the same query without it."""
    conn.execute("set local enable_seqscan = off")
    conn.execute("set local hnsw.ef_search = 40")
    conn.execute("set local hnsw.iterative_scan = off")
    store.register_vector_type(conn)
    query = store.vectors(conn, "talent", [ids["talent"][2]])[ids["talent"][2]]
    rows = conn.execute(
        "select job_id from matching.job_embeddings where matchable"
        " order by embedding operator(extensions.<=>) %s limit 60",
        (query,),
    ).fetchall()
    assert len(rows) == 40


def test_recall_against_exact_search(ann_conn, ids):
    conn = ann_conn
    queries = store.vectors(conn, "talent", ids["talent"])
    k = 20
    hits = total = 0
    for query in queries.values():
        approx = {j for j, _ in store.nearest(conn, "job", query, k=k)}
        exact = {j for j, _ in store.exact_nearest(conn, "job", query, k=k)}
        hits += len(approx & exact)
        total += len(exact)
    assert total == k * len(queries)
    assert hits / total >= 0.95


def test_exact_search_agrees_with_numpy(conn, ids):
    open_ids = open_job_ids(conn)
    vectors = store.vectors(conn, "job", open_ids)
    matrix = np.stack([vectors[j] for j in open_ids])
    query = store.vectors(conn, "talent", [ids["talent"][4]])[ids["talent"][4]]
    sims = matrix @ query
    best = [open_ids[i] for i in np.argsort(-sims)[:10]]
    found = store.exact_nearest(conn, "job", query, k=10)
    assert [j for j, _ in found] == best


def test_nearest_talents(ann_conn, ids):
    conn = ann_conn
    job = open_job_ids(conn)[0]
    query = store.vectors(conn, "job", [job])[job]
    found = store.nearest(conn, "talent", query, k=50)
    n_matchable = conn.execute(
        "select count(*) from matching.talent_embeddings where matchable"
    ).fetchone()[0]
    assert len(found) == min(50, n_matchable)
    exact = store.exact_nearest(conn, "talent", query, k=50)
    assert len({t for t, _ in found} & {t for t, _ in exact}) >= 0.95 * len(exact)


def test_ann_settings_do_not_leak_out_of_the_query(seeded, embedded, ids):
    with psycopg.connect(seeded, autocommit=True) as c:
        query = store.vectors(c, "talent", [ids["talent"][0]])[ids["talent"][0]]
        store.nearest(c, "job", query, k=300)
        assert c.execute("select current_setting('hnsw.ef_search')").fetchone() == ("40",)
        assert c.execute("select current_setting('hnsw.iterative_scan')").fetchone() == ("off",)


def scans(conn: psycopg.Connection) -> tuple[int, int]:
    """(seq_scan, idx_scan) of matching.job_embeddings in the current transaction."""
    row = conn.execute(
        "select seq_scan, coalesce(idx_scan, 0) from pg_stat_xact_user_tables"
        " where schemaname = 'matching' and relname = 'job_embeddings'"
    ).fetchone()
    return (row[0], row[1]) if row else (0, 0)


def test_exact_is_a_seq_scan_and_forced_ann_an_index_scan(ann_conn, ids):
    """Exact must be exact even when the caller disabled seq scans; neither leaks settings."""
    conn = ann_conn
    conn.execute("select 1")  # make sure a transaction is open for the xact stats
    query = store.vectors(conn, "talent", [ids["talent"][0]])[ids["talent"][0]]
    seq0, idx0 = scans(conn)
    store.exact_nearest(conn, "job", query, k=10)
    seq1, idx1 = scans(conn)
    assert (seq1 - seq0, idx1 - idx0) == (1, 0)
    store.nearest(conn, "job", query, k=10)
    seq2, idx2 = scans(conn)
    if conn.execute("select current_setting('enable_seqscan')").fetchone() == ("off",):
        assert (seq2 - seq1, idx2 - idx1) == (0, 1)  # exact's settings did not stick
    else:
        assert seq2 - seq1 + idx2 - idx1 == 1


def test_settings_are_restored_inside_a_caller_transaction(conn, ids):
    query = store.vectors(conn, "talent", [ids["talent"][0]])[ids["talent"][0]]
    conn.execute("set local hnsw.ef_search = 33")
    store.nearest(conn, "job", query, k=80)
    store.exact_nearest(conn, "job", query, k=5)
    assert conn.execute(
        "select current_setting('hnsw.ef_search'), current_setting('hnsw.iterative_scan'),"
        " current_setting('enable_indexscan'), current_setting('enable_bitmapscan')"
    ).fetchone() == ("33", "off", "on", "on")


# -- plumbing --------------------------------------------------------------


def test_works_without_extensions_on_the_search_path(conn, ids):
    conn.execute("set local search_path = public")
    target = ids["job"][0]
    query = store.vectors(conn, "job", [target])[target]
    assert query.dtype == np.float32 and query.shape == (384,)
    assert store.exact_nearest(conn, "job", query, k=1)


def test_upsert_validates_and_replaces(conn, ids):
    target = ids["job"][0]
    vector = np.zeros(384, dtype=np.float32)
    vector[0] = 1.0
    sha = "0" * 64
    assert store.upsert_embeddings(conn, "job", [(target, vector, sha, True)]) == 1
    row = conn.execute(
        "select text_sha256, model_name, matchable from matching.job_embeddings where job_id = %s",
        (target,),
    ).fetchone()
    assert row == (sha, MODEL_NAME, True)
    np.testing.assert_array_equal(store.vectors(conn, "job", [target])[target], vector)
    with pytest.raises(ValueError, match="shape"):
        store.upsert_embeddings(conn, "job", [(target, np.zeros(10), sha, True)])
    with pytest.raises(ValueError, match="NaN"):
        store.upsert_embeddings(conn, "job", [(target, np.full(384, np.nan), sha, True)])
    with pytest.raises(ValueError, match="sha256"):
        store.upsert_embeddings(conn, "job", [(target, vector, "abc", True)])
    with pytest.raises(ValueError, match="kind"):
        store.ensure_embeddings(conn, TextEmbedder(), "company", [target])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="k must"):
        store.nearest(conn, "job", vector, k=0)


def test_index_runs_on_a_long_lived_connection_when_few_rows_are_matchable(conn, ids):
    """90% of jobs out of the market, ten calls on one connection (psycopg would
    prepare after five): every call must still scan the partial HNSW index.

    Counted from pg_stat_xact_user_tables.idx_scan, not read off EXPLAIN: a
    cached generic plan or the planner's seq-scan preference would not show
    there, but it shows as a seq scan here.
    """
    conn.execute("select 1")
    open_ids = open_job_ids(conn)
    store.set_matchable(conn, "job", open_ids[: int(len(open_ids) * 0.9)], False)
    conn.execute("analyze matching.job_embeddings")
    query = store.vectors(conn, "talent", [ids["talent"][0]])[ids["talent"][0]]
    k = 5  # fewer than the open jobs left (see the next test for more)
    for _ in range(10):
        seq0, idx0 = scans(conn)
        assert len(store.nearest(conn, "job", query, k=k)) == k
        seq1, idx1 = scans(conn)
        assert (seq1 - seq0, idx1 - idx0) == (0, 1)
    assert conn.execute("select current_setting('enable_seqscan')").fetchone() == ("on",)


def test_fewer_matchable_than_k_is_answered_exactly(conn, ids):
    """When the index cannot fill the list (fewer matchable rows than k, or an
    iterative scan cut short by dead entries), nearest_jobs answers with the
    exact scan on purpose: every matchable row, in the exact order.

    Counted: one sequential scan, after at most one HNSW index scan (none
    when the statistics already show the index mostly dead, e.g. from the
    rolled-back updates of earlier tests, and `ann_ef_search` goes exact).
    """
    conn.execute("select 1")
    open_ids = open_job_ids(conn)
    store.set_matchable(conn, "job", open_ids[: int(len(open_ids) * 0.9)], False)
    n_matchable = conn.execute(
        "select count(*) from matching.job_embeddings where matchable"
    ).fetchone()[0]
    query = store.vectors(conn, "talent", [ids["talent"][0]])[ids["talent"][0]]
    seq0, idx0 = scans(conn)
    found = store.nearest(conn, "job", query, k=50)
    seq1, idx1 = scans(conn)
    assert seq1 - seq0 == 1 and idx1 - idx0 in (0, 1)
    assert len(found) == n_matchable < 50
    assert [j for j, _ in found] == [j for j, _ in store.exact_nearest(conn, "job", query, k=50)]


def index_and_seq_scans(conn: psycopg.Connection) -> tuple[int, int]:
    """(HNSW idx_scan, table seq_scan) of matching.job_embeddings, as committed statistics.

    pg_stat_force_next_flush publishes this backend's counters when the
    statement ends; the next statement reads a fresh snapshot.
    """
    conn.execute("select pg_stat_force_next_flush()")
    row = conn.execute(
        "select i.idx_scan, t.seq_scan from pg_stat_user_indexes i"
        " join pg_stat_user_tables t using (relid)"
        " where i.schemaname = 'matching' and i.indexrelname = 'job_embeddings_hnsw_idx'"
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


@pytest.mark.parametrize("closed_share", [0.0, 0.5, 0.9])
def test_worker_connection_scans_the_index_at_every_selectivity(
    seeded, embedded, ids, closed_share
):
    """The worker's case: a pooled autocommit connection used for many calls.

    With 0%, 50% and 90% of the open jobs out of the market (committed, and
    ANALYZEd, so the planner sees the real selectivity), 12 calls in a row
    (psycopg would prepare from the 5th) must each run exactly one HNSW index
    scan and no sequential scan, counted in pg_stat_user_indexes, and leave
    no prepared retrieval statement and no planner setting behind.
    """
    with psycopg.connect(seeded, autocommit=True) as c:
        open_ids = open_job_ids(c)
        closed = open_ids[: int(len(open_ids) * closed_share)]
        k = min(20, len(open_ids) - len(closed))
        query = store.vectors(c, "talent", [ids["talent"][3]])[ids["talent"][3]]
        try:
            store.set_matchable(c, "job", closed, False)
            c.execute("analyze matching.job_embeddings")
            idx0, seq0 = index_and_seq_scans(c)
            for _ in range(12):
                assert len(store.nearest(c, "job", query, k=k)) == k
            idx1, seq1 = index_and_seq_scans(c)
            assert (idx1 - idx0, seq1 - seq0) == (12, 0)
            # (the set_config round trip may be prepared: it has no plan to go stale)
            prepared = [r[0] for r in c.execute("select statement from pg_prepared_statements")]
            assert not [p for p in prepared if "job_embeddings" in p]
            assert c.execute("select current_setting('enable_seqscan')").fetchone() == ("on",)
        finally:
            store.set_matchable(c, "job", closed, True)
            c.execute("analyze matching.job_embeddings")


def test_recall_per_query_at_default_settings(conn, ids):
    """Every talent's ANN top 50 holds >= 98% of its exact top 50 (per query, not on average)."""
    talents = ids["talent"][:40]
    vectors = store.vectors(conn, "talent", talents)
    worst = 1.0
    for talent in talents:
        exact = {j for j, _ in store.exact_nearest(conn, "job", vectors[talent], k=50)}
        got = {j for j, _ in store.nearest(conn, "job", vectors[talent], k=50)}
        worst = min(worst, len(exact & got) / len(exact))
    assert worst >= 0.98


def test_ef_search_grows_with_dead_entries_and_gives_way_to_an_exact_scan():
    """Pure arithmetic of the plan choice (see `ann_ef_search`)."""
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    want = math.ceil(200 * s.ann_ef_search_factor)
    assert store.ann_ef_search(200, s) == want
    assert store.ann_ef_search(10, s) == s.ann_ef_search  # the floor for small k
    doubled = 2 * want if 2 * want <= store.EF_SEARCH_MAX else None  # half the entries dead
    assert store.ann_ef_search(200, s, live_share=0.5) == doubled
    assert store.ann_ef_search(200, s, live_share=0.05) is None  # the index would need > 1000
    assert store.ann_ef_search(200, s, live_share=0.0) is None  # no live entry: exact
    assert store.ann_ef_search(900, s) == store.EF_SEARCH_MAX  # clean index: cap + iterative scan


def test_similarities_are_exactly_what_retrieval_found_from_either_side(ann_conn, ids):
    """A pair's similarity must not depend on how it was found: the same value,
    bit for bit, from retrieval on either side and from `similarities` (a
    stored pair outside the candidates), or a rescored pair's features differ
    from the stored ones in the last bits and every pair is rewritten."""
    conn = ann_conn
    talents = ids["talent"][:5]
    vectors = store.vectors(conn, "talent", talents)
    queries = [vectors[t] for t in talents]
    found = store.nearest_many(conn, "job", queries, k=40)
    pairs = [(n, job) for n, answer in enumerate(found) for job, _ in answer]
    retrieved = [s for answer in found for _, s in answer]
    assert len(pairs) == 200
    assert store.similarities(conn, "job", queries, pairs) == retrieved
    # from the jobs' side: each job's query finds its talents with the same values
    by_pair = {(talents[n], job): s for (n, job), s in zip(pairs, retrieved, strict=True)}
    jobs = list(dict.fromkeys(job for _, job in pairs))[:10]
    job_vectors = store.vectors(conn, "job", jobs)
    back = store.nearest_many(conn, "talent", [job_vectors[j] for j in jobs], k=60)
    both = [
        (s, by_pair[(t, job)])
        for job, answer in zip(jobs, back, strict=True)
        for t, s in answer
        if (t, job) in by_pair
    ]
    assert len(both) >= 5
    assert all(a == b for a, b in both)
    # numpy's float32 dot product is not the same number for most pairs
    job_vecs = store.vectors(conn, "job", [job for _, job in pairs])
    dots = [float(np.dot(job_vecs[job], queries[n])) for n, job in pairs]
    assert sum(d != s for d, s in zip(dots, retrieved, strict=True)) > len(pairs) // 4
    # any order, gaps included: each answer is its own pair's
    mixed = [*reversed(pairs[::7]), (2, UUID(int=7)), pairs[0]]
    expected = [by_pair[(talents[n], job)] for n, job in reversed(pairs[::7])]
    assert store.similarities(conn, "job", queries, mixed) == [*expected, None, retrieved[0]]

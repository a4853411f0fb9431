"""Embeddings in Postgres: build texts, store vectors, retrieve nearest neighbours.

Vectors live in `matching.talent_embeddings` / `matching.job_embeddings`
(`extensions.vector(384)`), each with the model name and the sha256 of the
exact text embedded, so a profile is re-embedded only when its text (or the
model) changes. Only rows with `matchable` are in the partial HNSW indexes.

Vector type registration
------------------------
pgvector is installed in schema `extensions` (as Supabase does), which is not
on every connection's search_path (it is not on the embedded server's, nor
on the worker's). `pgvector.psycopg.register_vector` looks the type up as the
bare name 'vector' and fails there. So `register_vector_type` fetches the
TypeInfo by its qualified name 'extensions.vector' (`'extensions.vector'::regtype`
resolves whatever the search_path) and hands it to pgvector's own
`register_vector_info`: numpy arrays are then sent in pgvector's binary format
and `vector` columns come back as `pgvector.Vector` (binary cursors: no text
parsing of 384 floats per row). Every function that sends or reads vectors
registers the connection on first use (one catalog query per connection) and all SQL qualifies the
type and the operator (`operator(extensions.<=>)`), so nothing depends on the
caller's search_path. Text literals cast to `extensions.vector` would also
work, but they cost a float->text->float round trip per value and lose the
typed parameter the planner sees.

Transactions: writers run inside `conn.transaction()`, i.e. they commit on an
idle connection and join (as a savepoint) a transaction the caller already
has open; the caller commits in that case. A writer that sends a single
statement on an idle autocommit connection skips BEGIN/COMMIT (the
statement is its own transaction; see `_atomic`).

Both sides share every function: each takes a `matching.side.Side` (or its
kind, "talent" / "job"), and the SQL is the named queries of
matching/db/sql/store.sql with the side's identifiers filled in. ANN and exact queries set their
planner/index settings with `set_config(..., true)` inside their own
`conn.transaction()` and put the caller's values back when nested, so nothing
leaks into the caller's session or transaction. `hnsw.iterative_scan` needs
pgvector >= 0.8 (older versions reject the unknown hnsw.* setting).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from uuid import UUID

import numpy as np
import psycopg
from pgvector import Vector
from pgvector.psycopg.vector import register_vector_info
from psycopg.rows import class_row
from psycopg.types import TypeInfo

from matching.db.queries import query
from matching.retrieval.embedder import DIMENSIONS, MODEL_NAME, TextEmbedder, text_sha256
from matching.settings import Settings, get_settings
from matching.side import Kind, Side, TextParts, side_of

__all__ = [
    "EF_SEARCH_MAX",
    "ENSURE_CHUNK",
    "EmbeddingRow",
    "ann_ef_search",
    "ensure_embeddings",
    "ensure_vectors",
    "exact_nearest",
    "index_live_share",
    "job_texts",
    "job_vectors",
    "nearest",
    "nearest_many",
    "register_vector_type",
    "set_matchable",
    "stale",
    "sync_matchable",
    "talent_texts",
    "talent_vectors",
    "texts",
    "upsert_embeddings",
    "vectors",
]

SideLike = Side | Kind
EmbeddingRow = tuple[UUID, np.ndarray, str, bool]
"""(id, unit vector of shape (384,), sha256 of the embedded text, matchable)."""

# pgvector caps hnsw.ef_search at 1000; beyond it the iterative scan supplies the rest.
EF_SEARCH_MAX = 1000
# Rows embedded and written per round trip of `ensure_embeddings`.
ENSURE_CHUNK = 256


@dataclass(frozen=True)
class _StoredEmbedding:
    """One row of `embedding_state`: the stale test and, when fresh, what is stored."""

    id: UUID
    stale: bool
    embedding: Vector | None
    matchable: bool | None


# -- type registration -----------------------------------------------------


def register_vector_type(conn: psycopg.Connection) -> None:
    """Teach this connection the `extensions.vector` type (once per connection).

    See the module docstring for why this does not call `register_vector`.
    """
    if conn.adapters.types.get("vector") is not None:
        return
    info = TypeInfo.fetch(conn, "extensions.vector")
    if info is None:
        raise psycopg.ProgrammingError(
            "type extensions.vector not found: is pgvector installed in schema extensions?"
        )
    register_vector_info(conn, info)


def _as_vector(vector: np.ndarray | Sequence[float]) -> Vector:
    """Validate one embedding (384 finite floats) and wrap it for the dumper."""
    array = np.asarray(vector, dtype=np.float32)
    if array.shape != (DIMENSIONS,):
        raise ValueError(f"an embedding has shape ({DIMENSIONS},), got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError("an embedding contains NaN or infinite values")
    return Vector(array)


# -- texts -----------------------------------------------------------------


def _text_parts(conn: psycopg.Connection, side: Side, ids: Iterable[UUID]) -> dict[UUID, TextParts]:
    """id -> what its text is built from, one query; ids that do not exist are absent."""
    with conn.cursor(row_factory=class_row(TextParts)) as cur:
        cur.execute(query(side.text_query), (list(ids),))
        return {row.id: row for row in cur}


def texts(conn: psycopg.Connection, side: SideLike, ids: Iterable[UUID]) -> dict[UUID, str]:
    """The embedding text of each entity, in one query; unknown ids are left out.

    A talent's is headline, level, skills, bio; a job's is title at company,
    level, skills, description (templates: `matching.retrieval.embedder`).
    Skills are aggregated in SQL.
    """
    s = side_of(side)
    return {k: s.text(parts) for k, parts in _text_parts(conn, s, ids).items()}


# -- staleness -------------------------------------------------------------


def _fingerprints(ids: Iterable[UUID], texts: Mapping[UUID, str]) -> tuple[list[UUID], list[str]]:
    wanted = [i for i in dict.fromkeys(ids) if i in texts]
    return wanted, [text_sha256(texts[i]) for i in wanted]


def stale(
    conn: psycopg.Connection, side: SideLike, ids: Iterable[UUID], texts: Mapping[UUID, str]
) -> list[UUID]:
    """Entities (of `ids`, in that order) whose embedding is missing or out of date.

    Out of date = stored model_name is not MODEL_NAME or stored text_sha256 is
    not the sha256 of `texts[id]` (the current text). Ids without a text
    (deleted entities) are skipped. Callers re-embed only these.
    """
    s = side_of(side)
    wanted, shas = _fingerprints(ids, texts)
    if not wanted:
        return []
    rows = conn.execute(
        query("stale_embeddings").format(**s.identifiers()),
        {"ids": wanted, "shas": shas, "model": MODEL_NAME},
    ).fetchall()
    return [r[0] for r in rows]


def _stored(
    conn: psycopg.Connection, side: Side, ids: list[UUID], texts: Mapping[UUID, str]
) -> list[_StoredEmbedding]:
    """`stale`'s answer for every id, with the stored vector and flag of the fresh ones."""
    wanted, shas = _fingerprints(ids, texts)
    if not wanted:
        return []
    register_vector_type(conn)
    # binary: vectors arrive as 4-byte floats, not as text to parse
    with conn.cursor(binary=True, row_factory=class_row(_StoredEmbedding)) as cur:
        cur.execute(
            query("embedding_state").format(**side.identifiers()),
            {"ids": wanted, "shas": shas, "model": MODEL_NAME},
        )
        return cur.fetchall()


# -- writes ----------------------------------------------------------------


def _atomic(conn: psycopg.Connection) -> AbstractContextManager[object]:
    """The transaction of a writer that sends ONE statement.

    On an idle autocommit connection that statement is a transaction by
    itself, so BEGIN and COMMIT would be two round trips for nothing (a
    rematch runs on such a connection). Anywhere else (inside a caller's
    transaction, or without autocommit) it is `conn.transaction()`, as for
    every writer: a savepoint in the caller's transaction, or a commit.
    """
    idle = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    if conn.autocommit and idle:
        return nullcontext()
    return conn.transaction()


def upsert_embeddings(
    conn: psycopg.Connection, side: SideLike, rows: Iterable[EmbeddingRow]
) -> int:
    """Insert or replace embeddings (model_name = MODEL_NAME); returns rows written."""
    s = side_of(side)
    register_vector_type(conn)
    params = []
    for row_id, vector, sha, matchable in rows:
        if not isinstance(sha, str) or len(sha) != 64:
            raise ValueError(f"text_sha256 must be 64 hex characters, got {sha!r}")
        params.append((row_id, _as_vector(vector), MODEL_NAME, sha, bool(matchable)))
    if not params:
        return 0
    statement = query("upsert_embedding").format(**s.identifiers())
    if len(params) == 1:
        with _atomic(conn):
            conn.execute(statement, params[0])
    else:
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany(statement, params)
    return len(params)


def set_matchable(
    conn: psycopg.Connection, side: SideLike, ids: Iterable[UUID], matchable: bool
) -> int:
    """Put entities in (or take them out of) the ANN index; returns rows changed.

    The HNSW index is partial (`where matchable`), so an entity out of the
    market is not searched without deleting its vector.
    """
    s = side_of(side)
    with _atomic(conn):
        cur = conn.execute(
            query("set_matchable").format(**s.identifiers()),
            {"matchable": matchable, "ids": list(ids)},
        )
    return cur.rowcount


def sync_matchable(conn: psycopg.Connection, side: SideLike, ids: Iterable[UUID]) -> int:
    """Make `matchable` equal the side's market predicate for `ids`; returns rows changed."""
    s = side_of(side)
    with _atomic(conn):
        cur = conn.execute(query("sync_matchable").format(**s.identifiers()), (list(ids),))
    return cur.rowcount


def ensure_embeddings(
    conn: psycopg.Connection,
    embedder: TextEmbedder,
    side: SideLike,
    ids: Iterable[UUID],
    *,
    chunk_size: int = ENSURE_CHUNK,
) -> int:
    """Bring the embeddings of `ids` up to date; returns how many were (re)embedded.

    Texts are built from the database, compared with the stored fingerprints,
    and only stale ones are embedded (in chunks of `chunk_size`, each written
    in its own `conn.transaction()`, so an autocommit connection keeps the
    progress of a long run). `matchable` is set from the market predicate
    for re-embedded rows and kept in sync for the others.
    """
    return _ensure(conn, embedder, side_of(side), ids, chunk_size)[0]


def ensure_vectors(
    conn: psycopg.Connection,
    embedder: TextEmbedder,
    side: SideLike,
    ids: Iterable[UUID],
    *,
    chunk_size: int = ENSURE_CHUNK,
) -> dict[UUID, np.ndarray]:
    """`ensure_embeddings`, returning the up-to-date vectors (float32, (384,)).

    What a rematch needs: a vector it has just embedded is kept, not read
    back, and the fresh ones come with the staleness check, so the vectors
    cost no query of their own. Equal to what `vectors` would read afterwards
    (pgvector stores float32, which is what is kept). Unknown ids are absent.
    """
    return _ensure(conn, embedder, side_of(side), ids, chunk_size)[1]


def _ensure(
    conn: psycopg.Connection,
    embedder: TextEmbedder,
    side: Side,
    ids: Iterable[UUID],
    chunk_size: int,
) -> tuple[int, dict[UUID, np.ndarray]]:
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return 0, {}
    parts = _text_parts(conn, side, wanted)
    texts = {k: side.text(p) for k, p in parts.items()}
    stored = _stored(conn, side, wanted, texts)
    out: dict[UUID, np.ndarray] = {}
    stale_ids: list[UUID] = []
    out_of_sync: list[UUID] = []
    for row in stored:
        if row.stale:
            stale_ids.append(row.id)
            continue
        assert row.embedding is not None
        out[row.id] = row.embedding.to_numpy()
        if row.matchable != parts[row.id].in_market:
            out_of_sync.append(row.id)
    for start in range(0, len(stale_ids), chunk_size):
        chunk = stale_ids[start : start + chunk_size]
        chunk_texts = [texts[i] for i in chunk]
        embedded = embedder.embed(chunk_texts)
        kept = [np.asarray(embedded[n], dtype=np.float32) for n in range(len(chunk))]
        upsert_embeddings(
            conn,
            side,
            (
                (i, kept[n], text_sha256(chunk_texts[n]), parts[i].in_market)
                for n, i in enumerate(chunk)
            ),
        )
        out.update(zip(chunk, kept, strict=True))
    # the rest: matchable follows the market predicate (an UPDATE only when a
    # stored flag differs from the one just read: the statement would change nothing)
    if out_of_sync:
        sync_matchable(conn, side, out_of_sync)
    return len(stale_ids), {i: out[i] for i in wanted if i in out}


# -- retrieval -------------------------------------------------------------


@contextmanager
def _local_settings(conn: psycopg.Connection, settings: Mapping[str, str]) -> Iterator[None]:
    """Planner/index settings for the statements of this block only.

    Runs in `conn.transaction()` with `set_config(..., true)`. On an idle
    connection that is a transaction of its own and the settings end with it.
    Nested in a caller's transaction it is a savepoint, and a released
    savepoint keeps transaction-local settings until the outer transaction
    ends, so then the previous values are put back afterwards (on error the
    savepoint rollback restores them).
    """
    names = list(settings)
    nested = conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
    with conn.transaction():
        # one round trip: each row reads the old value, then sets the new one
        previous = conn.execute(
            query("local_settings_set"), (names, [settings[n] for n in names])
        ).fetchall()
        yield
        if nested:
            # a setting unknown before (library not loaded yet) has nothing to go back to
            restore = [(name, old) for name, old, _ in previous if old is not None]
            if restore:
                conn.execute(
                    query("local_settings_restore"),
                    ([n for n, _ in restore], [v for _, v in restore]),
                )


def index_live_share(conn: psycopg.Connection, side: SideLike) -> float:
    """Estimated share of the partial HNSW index's entries that are still matchable.

    A row that leaves the market (or is re-embedded) keeps its old entry in
    the HNSW graph until VACUUM; a search collects ef_search candidates
    *including* those dead entries, so with half of the entries dead it
    effectively searches with half the ef_search. Estimated from the
    statistics autovacuum/autoanalyze keep (no scan): live entries = the
    index's pg_class.reltuples (rows matching its predicate, as of the last
    VACUUM or ANALYZE), dead = the table's n_dead_tup (every dead version,
    so the share errs on the low side, i.e. toward a larger ef_search).
    1.0 when the statistics are unknown (never analyzed); 0.0 when the index
    is known to be empty.
    """
    s = side_of(side)
    row = conn.execute(
        query("index_live_share"),
        {"table": f"matching.{s.embeddings}", "index": f"matching.{s.ann_index}"},
    ).fetchone()
    if row is None or row[0] < 0:
        return 1.0
    live, dead = float(row[0]), float(row[1])
    return live / (live + dead) if live > 0 else 0.0


def ann_ef_search(k: int, settings: Settings, live_share: float = 1.0) -> int | None:
    """hnsw.ef_search for a top-k query, or None when an exact scan is the right plan.

    ef_search = ann_ef_search_factor * k live candidates (see README, "ANN
    recall", for the measurements behind the factor), divided by the index's
    live share so that dead entries awaiting VACUUM do not eat into it, and
    at least `ann_ef_search`. When that exceeds what pgvector allows (1000)
    only because of dead entries, or the index holds no live entry, the
    matchable set is small next to the index and an exact scan is chosen on
    purpose. A k so large that even a clean index needs more than 1000 uses
    1000 and the iterative scan.
    """
    want = min(math.ceil(k * settings.ann_ef_search_factor), EF_SEARCH_MAX)
    if live_share <= 0:
        return None
    needed = math.ceil(want / min(live_share, 1.0))
    if needed > EF_SEARCH_MAX and live_share < 1.0:
        return None
    return min(max(needed, settings.ann_ef_search), EF_SEARCH_MAX)


def nearest(
    conn: psycopg.Connection,
    side: SideLike,
    vector: np.ndarray | Sequence[float],
    k: int = 200,
    *,
    settings: Settings | None = None,
) -> list[tuple[UUID, float]]:
    """The k matchable entities of `side` closest to `vector`: (id, cosine similarity), best first.

    Approximate (HNSW). ef_search defaults to 40 in pgvector, which would cap
    the answer at 40 rows whatever k is, so it is raised to factor * k
    (settings.ann_ef_search_factor, 3 by default: at k = 200 on 24,000 varied
    vectors, ef = k left a third of the queries under recall 0.98 and 2k
    still 3%), divided by the index's live share (`index_live_share`), at
    least settings.ann_ef_search; see `ann_ef_search`. The iterative scan
    (pgvector 0.8, relaxed order) fetches more when the first pass falls
    short, and when the index still cannot fill k rows (or would need an
    ef_search above pgvector's 1000 because of dead entries) the answer is
    the exact scan, chosen on purpose: recall 1 for a small matchable set.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    s = side_of(side)
    settings = settings or get_settings()
    register_vector_type(conn)
    q = _as_vector(vector)
    ef_search = ann_ef_search(k, settings, index_live_share(conn, s))
    if ef_search is None:
        return exact_nearest(conn, s, vector, k)
    # enable_seqscan off: with most rows out of the market the planner prices the
    # partial index above a seq scan over the whole table, which measured 4x slower.
    # force_custom_plan + prepare=False: a long-lived connection must not answer
    # from a cached generic plan built under other planner settings.
    with _local_settings(conn, _ann_settings(ef_search)):
        rows = conn.execute(
            query("ann_nearest").format(**s.identifiers()), {"q": q, "k": k}, prepare=False
        ).fetchall()
    if len(rows) < k:
        # The index could not fill the list: fewer than k rows are matchable, or
        # the iterative scan stopped at hnsw.max_scan_tuples in a graph full of
        # entries that left the market (before VACUUM). Either way the
        # matchable set is small next to the table, and an exact scan returns
        # all of the true top k (min(k, matchable) rows) at the price of one
        # sequential scan, chosen on purpose rather than by the planner.
        return exact_nearest(conn, s, vector, k)
    return [(r[0], float(r[1])) for r in rows]


def _ann_settings(ef_search: int) -> dict[str, str]:
    """The planner and HNSW settings of an index scan (see `nearest`)."""
    return {
        "hnsw.ef_search": str(ef_search),
        "hnsw.iterative_scan": "relaxed_order",
        "enable_seqscan": "off",
        "plan_cache_mode": "force_custom_plan",
    }


def nearest_many(
    conn: psycopg.Connection,
    side: SideLike,
    vectors: Sequence[np.ndarray | Sequence[float]],
    k: int = 200,
    *,
    settings: Settings | None = None,
) -> list[list[tuple[UUID, float]]]:
    """`nearest` for many query vectors, answer n for vectors[n], in one statement.

    A bulk re-rank retrieves for a whole batch at once: one round trip and
    one set of local settings instead of one each per entity. The answers
    are `nearest`'s: the same live share, ef_search, iterative scan and
    planner settings, one HNSW index scan per vector (query
    `ann_nearest_many`), and the same exact scan for a vector whose index
    scan cannot fill k rows, or for all when `ann_ef_search` chooses one.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    if not vectors:
        return []
    s = side_of(side)
    settings = settings or get_settings()
    register_vector_type(conn)
    qs = [_as_vector(v) for v in vectors]
    ef_search = ann_ef_search(k, settings, index_live_share(conn, s))
    if ef_search is None:
        return [exact_nearest(conn, s, v, k) for v in vectors]
    with _local_settings(conn, _ann_settings(ef_search)):
        rows = conn.execute(
            query("ann_nearest_many").format(**s.identifiers()), {"qs": qs, "k": k}, prepare=False
        ).fetchall()
    found: list[list[tuple[UUID, float]]] = [[] for _ in qs]
    for position, row_id, similarity in rows:
        found[position - 1].append((row_id, float(similarity)))
    # as in `nearest`: an index scan that could not fill the list is answered exactly
    return [
        answer if len(answer) >= k else exact_nearest(conn, s, vectors[n], k)
        for n, answer in enumerate(found)
    ]


def similarities(
    conn: psycopg.Connection,
    side: SideLike,
    vectors: Sequence[np.ndarray | Sequence[float]],
    pairs: Sequence[tuple[int, UUID]],
) -> list[float | None]:
    """Similarity of each (n, id) pair: query vector `vectors[n]` and `side`'s
    stored embedding of `id` (None without one), in one statement.

    Computed by the database exactly as `nearest` and `nearest_many` compute
    it (query `similarities`), never in numpy: a float32 dot product differs
    from pgvector's in the last bits for most pairs, which made a pair's
    features depend on how it was found, so a job's rematch after its
    talents' saw every pair as changed and rewrote it.
    """
    if not pairs:
        return []
    s = side_of(side)
    register_vector_type(conn)
    rows = conn.execute(
        query("similarities").format(**s.identifiers()),
        {
            "pair_queries": [n + 1 for n, _ in pairs],
            "ids": [row_id for _, row_id in pairs],
            "qs": [_as_vector(v) for v in vectors],
        },
        prepare=False,
    ).fetchall()
    out: list[float | None] = [None] * len(pairs)
    for position, similarity in rows:
        out[position - 1] = float(similarity)
    return out


def exact_nearest(
    conn: psycopg.Connection, side: SideLike, vector: np.ndarray | Sequence[float], k: int = 200
) -> list[tuple[UUID, float]]:
    """Exact top-k (sequential scan): the ground truth recall is measured against."""
    if k < 1:
        raise ValueError("k must be at least 1")
    s = side_of(side)
    register_vector_type(conn)
    q = _as_vector(vector)
    # Pin the plan to a sequential scan: without this the planner answers
    # ORDER BY <=> LIMIT with the HNSW index, and a caller's enable_seqscan = off
    # (PG 18 then picks by cost among disabled paths) could bring it back.
    with _local_settings(
        conn, {"enable_indexscan": "off", "enable_bitmapscan": "off", "enable_seqscan": "on"}
    ):
        rows = conn.execute(
            query("exact_nearest").format(**s.identifiers()), {"q": q, "k": k}, prepare=False
        ).fetchall()
    return [(r[0], float(r[1])) for r in rows]


def vectors(
    conn: psycopg.Connection, side: SideLike, ids: Iterable[UUID]
) -> dict[UUID, np.ndarray]:
    """Stored vectors (float32, (384,)); ids without an embedding are absent."""
    s = side_of(side)
    register_vector_type(conn)
    # binary: vectors arrive as 4-byte floats, not as text to parse
    with conn.cursor(binary=True) as cur:
        cur.execute(query("embedding_vectors").format(**s.identifiers()), (list(ids),))
        return {row_id: vec.to_numpy() for row_id, vec in cur}


# -- compatibility ---------------------------------------------------------
# Callers outside the hot path (training, the trigger-coverage test) still use
# the per-side names; `vectors` and `texts` are the one implementation.


def talent_texts(conn: psycopg.Connection, ids: Iterable[UUID]) -> dict[UUID, str]:
    """`texts(conn, "talent", ids)`."""
    return texts(conn, "talent", ids)


def job_texts(conn: psycopg.Connection, ids: Iterable[UUID]) -> dict[UUID, str]:
    """`texts(conn, "job", ids)`."""
    return texts(conn, "job", ids)


def talent_vectors(conn: psycopg.Connection, ids: Iterable[UUID]) -> dict[UUID, np.ndarray]:
    """`vectors(conn, "talent", ids)`."""
    return vectors(conn, "talent", ids)


def job_vectors(conn: psycopg.Connection, ids: Iterable[UUID]) -> dict[UUID, np.ndarray]:
    """`vectors(conn, "job", ids)`."""
    return vectors(conn, "job", ids)

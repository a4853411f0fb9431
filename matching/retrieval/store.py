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
has open; the caller commits in that case. ANN and exact queries set their
planner/index settings with `set_config(..., true)` inside their own
`conn.transaction()` and put the caller's values back when nested, so nothing
leaks into the caller's session or transaction. `hnsw.iterative_scan` needs
pgvector >= 0.8 (older versions reject the unknown hnsw.* setting).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

import numpy as np
import psycopg
from pgvector import Vector
from pgvector.psycopg.vector import register_vector_info
from psycopg.types import TypeInfo

from matching.retrieval.embedder import (
    DIMENSIONS,
    MODEL_NAME,
    TextEmbedder,
    job_text,
    talent_text,
    text_sha256,
)
from matching.settings import Settings, get_settings

Kind = Literal["talent", "job"]
EmbeddingRow = tuple[UUID, np.ndarray, str, bool]
"""(id, unit vector of shape (384,), sha256 of the embedded text, matchable)."""

# pgvector caps hnsw.ef_search at 1000; beyond it the iterative scan supplies the rest.
EF_SEARCH_MAX = 1000
# Rows embedded and written per round trip of `ensure_embeddings`.
ENSURE_CHUNK = 256


@dataclass(frozen=True)
class _Table:
    kind: Kind
    table: str
    index: str
    id_column: str
    source_sql: str
    matchable_sql: str


_TALENT_SOURCE_SQL = """
    select t.id, t.headline, t.experience_level::text, t.bio, t.open_to_work,
           coalesce(
             (select array_agg(s.name order by lower(s.name), s.name)
              from public.talent_skills ts
              join public.skills s on s.id = ts.skill_id
              where ts.talent_id = t.id),
             '{}'::text[]
           ),
           null::text
    from public.talents t
    where t.id = any(%s::uuid[])
"""

_JOB_SOURCE_SQL = """
    select j.id, j.title, j.experience_level::text, j.description, j.status = 'open',
           coalesce(
             (select array_agg(s.name order by lower(s.name), s.name)
              from public.job_skills js
              join public.skills s on s.id = js.skill_id
              where js.job_id = j.id),
             '{}'::text[]
           ),
           c.name
    from public.jobs j
    join public.companies c on c.id = j.company_id
    where j.id = any(%s::uuid[])
"""

_TABLES: dict[Kind, _Table] = {
    "talent": _Table(
        "talent",
        "matching.talent_embeddings",
        "matching.talent_embeddings_hnsw_idx",
        "talent_id",
        _TALENT_SOURCE_SQL,
        "select t.id, t.open_to_work from public.talents t where t.id = any(%s::uuid[])",
    ),
    "job": _Table(
        "job",
        "matching.job_embeddings",
        "matching.job_embeddings_hnsw_idx",
        "job_id",
        _JOB_SOURCE_SQL,
        "select j.id, j.status = 'open' from public.jobs j where j.id = any(%s::uuid[])",
    ),
}


def _table(kind: Kind) -> _Table:
    try:
        return _TABLES[kind]
    except KeyError:
        raise ValueError(f"kind must be 'talent' or 'job', got {kind!r}") from None


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


def _source_rows(
    conn: psycopg.Connection, kind: Kind, ids: Iterable[UUID]
) -> dict[UUID, tuple[str, bool]]:
    """id -> (embedding text, matchable now), one query; ids that do not exist are absent."""
    table = _table(kind)
    out: dict[UUID, tuple[str, bool]] = {}
    for row_id, head, level, body, matchable, skills, company in conn.execute(
        table.source_sql, (list(ids),)
    ):
        if kind == "talent":
            text = talent_text(head, level, skills, body)
        else:
            text = job_text(head, level, skills, body, company)
        out[row_id] = (text, bool(matchable))
    return out


def talent_texts(conn: psycopg.Connection, ids: Iterable[UUID]) -> dict[UUID, str]:
    """The embedding text of each talent (headline, level, skills, bio), in one query.

    Skills are aggregated in SQL; the template is `matching.embedding.talent_text`.
    Unknown ids are left out.
    """
    return {k: text for k, (text, _) in _source_rows(conn, "talent", ids).items()}


def job_texts(conn: psycopg.Connection, ids: Iterable[UUID]) -> dict[UUID, str]:
    """The embedding text of each job (title at company, level, skills, description)."""
    return {k: text for k, (text, _) in _source_rows(conn, "job", ids).items()}


# -- staleness -------------------------------------------------------------


def _stale(
    conn: psycopg.Connection, kind: Kind, ids: Iterable[UUID], texts: Mapping[UUID, str]
) -> list[UUID]:
    table = _table(kind)
    wanted = [i for i in dict.fromkeys(ids) if i in texts]
    if not wanted:
        return []
    shas = [text_sha256(texts[i]) for i in wanted]
    rows = conn.execute(
        f"""
        select c.id
        from unnest(%s::uuid[], %s::text[]) with ordinality as c (id, sha, ord)
        left join {table.table} e on e.{table.id_column} = c.id
        where e.{table.id_column} is null
           or e.model_name <> %s
           or e.text_sha256 <> c.sha
        order by c.ord
        """,
        (wanted, shas, MODEL_NAME),
    ).fetchall()
    return [r[0] for r in rows]


def stale_talents(
    conn: psycopg.Connection, ids: Iterable[UUID], texts: Mapping[UUID, str]
) -> list[UUID]:
    """Talents (of `ids`, in that order) whose embedding is missing or out of date.

    Out of date = stored model_name is not MODEL_NAME or stored text_sha256 is
    not the sha256 of `texts[id]` (the current text). Ids without a text
    (deleted talents) are skipped. Callers re-embed only these.
    """
    return _stale(conn, "talent", ids, texts)


def stale_jobs(
    conn: psycopg.Connection, ids: Iterable[UUID], texts: Mapping[UUID, str]
) -> list[UUID]:
    """Jobs whose embedding is missing or out of date; see `stale_talents`."""
    return _stale(conn, "job", ids, texts)


# -- writes ----------------------------------------------------------------


def _upsert(conn: psycopg.Connection, kind: Kind, rows: Iterable[EmbeddingRow]) -> int:
    table = _table(kind)
    register_vector_type(conn)
    params = []
    for row_id, vector, sha, matchable in rows:
        if not isinstance(sha, str) or len(sha) != 64:
            raise ValueError(f"text_sha256 must be 64 hex characters, got {sha!r}")
        params.append((row_id, _as_vector(vector), MODEL_NAME, sha, bool(matchable)))
    if not params:
        return 0
    query = f"""
        insert into {table.table}
            ({table.id_column}, embedding, model_name, text_sha256, matchable, embedded_at)
        values (%s, %s, %s, %s, %s, now())
        on conflict ({table.id_column}) do update
        set embedding = excluded.embedding,
            model_name = excluded.model_name,
            text_sha256 = excluded.text_sha256,
            matchable = excluded.matchable,
            embedded_at = excluded.embedded_at
    """
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(query, params)
    return len(params)


def upsert_talent_embeddings(conn: psycopg.Connection, rows: Iterable[EmbeddingRow]) -> int:
    """Insert or replace talent embeddings (model_name = MODEL_NAME); returns rows written."""
    return _upsert(conn, "talent", rows)


def upsert_job_embeddings(conn: psycopg.Connection, rows: Iterable[EmbeddingRow]) -> int:
    """Insert or replace job embeddings (model_name = MODEL_NAME); returns rows written."""
    return _upsert(conn, "job", rows)


def _set_matchable(
    conn: psycopg.Connection, kind: Kind, ids: Iterable[UUID], matchable: bool
) -> int:
    table = _table(kind)
    with conn.transaction():
        cur = conn.execute(
            f"update {table.table} set matchable = %s"
            f" where {table.id_column} = any(%s::uuid[]) and matchable <> %s",
            (matchable, list(ids), matchable),
        )
    return cur.rowcount


def set_talent_matchable(conn: psycopg.Connection, ids: Iterable[UUID], matchable: bool) -> int:
    """Put talents in (or take them out of) the ANN index; returns rows changed.

    The HNSW index is partial (`where matchable`), so a talent no longer open
    to work is not searched without deleting its vector.
    """
    return _set_matchable(conn, "talent", ids, matchable)


def set_job_matchable(conn: psycopg.Connection, ids: Iterable[UUID], matchable: bool) -> int:
    """Put jobs in (or take them out of) the ANN index; returns rows changed."""
    return _set_matchable(conn, "job", ids, matchable)


def sync_matchable(conn: psycopg.Connection, kind: Kind, ids: Iterable[UUID]) -> int:
    """Make `matchable` equal open_to_work / status = 'open' for `ids`; returns rows changed."""
    table = _table(kind)
    source = "public.talents s" if kind == "talent" else "public.jobs s"
    flag = "s.open_to_work" if kind == "talent" else "(s.status = 'open')"
    with conn.transaction():
        cur = conn.execute(
            f"""
            update {table.table} e set matchable = {flag}
            from {source}
            where s.id = e.{table.id_column}
              and e.{table.id_column} = any(%s::uuid[])
              and e.matchable is distinct from {flag}
            """,
            (list(ids),),
        )
    return cur.rowcount


def ensure_embeddings(
    conn: psycopg.Connection,
    embedder: TextEmbedder,
    kind: Kind,
    ids: Iterable[UUID],
    *,
    chunk_size: int = ENSURE_CHUNK,
) -> int:
    """Bring the embeddings of `ids` up to date; returns how many were (re)embedded.

    Texts are built from the database, compared with the stored fingerprints,
    and only stale ones are embedded (in chunks of `chunk_size`, each written
    in its own `conn.transaction()`, so an autocommit connection keeps the
    progress of a long run). `matchable` is set from open_to_work /
    status = 'open' for re-embedded rows and kept in sync for the others.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    ids = list(dict.fromkeys(ids))
    if not ids:
        return 0
    source = _source_rows(conn, kind, ids)
    texts = {k: text for k, (text, _) in source.items()}
    stale = _stale(conn, kind, ids, texts)
    for start in range(0, len(stale), chunk_size):
        chunk = stale[start : start + chunk_size]
        chunk_texts = [texts[i] for i in chunk]
        vectors = embedder.embed(chunk_texts)
        _upsert(
            conn,
            kind,
            (
                (i, vectors[n], text_sha256(chunk_texts[n]), source[i][1])
                for n, i in enumerate(chunk)
            ),
        )
    fresh = set(stale)
    sync_matchable(conn, kind, [i for i in ids if i in texts and i not in fresh])
    return len(stale)


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
        # one round trip: the select list is evaluated left to right
        row = conn.execute(
            "select "
            + ", ".join(["current_setting(%s, true)"] * len(names))
            + ", "
            + ", ".join(["set_config(%s, %s, true)"] * len(names)),
            [*names, *(v for name in names for v in (name, settings[name]))],
        ).fetchone()
        yield
        if nested and row is not None:
            # a setting unknown before (library not loaded yet) has nothing to go back to
            restore = [(n, old) for n, old in zip(names, row, strict=False) if old is not None]
            if restore:
                conn.execute(
                    "select " + ", ".join(["set_config(%s, %s, true)"] * len(restore)),
                    [v for pair in restore for v in pair],
                )


def index_live_share(conn: psycopg.Connection, kind: Kind) -> float:
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
    table = _table(kind)
    row = conn.execute(
        """
        select c.reltuples, coalesce(s.n_dead_tup, 0)
        from pg_catalog.pg_class c
        left join pg_catalog.pg_stat_user_tables s on s.relid = %s::regclass
        where c.oid = %s::regclass
        """,
        (table.table, table.index),
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


def _ann(
    conn: psycopg.Connection,
    kind: Kind,
    vector: np.ndarray | Sequence[float],
    k: int,
    settings: Settings | None,
) -> list[tuple[UUID, float]]:
    if k < 1:
        raise ValueError("k must be at least 1")
    table = _table(kind)
    settings = settings or get_settings()
    register_vector_type(conn)
    query = _as_vector(vector)
    ef_search = ann_ef_search(k, settings, index_live_share(conn, kind))
    if ef_search is None:
        return _exact(conn, kind, vector, k)
    # enable_seqscan off: with most rows out of the market the planner prices the
    # partial index above a seq scan over the whole table, which measured 4x slower.
    # force_custom_plan + prepare=False: a long-lived connection must not answer
    # from a cached generic plan built under other planner settings.
    with _local_settings(
        conn,
        {
            "hnsw.ef_search": str(ef_search),
            "hnsw.iterative_scan": "relaxed_order",
            "enable_seqscan": "off",
            "plan_cache_mode": "force_custom_plan",
        },
    ):
        # relaxed_order may return rows slightly out of order: sort again outside.
        # `materialized` keeps the index scan + LIMIT inside; `+ 0` stops PG 17+
        # from pushing the outer ORDER BY back into it (pgvector's documented form).
        rows = conn.execute(
            f"""
            with ann as materialized (
                select {table.id_column} as id,
                       embedding operator(extensions.<=>) %(q)s as distance
                from {table.table}
                where matchable
                order by embedding operator(extensions.<=>) %(q)s
                limit %(k)s
            )
            select id, 1 - distance from ann order by distance + 0, id
            """,
            {"q": query, "k": k},
            prepare=False,
        ).fetchall()
    if len(rows) < k:
        # The index could not fill the list: fewer than k rows are matchable, or
        # the iterative scan stopped at hnsw.max_scan_tuples in a graph full of
        # entries that left the market (before VACUUM). Either way the
        # matchable set is small next to the table, and an exact scan returns
        # all of the true top k (min(k, matchable) rows) at the price of one
        # sequential scan, chosen on purpose rather than by the planner.
        return _exact(conn, kind, vector, k)
    return [(r[0], float(r[1])) for r in rows]


def _exact(
    conn: psycopg.Connection, kind: Kind, vector: np.ndarray | Sequence[float], k: int
) -> list[tuple[UUID, float]]:
    if k < 1:
        raise ValueError("k must be at least 1")
    table = _table(kind)
    register_vector_type(conn)
    query = _as_vector(vector)
    # Pin the plan to a sequential scan: without this the planner answers
    # ORDER BY <=> LIMIT with the HNSW index, and a caller's enable_seqscan = off
    # (PG 18 then picks by cost among disabled paths) could bring it back.
    with _local_settings(
        conn, {"enable_indexscan": "off", "enable_bitmapscan": "off", "enable_seqscan": "on"}
    ):
        rows = conn.execute(
            f"""
            select {table.id_column}, 1 - (embedding operator(extensions.<=>) %(q)s)
            from {table.table}
            where matchable
            order by embedding operator(extensions.<=>) %(q)s, {table.id_column}
            limit %(k)s
            """,
            {"q": query, "k": k},
            prepare=False,
        ).fetchall()
    return [(r[0], float(r[1])) for r in rows]


def nearest_jobs(
    conn: psycopg.Connection,
    vector: np.ndarray | Sequence[float],
    k: int = 200,
    *,
    settings: Settings | None = None,
) -> list[tuple[UUID, float]]:
    """The k matchable jobs closest to `vector`: (job id, cosine similarity), best first.

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
    return _ann(conn, "job", vector, k, settings)


def nearest_talents(
    conn: psycopg.Connection,
    vector: np.ndarray | Sequence[float],
    k: int = 200,
    *,
    settings: Settings | None = None,
) -> list[tuple[UUID, float]]:
    """The k matchable talents closest to `vector`; see `nearest_jobs`."""
    return _ann(conn, "talent", vector, k, settings)


def exact_nearest_jobs(
    conn: psycopg.Connection, vector: np.ndarray | Sequence[float], k: int = 200
) -> list[tuple[UUID, float]]:
    """Exact top-k (sequential scan): the ground truth recall is measured against."""
    return _exact(conn, "job", vector, k)


def exact_nearest_talents(
    conn: psycopg.Connection, vector: np.ndarray | Sequence[float], k: int = 200
) -> list[tuple[UUID, float]]:
    """Exact top-k talents (sequential scan)."""
    return _exact(conn, "talent", vector, k)


def _vectors(conn: psycopg.Connection, kind: Kind, ids: Iterable[UUID]) -> dict[UUID, np.ndarray]:
    table = _table(kind)
    register_vector_type(conn)
    # binary: vectors arrive as 4-byte floats, not as text to parse
    with conn.cursor(binary=True) as cur:
        cur.execute(
            f"select {table.id_column}, embedding from {table.table}"
            f" where {table.id_column} = any(%s::uuid[])",
            (list(ids),),
        )
        return {row_id: vec.to_numpy() for row_id, vec in cur}


def job_vectors(conn: psycopg.Connection, ids: Iterable[UUID]) -> dict[UUID, np.ndarray]:
    """Stored job vectors (float32, (384,)); ids without an embedding are absent."""
    return _vectors(conn, "job", ids)


def talent_vectors(conn: psycopg.Connection, ids: Iterable[UUID]) -> dict[UUID, np.ndarray]:
    """Stored talent vectors (float32, (384,)); ids without an embedding are absent."""
    return _vectors(conn, "talent", ids)

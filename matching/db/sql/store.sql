-- Queries of matching/retrieval/store.py: embedding texts, stored vectors,
-- nearest neighbours. Per-side identifiers ({embeddings}, {id_column},
-- {entities}, {in_market}) come from matching.side.Side.identifiers().

-- name: talent_text_parts
-- What a talent's embedding text is built from (matching.side.TextParts),
-- skills sorted as the text template sorts them; unknown ids are absent.
select t.id,
       t.headline as head,
       t.experience_level::text as level,
       t.bio as body,
       t.open_to_work as in_market,
       coalesce(
         (select array_agg(s.name order by lower(s.name), s.name)
          from public.talent_skills ts
          join public.skills s on s.id = ts.skill_id
          where ts.talent_id = t.id),
         array[]::text[]
       ) as skills,
       null::text as company
from public.talents t
where t.id = any(%b::uuid[])

-- name: job_text_parts
-- What a job's embedding text is built from: title, level, skills,
-- description and its company's name.
select j.id,
       j.title as head,
       j.experience_level::text as level,
       j.description as body,
       j.status = 'open' as in_market,
       coalesce(
         (select array_agg(s.name order by lower(s.name), s.name)
          from public.job_skills js
          join public.skills s on s.id = js.skill_id
          where js.job_id = j.id),
         array[]::text[]
       ) as skills,
       c.name as company
from public.jobs j
join public.companies c on c.id = j.company_id
where j.id = any(%b::uuid[])

-- name: stale_embeddings
-- The ids (in the order given) whose stored embedding is missing, from
-- another model, or of another text than the sha256 given with the id.
select c.id
from unnest(%(ids)b::uuid[], %(shas)b::text[]) with ordinality as c (id, sha, ord)
left join {embeddings} e on e.{id_column} = c.id
where e.{id_column} is null
   or e.model_name <> %(model)s
   or e.text_sha256 <> c.sha
order by c.ord

-- name: embedding_state
-- The stale test of stale_embeddings for every id given, plus what a
-- rematch needs of the fresh ones: the stored vector (so it is not read
-- again) and the stored matchable flag (so it is synced only when it differs).
select c.id,
       (e.{id_column} is null
        or e.model_name <> %(model)s
        or e.text_sha256 <> c.sha) is true as stale,
       e.embedding,
       e.matchable
from unnest(%(ids)b::uuid[], %(shas)b::text[]) with ordinality as c (id, sha, ord)
left join {embeddings} e on e.{id_column} = c.id
order by c.ord

-- name: upsert_embedding
-- One embedding in, replacing the stored one (executemany: one row each).
insert into {embeddings}
    ({id_column}, embedding, model_name, text_sha256, matchable, embedded_at)
values (%s, %s, %s, %s, %s, now())
on conflict ({id_column}) do update
set embedding = excluded.embedding,
    model_name = excluded.model_name,
    text_sha256 = excluded.text_sha256,
    matchable = excluded.matchable,
    embedded_at = excluded.embedded_at

-- name: set_matchable
-- Put entities in (or take them out of) the partial HNSW index.
update {embeddings} set matchable = %(matchable)s
where {id_column} = any(%(ids)b::uuid[]) and matchable <> %(matchable)s

-- name: sync_matchable
-- matchable = the side's market predicate, for the ids given.
update {embeddings} e set matchable = {in_market}
from {entities} s
where s.id = e.{id_column}
  and e.{id_column} = any(%b::uuid[])
  and e.matchable is distinct from {in_market}

-- name: index_live_share
-- Live entries of a partial HNSW index (reltuples) and the dead row
-- versions of its table, from the statistics autovacuum keeps.
select c.reltuples, coalesce(s.n_dead_tup, 0)
from pg_catalog.pg_class c
left join pg_catalog.pg_stat_user_tables s on s.relid = %(table)s::regclass
where c.oid = %(index)s::regclass

-- name: local_settings_set
-- Transaction-local settings: each row reads the previous value, then sets
-- the new one (a row's select list is evaluated left to right).
select s.name, pg_catalog.current_setting(s.name, true) as previous,
       pg_catalog.set_config(s.name, s.value, true)
from unnest(%s::text[], %s::text[]) as s (name, value)

-- name: local_settings_restore
-- Put back the values local_settings_set read (nested transactions only).
select pg_catalog.set_config(s.name, s.value, true)
from unnest(%s::text[], %s::text[]) as s (name, value)

-- name: ann_nearest
-- The k matchable rows nearest to the query vector through the HNSW index.
-- relaxed_order may return rows slightly out of order: sorted again outside.
-- `materialized` keeps the index scan + LIMIT inside; `+ 0` stops PG 17+
-- from pushing the outer ORDER BY back into it (pgvector's documented form).
with ann as materialized (
    select {id_column} as id,
           embedding operator(extensions.<=>) %(q)s as distance
    from {embeddings}
    where matchable
    order by embedding operator(extensions.<=>) %(q)s
    limit %(k)s
)
select id, 1 - distance from ann order by distance + 0, id

-- name: ann_nearest_many
-- ann_nearest for many query vectors in one statement: one HNSW index scan
-- per vector (a LATERAL subquery with its own ORDER BY ... LIMIT cannot be
-- flattened, so each scan keeps its limit, as the materialized CTE does for
-- one vector). Rows come back by query position (1-based), then as
-- ann_nearest orders them; `+ 0` keeps the ORDER BY out of the scans.
select q.ord, a.id, 1 - a.distance
from unnest(%(qs)s::extensions.vector[]) with ordinality as q (v, ord)
cross join lateral (
    select {id_column} as id,
           embedding operator(extensions.<=>) q.v as distance
    from {embeddings}
    where matchable
    order by embedding operator(extensions.<=>) q.v
    limit %(k)s
) a
order by q.ord, a.distance + 0, a.id

-- name: similarities
-- Text similarity of (query vector, counterpart) pairs, written as the ANN
-- queries write it (1 - the <=> of the stored embedding and the query
-- vector), so a pair has one similarity whether retrieval found it or it
-- was stored, and whichever side scored it: a stored pair rescored from the
-- other side then has the very same features. Each pair names its query
-- vector by position (1-based); counterparts without an embedding are absent.
select p.ord, 1 - (e.embedding operator(extensions.<=>) q.v)
from unnest(%(pair_queries)s::int[], %(ids)s::uuid[]) with ordinality as p (n, id, ord)
join unnest(%(qs)s::extensions.vector[]) with ordinality as q (v, n) on q.n = p.n
join {embeddings} e on e.{id_column} = p.id

-- name: exact_nearest
-- The true k nearest matchable rows (the caller pins a sequential scan).
select {id_column}, 1 - (embedding operator(extensions.<=>) %(q)s)
from {embeddings}
where matchable
order by embedding operator(extensions.<=>) %(q)s, {id_column}
limit %(k)s

-- name: embedding_vectors
-- Stored vectors by id (read with a binary cursor).
select {id_column}, embedding from {embeddings}
where {id_column} = any(%b::uuid[])

-- Queries of matching/pipeline/ (ranking, loaders, reconcile). Per-side
-- identifiers ({id_column}, {other_column}, {marks}, {entities},
-- {in_market}, {counterparts}, {counterpart_in_market}) come from
-- matching.side.Side.identifiers().

-- name: talent_state
-- Whether the talent is in the market, and the data version a rematch
-- reads (its updated_at): what the rematch marks record.
select s.open_to_work as in_market, s.updated_at as version
from public.talents s
where s.id = %s

-- name: job_state
-- Whether the job is in the market, and its data version: the later of
-- the job's and its company's updated_at (the company is in its features).
select s.status = 'open' as in_market, greatest(s.updated_at, c.updated_at) as version
from public.jobs s
join public.companies c on c.id = s.company_id
where s.id = %s

-- name: talent_states
-- talent_state for many talents at once (a bulk re-rank reads a batch in
-- one query); unknown ids are absent.
select s.id, s.open_to_work as in_market, s.updated_at as version
from public.talents s
where s.id = any(%b::uuid[])

-- name: job_states
-- job_state for many jobs at once; unknown ids are absent.
select s.id, s.status = 'open' as in_market, greatest(s.updated_at, c.updated_at) as version
from public.jobs s
join public.companies c on c.id = s.company_id
where s.id = any(%b::uuid[])

-- name: talent_state_locked
-- talent_state inside a bulk re-rank's write transaction, share-locking the
-- row until it commits: an edit committing meanwhile waits for the write
-- (and its own rematch job then runs after it), and an edit committed since
-- the batch read the talent shows as a newer version (the write is skipped).
select s.open_to_work as in_market, s.updated_at as version
from public.talents s
where s.id = %s
for share of s

-- name: job_state_locked
-- job_state, share-locking the job and its company (both are the version).
select s.status = 'open' as in_market, greatest(s.updated_at, c.updated_at) as version
from public.jobs s
join public.companies c on c.id = s.company_id
where s.id = %s
for share of s, c

-- name: stored_counterparts
-- The counterparts the entity has a stored match with.
select {other_column} from public.matches where {id_column} = %s

-- name: stored_pairs_of
-- The stored pairs of many entities at once, with the model and the feature
-- vector each was scored with (a bulk re-rank leaves a pair whose model and
-- features are unchanged as it is): (entity, counterpart, model, features).
-- A model row written before contributions had their own column has no
-- features here, so it is rewritten in today's form rather than left as is.
select {id_column}, {other_column}, model_version,
       case when source = 'ml' and contributions is null then null else features end
from public.matches where {id_column} = any(%b::uuid[])

-- name: in_market_of
-- Which of the ids given are in the market (any order; the caller keeps its own).
select s.id from {entities} s where s.id = any(%b::uuid[]) and {in_market}

-- name: rematch_mark
-- Record the data version a rematch read (inside its write transaction).
insert into {marks}
  ({id_column}, source_updated_at, outcome, error, marked_at)
values (%s, %s, %s, %s, now())
on conflict ({id_column}) do update set
  source_updated_at = excluded.source_updated_at, outcome = excluded.outcome,
  error = excluded.error, marked_at = excluded.marked_at

-- name: delete_entity_matches
-- Every stored pair of an entity that left the market.
delete from public.matches where {id_column} = %s

-- name: commit_without_flush
-- A bulk write whose caller commits durably afterwards and redoes the work
-- if that commit is lost (matching.pipeline.batch, `flushed_later`): this
-- transaction's COMMIT does not wait for the WAL flush.
select pg_catalog.set_config('synchronous_commit', 'off', true)

-- name: flush_commits
-- Ends a bulk re-rank whose writes committed without the flush (see
-- commit_without_flush): committed synchronously on the same connection, a
-- transaction that writes WAL flushes every earlier commit of that server,
-- and if the server restarted since, this fails and the batch is redone. It
-- rewrites the written entities' rematch marks as they are: a transaction
-- that writes nothing commits without a flush.
update {marks} set marked_at = marked_at where {id_column} = any(%s)

-- name: upsert_matches
-- An entity's stored pairs, one array element per pair, in one statement
-- (one plan and one executor run instead of one per pair); a pair has one
-- row whichever side wrote it. Explanations arrive as JSON text in UTF-8
-- bytes (bytea arrays travel in binary, where a text array would be escaped
-- quote by quote on the client). Feature vectors and contributions arrive as
-- one flat real[] each, %(width)s values per pair in pair order
-- (matching.db.float4.Float4Rows): pair n (1-based) is the slice
-- [(n - 1) * width + 1, n * width]. A pair without contributions (fallback
-- scores) has a placeholder slice and stores null.
insert into public.matches (talent_id, job_id, score, source, model_version,
                            explanation, features, contributions, similarity, computed_at)
select r.talent_id, r.job_id, r.score, r.source::public.match_source, r.model_version,
       pg_catalog.convert_from(r.explanation, 'UTF8')::jsonb,
       (%(features)b::real[])[(r.n - 1) * %(width)s + 1 : r.n * %(width)s],
       case when r.has_contributions
         then (%(contributions)b::real[])[(r.n - 1) * %(width)s + 1 : r.n * %(width)s]
       end,
       r.similarity, now()
from unnest(%(talent_ids)b::uuid[], %(job_ids)b::uuid[], %(scores)b::real[],
            %(sources)b::text[], %(versions)b::text[], %(explanations)b::bytea[],
            %(has_contributions)b::boolean[], %(similarities)b::real[])
  with ordinality
  as r (talent_id, job_id, score, source, model_version, explanation, has_contributions,
        similarity, n)
on conflict (talent_id, job_id) do update set
  score = excluded.score, source = excluded.source,
  model_version = excluded.model_version, explanation = excluded.explanation,
  features = excluded.features, contributions = excluded.contributions,
  similarity = excluded.similarity, computed_at = excluded.computed_at

-- name: prune_own
-- Bounded lists (see matching/pipeline/ranking.py): the entity's rows below
-- its own top n that are not in their counterpart's top n either. A pair o
-- ranks above m on (score, similarity, -tiebreak), the order reads serve.
delete from public.matches m
using (
  -- the entity's rows below its own top n, ranked in one index scan
  select l.talent_id, l.job_id
  from public.matches l
  where l.{id_column} = %(entity)s
  order by l.score desc, l.similarity desc nulls last, l.tiebreak
  offset %(n)s
) low
where m.talent_id = low.talent_id and m.job_id = low.job_id
  and (select count(*) from public.matches o
       where o.{other_column} = m.{other_column}
         and (o.score, coalesce(o.similarity, -2), -o.tiebreak)
             > (m.score, coalesce(m.similarity, -2), -m.tiebreak)) >= %(n)s

-- name: prune_pushed
-- In each counterpart's list, the row this write pushed from rank n to
-- n + 1, when it is not in the entity's own top n either.
delete from public.matches m
using (
  select x.talent_id, x.job_id
  from unnest(%(others)b::uuid[]) c (id)
  cross join lateral (
    select l.talent_id, l.job_id from public.matches l
    where l.{other_column} = c.id
    order by l.score desc, l.similarity desc nulls last, l.tiebreak
    offset %(n)s limit 1
  ) x
) pushed
where m.talent_id = pushed.talent_id and m.job_id = pushed.job_id
  and (select count(*) from public.matches o
       where o.{id_column} = m.{id_column}
         and (o.score, coalesce(o.similarity, -2), -o.tiebreak)
             > (m.score, coalesce(m.similarity, -2), -m.tiebreak)) >= %(n)s

-- name: delete_left_market
-- The entity's pairs whose counterpart left the market.
delete from public.matches m using {counterparts} c
where m.{id_column} = %s and c.id = m.{other_column} and not {counterpart_in_market}

-- name: fallback_scores
-- Rule-based scores (no model active) with the reasons
-- matching.fallback_explanation gives, the same the read functions serve.
select f.talent_id, f.job_id, f.score, f.skills_score, f.experience_score,
       f.location_score, f.salary_score, f.culture_score, f.semantic_score,
       f.failed_constraints, e.top_reasons
from matching.fallback_score_pairs(%b::uuid[], %b::uuid[]) f
cross join lateral matching.fallback_explanation(f.score, f.skills_score,
  f.experience_score, f.location_score, f.salary_score, f.culture_score,
  f.semantic_score, f.failed_constraints, f.unscored) e

-- name: fx_rates
-- Units per USD by currency.
select currency, units_per_usd from matching.fx_rates

-- name: talent_frame
-- Talents in the order of the ids given; enum ordinals and bitmasks are
-- computed here (Postgres knows the enum order). Each enum_range is a
-- scalar subquery, so it runs once per statement (an InitPlan) instead of
-- once per row and element: a bulk re-rank loads thousands of rows per batch
-- (2,000 talents: 84 -> 27 ms).
select t.id,
       array_position((select enum_range(null::public.experience_level)), t.experience_level)
         - 1 as level,
       t.years_experience::float8 as years,
       t.latitude as lat,
       t.longitude as lon,
       t.timezone,
       array_position((select enum_range(null::public.remote_preference)), t.remote_preference)
         - 1 as remote_preference,
       t.salary_min, t.salary_max, t.salary_currency,
       (select coalesce(bit_or(1::bigint
                  << (array_position((select enum_range(null::public.industry)), x) - 1)), 0)
        from unnest(t.preferred_industries) x) as preferred_industries,
       (select coalesce(bit_or(1::bigint
                  << (array_position((select enum_range(null::public.company_size)), x) - 1)), 0)
        from unnest(t.preferred_company_sizes) x) as preferred_sizes,
       (select coalesce(bit_or(1::bigint
                  << (array_position((select enum_range(null::public.work_style)), x) - 1)), 0)
        from unnest(t.work_styles) x) as work_styles
from unnest(%b::uuid[]) with ordinality as i (id, ord)
join public.talents t on t.id = i.id
order by i.ord

-- name: talent_skill_rows
-- Talent skills as CSR rows: owner position (0-based), skill, a = proficiency,
-- b = years (matching.features.extraction.SkillMatrix).
select i.ord - 1 as owner, ts.skill_id, ts.proficiency::float8 as a, ts.years::float8 as b
from unnest(%b::uuid[]) with ordinality as i (id, ord)
join public.talent_skills ts on ts.talent_id = i.id
order by i.ord, ts.skill_id

-- name: job_frame
-- Jobs (with their company's culture fields) in the order of the ids given;
-- enum_range once per statement, as in talent_frame.
select j.id,
       array_position((select enum_range(null::public.experience_level)), j.experience_level)
         - 1 as level,
       j.min_years::float8 as min_years,
       j.max_years::float8 as max_years,
       j.latitude as lat,
       j.longitude as lon,
       j.timezone,
       array_position((select enum_range(null::public.remote_policy)), j.remote_policy)
         - 1 as remote_policy,
       j.salary_min, j.salary_max, j.salary_currency,
       array_position((select enum_range(null::public.industry)), c.industry) - 1 as industry,
       array_position((select enum_range(null::public.company_size)), c.size) - 1 as company_size,
       (select coalesce(bit_or(1::bigint
                  << (array_position((select enum_range(null::public.work_style)), x) - 1)), 0)
        from unnest(c.work_styles) x) as work_styles
from unnest(%b::uuid[]) with ordinality as i (id, ord)
join public.jobs j on j.id = i.id
join public.companies c on c.id = j.company_id
order by i.ord

-- name: job_skill_rows
-- Job skills as CSR rows: owner position (0-based), skill, a = minimum
-- proficiency, b = required (1.0) or not.
select i.ord - 1 as owner, js.skill_id, js.min_proficiency::float8 as a,
       case when js.required then 1.0 else 0.0 end as b
from unnest(%b::uuid[]) with ordinality as i (id, ord)
join public.job_skills js on js.job_id = i.id
order by i.ord, js.skill_id

-- name: reconcile_try_lock
-- One reconciliation pass at a time across all workers (session lock).
select pg_try_advisory_lock(%s)

-- name: reconcile_unlock
select pg_advisory_unlock(%s)

-- name: reconcile_batch
-- One keyset batch: enqueue the stale entities, return the next cursor.
select next_after, stale, queued from matching.reconcile_batch(%s, %s, %s)

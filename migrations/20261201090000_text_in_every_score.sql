-- Text in every score, ties never broken by id, bounded and re-ranked lists.
--
-- * matching.fallback_score_pairs gains a text term: the cosine similarity of
--   the two stored embeddings, as a `semantic` sub-score weighing 0.20 (the
--   other weights shrink to make room), neutral (50) when an embedding is
--   missing. It also returns the raw similarity (for ordering ties) and the
--   categories that have no data behind them (`unscored`), which no reason
--   may cite. matching/scoring/fallback.py mirrors it; tests/test_fallback_parity.py
--   binds the two.
-- * Ties: every list is ordered by score, then text similarity, then a
--   stable hash of the pair (matching.pair_tiebreak), never by id, so no
--   talent or job is favoured for its uuid. matches stores both.
-- * activate_model (and so rollback_model) re-ranks the market.
-- The functions keep their names; the ones whose result shape changed are
-- dropped and recreated with their grants.

-- A stable, uniformly spread order for pairs that tie on score and text:
-- the first 64 bits of md5(talent_id || job_id), as a signed bigint.
-- matching/pipeline/ranking.py computes the same value (tests bind the two).
create function matching.pair_tiebreak(p_talent_id uuid, p_job_id uuid)
returns bigint
language sql
immutable
parallel safe
-- no `set search_path`: the body names pg_catalog objects only, and the
-- planner inlines it into the ordering of the read functions
as $$
  select ('x' || pg_catalog.left(pg_catalog.md5(p_talent_id::text || p_job_id::text), 16))::bit(64)::bigint
$$;
revoke all on function matching.pair_tiebreak(uuid, uuid) from public;
grant execute on function matching.pair_tiebreak(uuid, uuid) to service_role;

-- What orders a list after the score: the text similarity the score used
-- (null when an embedding was missing) and the pair's stable hash.
alter table public.matches
  add column similarity real
    constraint matches_similarity_range check (similarity between -1 and 1),
  add column tiebreak bigint not null
    generated always as (matching.pair_tiebreak(talent_id, job_id)) stored;
comment on column public.matches.similarity is
  'Cosine similarity of the talent''s and the job''s text embeddings; orders ties of score.';
comment on column public.matches.tiebreak is
  'Stable hash of the pair (matching.pair_tiebreak); orders ties of score and similarity.';

-- The read functions' order, served straight from the index.
drop index public.matches_talent_score_idx;
drop index public.matches_job_score_idx;
create index matches_talent_rank_idx
  on public.matches (talent_id, score desc, similarity desc nulls last, tiebreak);
create index matches_job_rank_idx
  on public.matches (job_id, score desc, similarity desc nulls last, tiebreak);

-- ============================================================ fallback scorer

drop function matching.fallback_scores_for_talent(uuid, integer);
drop function matching.fallback_scores_for_job(uuid, integer);
drop function matching.fallback_score(uuid, uuid);
drop function matching.fallback_score_pairs(uuid[], uuid[]);
drop function matching.fallback_explanation(double precision, double precision,
  double precision, double precision, double precision, double precision, text[]);

-- Scores pairs (p_talent_ids[i], p_job_ids[i]). One row per pair whose
-- talent and job exist, in input order. Errors: MT001 null argument,
-- MT002 arrays of different lengths, MT003 more than 100,000 pairs.
create function matching.fallback_score_pairs(p_talent_ids uuid[], p_job_ids uuid[])
returns table (
  talent_id uuid,
  job_id uuid,
  score double precision,
  skills_score double precision,
  experience_score double precision,
  location_score double precision,
  salary_score double precision,
  culture_score double precision,
  failed_constraints text[],
  semantic_score double precision,
  similarity double precision,
  unscored text[]
)
language plpgsql
stable
parallel safe
set search_path = ''
as $$
#variable_conflict use_column
begin
  if p_talent_ids is null or p_job_ids is null then
    raise exception using errcode = 'MT001',
      message = 'fallback_score_pairs: talent and job id arrays must not be null';
  end if;
  if cardinality(p_talent_ids) <> cardinality(p_job_ids) then
    raise exception using errcode = 'MT002',
      message = format('fallback_score_pairs: %s talent ids but %s job ids',
                       cardinality(p_talent_ids), cardinality(p_job_ids));
  end if;
  if cardinality(p_talent_ids) > 100000 then
    raise exception using errcode = 'MT003',
      message = 'fallback_score_pairs: at most 100000 pairs per call';
  end if;

  return query
  with pairs as (
    select p.t, p.j, p.ord
    from unnest(p_talent_ids, p_job_ids) with ordinality as p (t, j, ord)
  ),
  -- skills of the talents involved (few): hashed, so each (pair, job skill)
  -- row finds the talent's entry without an index probe per row
  tskills as materialized (
    select ts.talent_id, ts.skill_id, ts.proficiency
    from public.talent_skills ts
    where ts.talent_id in (select distinct pairs.t from pairs)
  ),
  -- skills of the jobs involved only: with a candidate list of a few hundred
  -- jobs, hashing the whole job_skills table would dominate the call
  jskills as materialized (
    select js.job_id, js.skill_id, js.required, js.min_proficiency
    from public.job_skills js
    where js.job_id in (select distinct pairs.j from pairs)
  ),
  -- cosine similarity of the two stored embeddings (pgvector's <=> is the
  -- cosine distance); no row when either side has no embedding yet
  sims as (
    select p.ord,
           least(1.0, greatest(-1.0,
             1.0 - (te.embedding operator(extensions.<=>) je.embedding)))::double precision
             as sim
    from pairs p
    join matching.talent_embeddings te on te.talent_id = p.t
    join matching.job_embeddings je on je.job_id = p.j
  ),
  talent_skill_counts as (
    select tk.talent_id, count(*)::double precision as n
    from tskills tk
    group by tk.talent_id
  ),
  -- one row per (pair, job skill) with the talent's entry for that skill, if any
  skill_stats as (
    select
      p.ord,
      count(js.skill_id)::double precision as n_job,
      count(tk.skill_id)::double precision as shared,
      count(js.skill_id) filter (where js.required)::double precision as n_required,
      count(tk.skill_id) filter (where js.required)::double precision as covered,
      -- filtered: least() ignores NULLs, so a missing skill would count as 1
      coalesce(sum(least(1.0, tk.proficiency::double precision
                             / greatest(js.min_proficiency, 1)::double precision))
                 filter (where tk.skill_id is not null), 0.0) as alignment_sum
    from pairs p
    left join jskills js on js.job_id = p.j
    left join tskills tk on tk.talent_id = p.t and tk.skill_id = js.skill_id
    group by p.ord
  ),
  -- Per-entity attributes, computed once per talent and per job rather than
  -- once per pair (one talent against 10,000 jobs repeats the talent).
  talent_attrs as materialized (
    select
      t.id,
      matching.level_rank(t.experience_level) as level,
      t.years_experience::double precision as years,
      t.latitude as lat, t.longitude as lon,
      matching.utc_offset_hours(t.timezone) as tz,
      t.remote_preference,
      coalesce(t.salary_min, t.salary_max)::double precision / fx.units_per_usd as s_min,
      coalesce(t.salary_max, t.salary_min)::double precision / fx.units_per_usd as s_max,
      t.preferred_industries, t.preferred_company_sizes,
      matching.work_style_mask(t.work_styles) as styles
    from public.talents t
    left join matching.fx_rates fx on fx.currency = t.salary_currency
    where t.id in (select distinct pairs.t from pairs)
  ),
  job_attrs as materialized (
    select
      j.id,
      matching.level_rank(j.experience_level) as level,
      j.min_years::double precision as lo,
      coalesce(j.max_years::double precision, j.min_years::double precision + 10.0) as hi,
      j.latitude as lat, j.longitude as lon,
      matching.utc_offset_hours(j.timezone) as tz,
      j.remote_policy,
      coalesce(j.salary_min, j.salary_max)::double precision / fx.units_per_usd as s_min,
      coalesce(j.salary_max, j.salary_min)::double precision / fx.units_per_usd as s_max,
      c.industry, c.size,
      matching.work_style_mask(c.work_styles) as styles
    from public.jobs j
    join public.companies c on c.id = j.company_id
    left join matching.fx_rates fx on fx.currency = j.salary_currency
    where j.id in (select distinct pairs.j from pairs)
  ),
  -- materialized steps: Postgres does not share common subexpressions, and
  -- inlining these CTEs would evaluate each expression once per reference
  inputs as materialized (
    select
      p.ord, p.t, p.j,
      s.n_job, s.shared, s.n_required, s.covered, s.alignment_sum,
      coalesce(tc.n, 0.0) as n_talent,
      ta.level as t_level, ja.level as j_level,
      ta.years, ja.lo, ja.hi,
      ta.lat as t_lat, ta.lon as t_lon, ja.lat as j_lat, ja.lon as j_lon,
      ta.tz as t_tz, ja.tz as j_tz,
      ja.remote_policy,
      matching.remote_compatibility(ta.remote_preference, ja.remote_policy) as remote_fit,
      ta.s_min as t_min, ta.s_max as t_max, ja.s_min as j_min, ja.s_max as j_max,
      case
        when cardinality(ta.preferred_industries) = 0 then 0.5
        when ja.industry = any (ta.preferred_industries) then 1.0
        else 0.0
      end as industry_fit,
      case
        when cardinality(ta.preferred_company_sizes) = 0 then 0.5
        when ja.size = any (ta.preferred_company_sizes) then 1.0
        else 0.0
      end as size_fit,
      bit_count((ta.styles & ja.styles)::bit(32))::double precision as styles_shared,
      bit_count((ta.styles | ja.styles)::bit(32))::double precision as styles_union,
      ta.styles = 0 or ja.styles = 0 as styles_missing,
      sm.sim
    from pairs p
    join talent_attrs ta on ta.id = p.t
    join job_attrs ja on ja.id = p.j
    join skill_stats s on s.ord = p.ord
    left join talent_skill_counts tc on tc.talent_id = p.t
    left join sims sm on sm.ord = p.ord
  ),
  features as (
    select
      i.*,
      case when i.n_job + i.n_talent - i.shared > 0
        then i.shared / (i.n_job + i.n_talent - i.shared) else 0.0 end as jaccard,
      case when i.n_required > 0 then i.covered / i.n_required else 1.0 end as coverage,
      case when i.shared > 0 then i.alignment_sum / i.shared else 0.0 end as alignment,
      abs(i.t_level - i.j_level) as level_distance,
      greatest(0.0, 1.0 - 0.2 * (greatest(i.lo - i.years, 0.0) + greatest(i.years - i.hi, 0.0)))
        as seniority,
      least(1.0, greatest(greatest(i.t_level - i.j_level, 0.0) / 2.0,
                          greatest(i.years - i.hi, 0.0) / 10.0)) as over_penalty,
      least(1.0, greatest(greatest(i.j_level - i.t_level, 0.0) / 2.0,
                          greatest(i.lo - i.years, 0.0) / greatest(i.lo, 1.0))) as under_penalty,
      (i.t_lat is null or i.t_lon is null or i.j_lat is null or i.j_lon is null)
        as location_missing,
      (i.t_tz is null or i.j_tz is null) as tz_missing,
      (i.t_min is null or i.t_max is null or i.j_min is null or i.j_max is null)
        as salary_missing
    from inputs i
  ),
  geo as materialized (
    select
      f.*,
      case when f.location_missing then 0.0 else least(
        -- Haversine, as haversine_km in matching/features/extraction.py
        2.0 * 6371.0088 * asin(sqrt(least(greatest(
          power(sin((radians(f.j_lat) - radians(f.t_lat)) / 2.0), 2)
          + cos(radians(f.t_lat)) * cos(radians(f.j_lat))
            * power(sin(radians(f.j_lon - f.t_lon) / 2.0), 2),
          0.0), 1.0))),
        pi() * 6371.0088)
      end as km,
      case when f.tz_missing then null
        else abs(f.t_tz - f.j_tz) - 24.0 * floor(abs(f.t_tz - f.j_tz) / 24.0)
      end as tz_diff
    from features f
  ),
  rules as materialized (
    select
      g.*,
      case
        when g.remote_policy = 'remote' then 1.0
        when g.location_missing then 0.5
        else exp(-g.km / case when g.remote_policy = 'hybrid' then 300.0 else 100.0 end)
      end as commute,
      case when g.tz_missing then 0.5
        else greatest(0.0, 8.0 - least(g.tz_diff, 24.0 - g.tz_diff)) / 8.0
      end as tz_overlap,
      case
        when g.salary_missing then 0.0
        when greatest(g.t_max, g.j_max) - least(g.t_min, g.j_min) > 0 then
          greatest(0.0, least(g.t_max, g.j_max) - greatest(g.t_min, g.j_min))
          / (greatest(g.t_max, g.j_max) - least(g.t_min, g.j_min))
        when g.t_min = g.j_min then 1.0
        else 0.0
      end as salary_iou,
      case
        when g.salary_missing then 1.0
        when g.j_max > 0 then least(g.t_min / g.j_max, 5.0)
        when g.t_min > 0 then 5.0
        else 1.0
      end as salary_ratio,
      case when g.styles_missing then 0.5
        when g.styles_union > 0 then g.styles_shared / g.styles_union
        else 0.5
      end as style_fit
    from geo g
  ),
  scored as (
    select
      r.ord, r.t, r.j, r.sim,
      -- text: cosine 0.2 -> 0, 0.8 -> 100 (SEMANTIC_FLOOR/FULL); no embedding -> 50
      case when r.sim is null then 50.0
        else 100.0 * least(1.0, greatest(0.0, (r.sim - 0.2) / 0.6))
      end as s_semantic,
      -- categories with no data behind them: neutral, and never a reason
      array_remove(array[
        case when r.n_job = 0 or r.n_talent = 0 then 'skills' end,
        case when r.salary_missing then 'salary' end,
        case when r.industry_fit = 0.5 and r.size_fit = 0.5 and r.style_fit = 0.5
          then 'culture' end,
        case when r.sim is null then 'semantic' end
      ], null) as unscored,
      100.0 * (0.5 * r.coverage + 0.25 * r.alignment + 0.25 * r.jaccard) as s_skills,
      100.0 * least(1.0, greatest(0.0,
        0.5 * r.seniority + 0.5 * (1.0 - r.level_distance / 4.0)
        - 0.5 * r.under_penalty - 0.25 * r.over_penalty)) as s_experience,
      100.0 * (0.4 * r.remote_fit + 0.4 * r.commute + 0.2 * r.tz_overlap) as s_location,
      case when r.salary_missing then 50.0
        else 100.0 * (0.4 * r.salary_iou
                      + 0.6 * least(1.0, greatest(0.0, 1.0 - 2.0 * greatest(0.0, r.salary_ratio - 1.0))))
      end as s_salary,
      100.0 * (r.industry_fit + r.size_fit + r.style_fit) / 3.0 as s_culture,
      -- hard constraints, in a fixed order (FallbackMatcher lists them the same way)
      array_remove(array[
        case when r.n_required > 0 and r.coverage < 0.5 then
          format('missing %s of %s required skills',
                 (r.n_required - r.covered)::bigint, r.n_required::bigint) end,
        case when r.remote_policy = 'onsite' and not r.location_missing and r.km > 100.0 then
          format('on-site job %s km away', floor(r.km)::bigint) end,
        case when r.remote_policy = 'hybrid' and not r.location_missing and r.km > 300.0 then
          format('hybrid job %s km away', floor(r.km)::bigint) end,
        case when r.remote_fit <= 0.1 then 'wants remote work, job is on-site' end,
        case when not r.salary_missing and r.salary_ratio > 1.2 then
          'salary expectation above range' end,
        case when r.j_level - r.t_level >= 2 then
          format('under-qualified by %s levels', (r.j_level - r.t_level)::bigint) end
      ], null) as failed
    from rules r
  )
  select
    s.t, s.j,
    least(100.0, greatest(0.0,
      (0.30 * s.s_skills + 0.15 * s.s_experience + 0.15 * s.s_location
       + 0.10 * s.s_salary + 0.10 * s.s_culture + 0.20 * s.s_semantic)
      * power(0.8, cardinality(s.failed)::double precision))),
    s.s_skills, s.s_experience, s.s_location, s.s_salary, s.s_culture,
    s.failed, s.s_semantic, s.sim, s.unscored
  from scored s
  order by s.ord;
end
$$;


-- One pair. Errors: MT001 null argument, MT404 unknown talent or job.
create function matching.fallback_score(p_talent_id uuid, p_job_id uuid)
returns table (
  talent_id uuid,
  job_id uuid,
  score double precision,
  skills_score double precision,
  experience_score double precision,
  location_score double precision,
  salary_score double precision,
  culture_score double precision,
  failed_constraints text[],
  semantic_score double precision,
  similarity double precision,
  unscored text[]
)
language plpgsql
stable
set search_path = ''
as $$
begin
  if p_talent_id is null or p_job_id is null then
    raise exception using errcode = 'MT001',
      message = 'fallback_score: talent id and job id must not be null';
  end if;
  if not exists (select 1 from public.talents t where t.id = p_talent_id) then
    raise exception using errcode = 'MT404', message = format('unknown talent %s', p_talent_id);
  end if;
  if not exists (select 1 from public.jobs j where j.id = p_job_id) then
    raise exception using errcode = 'MT404', message = format('unknown job %s', p_job_id);
  end if;
  return query
  select * from matching.fallback_score_pairs(array[p_talent_id], array[p_job_id]);
end
$$;

-- One talent against every open job, best first (ties: text, then pair hash).
-- Errors: MT001, MT404, MT005 limit outside 1..100000.
create function matching.fallback_scores_for_talent(p_talent_id uuid, p_limit integer default 100)
returns table (
  talent_id uuid,
  job_id uuid,
  score double precision,
  skills_score double precision,
  experience_score double precision,
  location_score double precision,
  salary_score double precision,
  culture_score double precision,
  failed_constraints text[],
  semantic_score double precision,
  similarity double precision,
  unscored text[]
)
language plpgsql
stable
set search_path = ''
as $$
#variable_conflict use_column
begin
  if p_talent_id is null then
    raise exception using errcode = 'MT001', message = 'talent id must not be null';
  end if;
  if p_limit is null or p_limit < 1 or p_limit > 100000 then
    raise exception using errcode = 'MT005',
      message = format('limit must be between 1 and 100000, got %s', p_limit);
  end if;
  if not exists (select 1 from public.talents t where t.id = p_talent_id) then
    raise exception using errcode = 'MT404', message = format('unknown talent %s', p_talent_id);
  end if;
  return query
  select f.*
  from matching.fallback_score_pairs(
    array(select p_talent_id from public.jobs j where j.status = 'open' order by j.id),
    array(select j.id from public.jobs j where j.status = 'open' order by j.id)
  ) f
  order by f.score desc, f.similarity desc nulls last,
           matching.pair_tiebreak(f.talent_id, f.job_id)
  limit p_limit;
end
$$;

-- One job against every talent open to work, best first. Errors: MT001,
-- MT404, MT005.
create function matching.fallback_scores_for_job(p_job_id uuid, p_limit integer default 100)
returns table (
  talent_id uuid,
  job_id uuid,
  score double precision,
  skills_score double precision,
  experience_score double precision,
  location_score double precision,
  salary_score double precision,
  culture_score double precision,
  failed_constraints text[],
  semantic_score double precision,
  similarity double precision,
  unscored text[]
)
language plpgsql
stable
set search_path = ''
as $$
#variable_conflict use_column
begin
  if p_job_id is null then
    raise exception using errcode = 'MT001', message = 'job id must not be null';
  end if;
  if p_limit is null or p_limit < 1 or p_limit > 100000 then
    raise exception using errcode = 'MT005',
      message = format('limit must be between 1 and 100000, got %s', p_limit);
  end if;
  if not exists (select 1 from public.jobs j where j.id = p_job_id) then
    raise exception using errcode = 'MT404', message = format('unknown job %s', p_job_id);
  end if;
  return query
  select f.*
  from matching.fallback_score_pairs(
    array(select t.id from public.talents t where t.open_to_work order by t.id),
    array(select p_job_id from public.talents t where t.open_to_work order by t.id)
  ) f
  order by f.score desc, f.similarity desc nulls last,
           matching.pair_tiebreak(f.talent_id, f.job_id)
  limit p_limit;
end
$$;

-- Explanation of a fallback score in the shape of an ML one: sub-scores and
-- the three strongest reasons; stored fallback rows carry them too (the
-- worker asks this function). A category contributes weight x (sub-score -
-- 50) points against a neutral 50; the failed hard constraints share the
-- penalty they cost (score x (1/0.8^n - 1)). A category with no data behind
-- it (p_unscored) or that moved the score by less than 0.05 points is never
-- a reason.
create function matching.fallback_explanation(
  p_score double precision,
  p_skills double precision,
  p_experience double precision,
  p_location double precision,
  p_salary double precision,
  p_culture double precision,
  p_semantic double precision,
  p_failed text[],
  p_unscored text[]
)
returns table (sub_scores jsonb, top_reasons jsonb)
language sql
immutable
parallel safe
as $$
  with cats (feature, weight, value) as (
    values ('skills', 0.30, p_skills), ('experience', 0.15, p_experience),
           ('location', 0.15, p_location), ('salary', 0.10, p_salary),
           ('culture', 0.10, p_culture), ('semantic', 0.20, p_semantic)
  ),
  reasons as (
    select c.feature,
           c.weight * (c.value - 50.0) as contribution,
           format('%s fit (%s/100)',
                  case when c.value >= 75 then 'strong ' when c.value >= 50 then 'good '
                       when c.value >= 25 then 'weak ' else 'poor ' end
                  || case when c.feature = 'semantic' then 'text' else c.feature end,
                  pg_catalog.round(c.value::numeric)) as text
    from cats c
    -- a category with no data behind it says nothing about the pair
    where c.feature <> all (coalesce(p_unscored, '{}'))
    union all
    select 'constraint',
           -(p_score * (pg_catalog.power(1.25, pg_catalog.cardinality(p_failed)) - 1.0))
             -- nullif: a constant-folded 0/0 would fail even with no rows
             / nullif(pg_catalog.cardinality(p_failed), 0),
           f
    from pg_catalog.unnest(p_failed) f
  ),
  top3 as (
    select r.feature, r.contribution,
           -- the same "+6.1 points: ..." form as the model's explanations
           format('%s%s points: %s', case when r.contribution >= 0 then '+' else '' end,
                  pg_catalog.round(r.contribution::numeric, 1), r.text) as sentence
    from reasons r
    -- a category that moved the score by less than 0.05 points is no reason
    where abs(r.contribution) >= 0.05
    order by abs(r.contribution) desc, r.feature
    limit 3
  )
  select
    pg_catalog.jsonb_build_object(
      'skills', pg_catalog.round(p_skills::numeric, 1),
      'experience', pg_catalog.round(p_experience::numeric, 1),
      'location', pg_catalog.round(p_location::numeric, 1),
      'salary', pg_catalog.round(p_salary::numeric, 1),
      'culture', pg_catalog.round(p_culture::numeric, 1),
      'semantic', pg_catalog.round(p_semantic::numeric, 1)),
    (select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
              'feature', t.feature,
              'contribution', pg_catalog.round(t.contribution::numeric, 2),
              'sentence', t.sentence) order by abs(t.contribution) desc, t.feature), '[]')
     from top3 t)
$$;


comment on function matching.fallback_score_pairs(uuid[], uuid[]) is
  'Rule-based scores (0-100), category sub-scores (text included), failed hard constraints,'
  ' text similarity and unscored categories for (talent, job) pairs given as two parallel'
  ' arrays. Errors: MT001, MT002, MT003.';

revoke all on function matching.fallback_score_pairs(uuid[], uuid[]) from public;
revoke all on function matching.fallback_score(uuid, uuid) from public;
revoke all on function matching.fallback_scores_for_talent(uuid, integer) from public;
revoke all on function matching.fallback_scores_for_job(uuid, integer) from public;
revoke all on function matching.fallback_explanation(double precision, double precision,
  double precision, double precision, double precision, double precision, double precision,
  text[], text[]) from public;
grant execute on function matching.fallback_score_pairs(uuid[], uuid[]) to service_role;
grant execute on function matching.fallback_score(uuid, uuid) to service_role;
grant execute on function matching.fallback_scores_for_talent(uuid, integer) to service_role;
grant execute on function matching.fallback_scores_for_job(uuid, integer) to service_role;
grant execute on function matching.fallback_explanation(double precision, double precision,
  double precision, double precision, double precision, double precision, double precision,
  text[], text[]) to service_role;

-- ============================================================ read functions
-- As before, but ordered by score, text similarity and pair hash, with the
-- text term in on-the-fly fallback explanations.

create or replace function public.get_talent_matches(
  p_talent_id uuid,
  p_limit integer default 20,
  p_min_score numeric default 0
)
returns table (
  job_id uuid,
  title text,
  company_id uuid,
  company_name text,
  company_industry public.industry,
  company_size public.company_size,
  experience_level public.experience_level,
  remote_policy public.remote_policy,
  city text,
  country_code text,
  timezone text,
  salary_min integer,
  salary_max integer,
  salary_currency text,
  skills text[],
  score numeric,
  source public.match_source,
  model_version text,
  sub_scores jsonb,
  top_reasons jsonb,
  highly_recommended boolean,
  computed_at timestamptz,
  stale boolean,
  feedback text[]
)
language plpgsql
-- volatile: it records what it served (matching_health); call it with POST
volatile
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  v_role text := matching.caller_role();
  v_owner uuid;
  v_updated_at timestamptz;
  v_cap integer;
begin
  if v_role = 'anon' then
    raise exception using errcode = '42501', message = 'sign in to read matches';
  end if;
  -- this request writes only its rate-limit counter and serving stats: losing
  -- the last few of those in a crash is harmless, so skip the WAL flush at
  -- commit (transaction-local; saves ~1-2 ms per read)
  perform pg_catalog.set_config('synchronous_commit', 'off', true);
  if p_talent_id is null then
    raise exception using errcode = 'MT001', message = 'p_talent_id must not be null';
  end if;
  perform matching.check_read_args(p_limit, p_min_score);
  select t.user_id, t.updated_at into v_owner, v_updated_at
  from public.talents t where t.id = p_talent_id;
  if not found then
    raise exception using errcode = 'MT404', message = format('unknown talent %s', p_talent_id);
  end if;
  if v_role = 'authenticated'
     and (v_owner is null or v_owner is distinct from (select auth.uid())) then
    raise exception using errcode = '42501', message = 'you may only read your own matches';
  end if;

  if exists (
    select 1 from public.matches m join public.jobs j on j.id = m.job_id
    where m.talent_id = p_talent_id and j.status = 'open'
  ) then
    -- stored matches: the index on (talent_id, score desc) serves the order
    return query
    with r as materialized (
      select m.job_id, m.score, m.similarity, m.tiebreak, m.source, m.model_version,
             m.explanation, m.computed_at, j.updated_at as job_updated_at
      from public.matches m
      join public.jobs j on j.id = m.job_id and j.status = 'open'
      where m.talent_id = p_talent_id and m.score >= p_min_score
      order by m.score desc, m.similarity desc nulls last, m.tiebreak
      limit p_limit
    ),
    stats as (
      insert into matching.serving_stats as s (bucket, shard, side, calls, rows_served, fallback_rows)
      select pg_catalog.date_trunc('minute', pg_catalog.now()), pg_catalog.pg_backend_pid() % 16,
             'talent', 1, count(*), count(*) filter (where r.source = 'fallback')
      from r
      on conflict (bucket, shard, side) do update
        set calls = s.calls + 1, rows_served = s.rows_served + excluded.rows_served,
            fallback_rows = s.fallback_rows + excluded.fallback_rows
    )
    select j.id, j.title, c.id, c.name, c.industry, c.size, j.experience_level, j.remote_policy,
           j.city, j.country_code, j.timezone, j.salary_min, j.salary_max, j.salary_currency,
           array(select sk.name from public.job_skills js join public.skills sk on sk.id = js.skill_id
                 where js.job_id = j.id order by js.required desc, sk.name),
           pg_catalog.round(r.score::numeric, 2), r.source, r.model_version,
           matching.clean_sub_scores(r.explanation), matching.top_reasons(r.explanation),
           r.score > 80, r.computed_at,
           v_updated_at > r.computed_at or r.job_updated_at > r.computed_at,
           array(select f.feedback_type::text from public.match_feedback f
                 where f.talent_id = p_talent_id and f.job_id = j.id and f.actor = 'talent'
                 order by f.feedback_type)
    from r
    join public.jobs j on j.id = r.job_id
    join public.companies c on c.id = j.company_id
    order by r.score desc, r.similarity desc nulls last, r.tiebreak;
    return;
  end if;

  -- no stored match yet: score the most promising open jobs now
  select coalesce((select a.fallback_candidates from matching.api_settings a where a.id), 1000)
    into v_cap;
  return query
  with cand as (
    select matching.fallback_candidates_for_talent(p_talent_id, v_cap) as ids
  ),
  r as materialized (
    select f.job_id, f.score, f.skills_score, f.experience_score, f.location_score,
           f.salary_score, f.culture_score, f.failed_constraints, f.semantic_score,
           f.similarity, f.unscored,
           matching.pair_tiebreak(p_talent_id, f.job_id) as tiebreak
    from cand,
         matching.fallback_score_pairs(
           pg_catalog.array_fill(p_talent_id, array[pg_catalog.cardinality(cand.ids)]), cand.ids) f
    where f.score >= p_min_score
    order by f.score desc, f.similarity desc nulls last, tiebreak
    limit p_limit
  ),
  stats as (
    insert into matching.serving_stats as s (bucket, shard, side, calls, rows_served, fallback_rows)
    select pg_catalog.date_trunc('minute', pg_catalog.now()), pg_catalog.pg_backend_pid() % 16,
           'talent', 1, count(*), count(*)
    from r
    on conflict (bucket, shard, side) do update
      set calls = s.calls + 1, rows_served = s.rows_served + excluded.rows_served,
          fallback_rows = s.fallback_rows + excluded.fallback_rows
  )
  select j.id, j.title, c.id, c.name, c.industry, c.size, j.experience_level, j.remote_policy,
         j.city, j.country_code, j.timezone, j.salary_min, j.salary_max, j.salary_currency,
         array(select sk.name from public.job_skills js join public.skills sk on sk.id = js.skill_id
                 where js.job_id = j.id order by js.required desc, sk.name),
         pg_catalog.round(r.score::numeric, 2), 'fallback'::public.match_source, null::text,
         e.sub_scores, e.top_reasons, r.score > 80, pg_catalog.now(), false,
         array(select f.feedback_type::text from public.match_feedback f
               where f.talent_id = p_talent_id and f.job_id = j.id and f.actor = 'talent'
               order by f.feedback_type)
  from r
  join public.jobs j on j.id = r.job_id
  join public.companies c on c.id = j.company_id
  cross join lateral matching.fallback_explanation(
    r.score, r.skills_score, r.experience_score, r.location_score, r.salary_score,
    r.culture_score, r.semantic_score, r.failed_constraints, r.unscored) e
  order by r.score desc, r.similarity desc nulls last, r.tiebreak;
end
$$;

create or replace function public.get_job_matches(
  p_job_id uuid,
  p_limit integer default 20,
  p_min_score numeric default 0,
  p_sort text default 'score',
  p_min_sub_scores jsonb default '{}'::jsonb
)
returns table (
  talent_id uuid,
  headline text,
  experience_level public.experience_level,
  years_experience numeric,
  city text,
  country_code text,
  timezone text,
  remote_preference public.remote_preference,
  salary_min integer,
  salary_max integer,
  salary_currency text,
  skills text[],
  score numeric,
  source public.match_source,
  model_version text,
  sub_scores jsonb,
  top_reasons jsonb,
  highly_recommended boolean,
  computed_at timestamptz,
  stale boolean,
  feedback text[]
)
language plpgsql
volatile
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  v_role text := matching.caller_role();
  v_company uuid;
  v_updated_at timestamptz;
  v_cap integer;
  v_key text;
  v_value jsonb;
begin
  if v_role = 'anon' then
    raise exception using errcode = '42501', message = 'sign in to read matches';
  end if;
  -- this request writes only its rate-limit counter and serving stats: losing
  -- the last few of those in a crash is harmless, so skip the WAL flush at
  -- commit (transaction-local; saves ~1-2 ms per read)
  perform pg_catalog.set_config('synchronous_commit', 'off', true);
  if p_job_id is null or p_sort is null or p_min_sub_scores is null then
    raise exception using errcode = 'MT001',
      message = 'p_job_id, p_sort and p_min_sub_scores must not be null';
  end if;
  perform matching.check_read_args(p_limit, p_min_score);
  if p_sort not in ('score', 'skills', 'experience', 'location', 'salary', 'culture', 'semantic') then
    raise exception using errcode = 'MT011',
      message = format('p_sort must be one of score, skills, experience, location, salary,'
                       ' culture, semantic; got %L', left(p_sort, 40));
  end if;
  if pg_catalog.jsonb_typeof(p_min_sub_scores) <> 'object' then
    raise exception using errcode = 'MT012',
      message = 'p_min_sub_scores must be an object such as {"skills": 60}';
  end if;
  for v_key, v_value in select e.key, e.value from pg_catalog.jsonb_each(p_min_sub_scores) e loop
    if v_key not in ('skills', 'experience', 'location', 'salary', 'culture', 'semantic') then
      raise exception using errcode = 'MT012',
        message = format('p_min_sub_scores: unknown sub-score %L; expected skills, experience,'
                         ' location, salary, culture or semantic', left(v_key, 40));
    end if;
    if pg_catalog.jsonb_typeof(v_value) <> 'number'
       or v_value::text::numeric not between 0 and 100 then
      raise exception using errcode = 'MT012',
        message = format('p_min_sub_scores: %s must be a number between 0 and 100', v_key);
    end if;
  end loop;
  select j.company_id, j.updated_at into v_company, v_updated_at
  from public.jobs j where j.id = p_job_id;
  if not found then
    raise exception using errcode = 'MT404', message = format('unknown job %s', p_job_id);
  end if;
  if v_role = 'authenticated' and not exists (
    select 1 from public.company_members m
    where m.company_id = v_company and m.user_id = (select auth.uid())
  ) then
    raise exception using errcode = '42501',
      message = 'only members of the job''s company may read its matches';
  end if;

  if exists (
    select 1 from public.matches m join public.talents t on t.id = m.talent_id
    where m.job_id = p_job_id and t.open_to_work
  ) then
    return query
    with r as materialized (
      -- sub-scores are read only when a filter or the sort needs them
      select m.talent_id, m.score, m.similarity, m.tiebreak, m.source, m.model_version,
             m.computed_at, m.explanation, t.updated_at as talent_updated_at
      from public.matches m
      join public.talents t on t.id = m.talent_id and t.open_to_work
      where m.job_id = p_job_id and pg_catalog.round(m.score::numeric) >= p_min_score
        and (p_min_sub_scores = '{}'::jsonb or not exists (
          select 1 from pg_catalog.jsonb_each(p_min_sub_scores) f
          where coalesce(matching.company_sub_score(matching.sub_score(m.explanation, f.key), f.key), -1)
                < f.value::text::numeric
        ))
      order by case when p_sort = 'score' then m.score::numeric
                    else matching.company_sub_score(matching.sub_score(m.explanation, p_sort), p_sort) end
               desc nulls last,
               m.score desc, m.similarity desc nulls last, m.tiebreak
      limit p_limit
    ),
    stats as (
      insert into matching.serving_stats as s (bucket, shard, side, calls, rows_served, fallback_rows)
      select pg_catalog.date_trunc('minute', pg_catalog.now()), pg_catalog.pg_backend_pid() % 16,
             'job', 1, count(*), count(*) filter (where r.source = 'fallback')
      from r
      on conflict (bucket, shard, side) do update
        set calls = s.calls + 1, rows_served = s.rows_served + excluded.rows_served,
            fallback_rows = s.fallback_rows + excluded.fallback_rows
    )
    select t.id, t.headline, t.experience_level, t.years_experience, t.city, t.country_code,
           t.timezone, t.remote_preference, t.salary_min, t.salary_max, t.salary_currency,
           array(select sk.name from public.talent_skills ts join public.skills sk on sk.id = ts.skill_id
                 where ts.talent_id = t.id order by ts.proficiency desc, sk.name),
           pg_catalog.round(r.score::numeric), r.source, r.model_version,
           matching.company_sub_scores(matching.clean_sub_scores(r.explanation)),
           matching.company_reasons(matching.top_reasons(r.explanation)),
           r.score > 80, r.computed_at,
           r.talent_updated_at > r.computed_at or v_updated_at > r.computed_at,
           array(select f.feedback_type::text from public.match_feedback f
                 where f.talent_id = t.id and f.job_id = p_job_id
                   and (f.actor = 'company' or f.feedback_type = 'applied')
                 order by f.feedback_type)
    from r
    join public.talents t on t.id = r.talent_id
    order by case when p_sort = 'score' then r.score::numeric
                  else matching.company_sub_score(matching.sub_score(r.explanation, p_sort), p_sort) end
                desc nulls last,
             r.score desc, r.similarity desc nulls last, r.tiebreak;
    return;
  end if;

  select coalesce((select a.fallback_candidates from matching.api_settings a where a.id), 1000)
    into v_cap;
  return query
  with cand as (
    select matching.fallback_candidates_for_job(p_job_id, v_cap) as ids
  ),
  scored as materialized (
    select f.talent_id, f.score, f.similarity,
           matching.pair_tiebreak(f.talent_id, p_job_id) as tiebreak, e.sub_scores, e.top_reasons
    from cand,
         matching.fallback_score_pairs(
           cand.ids, pg_catalog.array_fill(p_job_id, array[pg_catalog.cardinality(cand.ids)])) f
    cross join lateral matching.fallback_explanation(
      f.score, f.skills_score, f.experience_score, f.location_score, f.salary_score,
      f.culture_score, f.semantic_score, f.failed_constraints, f.unscored) e
    where pg_catalog.round(f.score::numeric) >= p_min_score
  ),
  r as materialized (
    select x.* from scored x
    where not exists (
      select 1 from pg_catalog.jsonb_each(p_min_sub_scores) f
      where coalesce(matching.company_sub_score((x.sub_scores ->> f.key)::numeric, f.key), -1)
            < f.value::text::numeric
    )
    order by case when p_sort = 'score' then x.score::numeric
                  else matching.company_sub_score((x.sub_scores ->> p_sort)::numeric, p_sort) end
             desc nulls last,
             x.score desc, x.similarity desc nulls last, x.tiebreak
    limit p_limit
  ),
  stats as (
    insert into matching.serving_stats as s (bucket, shard, side, calls, rows_served, fallback_rows)
    select pg_catalog.date_trunc('minute', pg_catalog.now()), pg_catalog.pg_backend_pid() % 16,
           'job', 1, count(*), count(*)
    from r
    on conflict (bucket, shard, side) do update
      set calls = s.calls + 1, rows_served = s.rows_served + excluded.rows_served,
          fallback_rows = s.fallback_rows + excluded.fallback_rows
  )
  select t.id, t.headline, t.experience_level, t.years_experience, t.city, t.country_code,
         t.timezone, t.remote_preference, t.salary_min, t.salary_max, t.salary_currency,
         array(select sk.name from public.talent_skills ts join public.skills sk on sk.id = ts.skill_id
                 where ts.talent_id = t.id order by ts.proficiency desc, sk.name),
         pg_catalog.round(r.score::numeric), 'fallback'::public.match_source, null::text,
         matching.company_sub_scores(r.sub_scores), matching.company_reasons(r.top_reasons),
         r.score > 80, pg_catalog.now(), false,
         array(select f.feedback_type::text from public.match_feedback f
               where f.talent_id = t.id and f.job_id = p_job_id
                 and (f.actor = 'company' or f.feedback_type = 'applied')
               order by f.feedback_type)
  from r
  join public.talents t on t.id = r.talent_id
  order by case when p_sort = 'score' then r.score::numeric
                else matching.company_sub_score((r.sub_scores ->> p_sort)::numeric, p_sort) end
           desc nulls last,
           r.score desc, r.similarity desc nulls last, r.tiebreak;
end
$$;


-- ============================================================ model changes

-- Errors: 42501 not an admin, MT001, MT006, MT404 (as before). New: every
-- change of the active model (activate, rollback, training) re-ranks.
create or replace function matching.activate_model(p_version text, p_reason text default 'activate')
returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  who text := matching.assert_admin();
  current_version text;
begin
  if p_version is null then
    raise exception using errcode = 'MT001', message = 'model version must not be null';
  end if;
  if p_reason is null or p_reason not in ('activate', 'rollback', 'training') then
    raise exception using errcode = 'MT006',
      message = format('reason must be activate, rollback or training, got %L', p_reason);
  end if;
  -- Serialise activations: after this lock every statement sees the last
  -- committed activation, so two concurrent calls cannot both win.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('matching.activate_model'));
  if not exists (select 1 from matching.model_versions m where m.version = p_version) then
    raise exception using errcode = 'MT404', message = format('unknown model version %L', p_version);
  end if;
  select m.version into current_version from matching.model_versions m where m.is_active;
  if current_version = p_version then
    return p_version;
  end if;
  update matching.model_versions set is_active = false where is_active;
  update matching.model_versions
    set is_active = true, activated_at = pg_catalog.clock_timestamp()
    where version = p_version;
  insert into matching.model_activations (version, previous_version, activated_by, reason)
    values (p_version, current_version, who, p_reason);
  -- Listeners (the worker) reload the model without polling.
  perform pg_catalog.pg_notify('matching_model_activated', p_version);
  -- Every stored score came from the previous model: re-rank the whole
  -- market in the background, at bulk priority so edits still come first
  -- (one pending rematch_all at most: it coalesces on its queueing lock).
  -- With nothing stored yet (a fresh install) there is nothing to re-rank,
  -- and the backfill matches everyone once embedded; a re-rank queued now
  -- would race it and embed entities one by one. Without the job queue the
  -- activation still commits; the failure is recorded like any other
  -- enqueue failure.
  if exists (select 1 from public.matches) then
    begin
      perform matching.enqueue_task('rematch_all', 'maintenance', 'rematch_all',
                                    '{"kind": "talent"}'::jsonb, null, -10);
    exception when others then
      insert into matching.enqueue_failures (kind, entity_ids, sqlstate, error)
      values ('rematch_all', '{}', sqlstate, sqlerrm);
    end;
  end if;
  return p_version;
end
$$;

-- The two SECURITY DEFINER functions that write procrastinate's table ran
-- with `search_path = procrastinate`, which leaves pg_temp searched first:
-- a caller's temporary table or function could shadow what they call. With
-- pg_temp named last it is searched last (procrastinate's own triggers
-- still find their unqualified functions).
alter function matching.enqueue_jobs set search_path = procrastinate, pg_temp;
alter function matching.enqueue_task set search_path = procrastinate, pg_temp;

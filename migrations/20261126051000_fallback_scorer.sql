-- The rule-based fallback scorer: scores pairs with no Python running, used
-- whenever the model can't serve (no active model, a brand-new profile).
--
-- It recomputes, in SQL, the features of matching/features/extraction.py that the rules
-- need and combines them exactly like matching/scoring/fallback.py (FallbackMatcher);
-- tests/db/test_fallback_parity.py keeps the two equal to 1e-6 on thousands of
-- random synthetic pairs. Change both or neither.

-- The score has a text term: the cosine similarity of the two stored
-- embeddings, as a `semantic` sub-score weighing 0.20, neutral (50) when an
-- embedding is missing. It also returns the raw similarity (for ordering
-- ties) and the categories that have no data behind them (`unscored`),
-- which no reason may cite.

-- UTC offset in hours of an IANA zone or a +HH:MM string, taken at one fixed
-- instant (2026-01-15 12:00 UTC) so scores never drift with daylight saving.
-- Postgres reads '+05:30' as a POSIX zone (sign inverted), hence the parse.
create function matching.utc_offset_hours(tz text)
returns double precision
language sql
immutable
parallel safe
-- no `set search_path` (the body names only pg_catalog functions): the
-- planner inlines it into the scoring query
as $$
  select case
    when tz ~ '^[+-][0-9]{2}:[0-5][0-9]$' then
      (case when left(tz, 1) = '-' then -1.0 else 1.0 end)
      * (substr(tz, 2, 2)::double precision + substr(tz, 5, 2)::double precision / 60.0)
    else
      extract(
        epoch from (timestamptz '2026-01-15 12:00:00+00' at time zone tz)
                   - timestamp '2026-01-15 12:00:00'
      )::double precision / 3600.0
  end
$$;

-- Talent remote preference x job remote policy (REMOTE_COMPATIBILITY in
-- matching/features/extraction.py).
create function matching.remote_compatibility(
  preference public.remote_preference,
  policy public.remote_policy
)
returns double precision
language sql
immutable
parallel safe
-- no `set search_path`: the body names no objects, and a SET clause would stop
-- the planner from inlining it into the scoring query
as $$
  select case preference
    when 'onsite' then case policy when 'onsite' then 1.0 when 'hybrid' then 0.7 else 0.4 end
    when 'hybrid' then case policy when 'onsite' then 0.6 when 'hybrid' then 1.0 else 0.8 end
    when 'remote' then case policy when 'onsite' then 0.1 when 'hybrid' then 0.5 else 1.0 end
    else 1.0  -- flexible
  end::double precision
$$;

-- A set of work styles as a bitmask (bit i = i-th enum value), duplicates
-- ignored; bit_count() of and/or of two masks gives intersection/union sizes.
create function matching.work_style_mask(styles public.work_style[])
returns integer
language sql
immutable
parallel safe
-- one expression, no `set search_path`: the planner inlines it
as $$
  -- bit order = enum order (WORK_STYLES in matching/features/extraction.py)
  select (case when 'remote_first' = any (styles) then 1 else 0 end)
       | (case when 'async' = any (styles) then 2 else 0 end)
       | (case when 'office_centric' = any (styles) then 4 else 0 end)
       | (case when 'flexible_hours' = any (styles) then 8 else 0 end)
       | (case when 'collaborative' = any (styles) then 16 else 0 end)
       | (case when 'autonomous' = any (styles) then 32 else 0 end)
       | (case when 'structured' = any (styles) then 64 else 0 end)
       | (case when 'fast_paced' = any (styles) then 128 else 0 end)
$$;

-- Position of a level on the junior..principal scale (0-4); inlinable.
create function matching.level_rank(level public.experience_level)
returns double precision
language sql
immutable
parallel safe
as $$
  select case level
    when 'junior' then 0.0 when 'mid' then 1.0 when 'senior' then 2.0
    when 'lead' then 3.0 when 'principal' then 4.0
  end::double precision
$$;

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
  -- The entities involved are looked up as `= any (array(...))`: the planner
  -- then reads them through the primary keys whether there is one or
  -- thousands (with `in (select distinct ...)` it guessed 200 and, for one
  -- job against 1,000 talents, hashed all of job_skills to find 5 rows).
  -- skills of the talents involved (few): hashed, so each (pair, job skill)
  -- row finds the talent's entry without an index probe per row
  tskills as materialized (
    select ts.talent_id, ts.skill_id, ts.proficiency
    from public.talent_skills ts
    where ts.talent_id = any (array(select distinct pairs.t from pairs))
  ),
  -- skills of the jobs involved only: with a candidate list of a few hundred
  -- jobs, hashing the whole job_skills table would dominate the call
  jskills as materialized (
    select js.job_id, js.skill_id, js.required, js.min_proficiency
    from public.job_skills js
    where js.job_id = any (array(select distinct pairs.j from pairs))
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
    where t.id = any (array(select distinct pairs.t from pairs))
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
    where j.id = any (array(select distinct pairs.j from pairs))
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

comment on function matching.fallback_score_pairs(uuid[], uuid[]) is
  'Rule-based scores (0-100), category sub-scores (text included), failed hard constraints,'
  ' text similarity and unscored categories for (talent, job) pairs given as two parallel'
  ' arrays. Errors: MT001, MT002, MT003.';

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

-- Candidates for the on-the-fly fallback: scoring every open job (~17,000 in
-- benchmarks/rpc.py) takes ~0.4 s, every talent open to work (~85,000) ~4 s,
-- so only the p_cap entities most likely to score well are scored (the
-- benchmark measures how much of the exhaustive top 20 this keeps). For a
-- talent: the open jobs sharing the most (required) skills with them, topped
-- up, when those are fewer than p_cap, with open jobs at the nearest
-- experience level. Index-only scans of job_skills_skill_job_idx.
create function matching.fallback_candidates_for_talent(p_talent_id uuid, p_cap integer)
returns uuid[]
language plpgsql
stable
set search_path = ''
as $$
declare
  ids uuid[];
  v_level double precision;
begin
  ids := array(
    select c.job_id
    from (
      select js.job_id,
             count(*) filter (where js.required) as required_shared,
             count(*) as shared
      from public.talent_skills ts
      join public.job_skills js on js.skill_id = ts.skill_id
      where ts.talent_id = p_talent_id
      group by js.job_id
    ) c
    join public.jobs j on j.id = c.job_id and j.status = 'open'
    order by c.required_shared desc, c.shared desc, c.job_id
    limit p_cap
  );
  if pg_catalog.cardinality(ids) < p_cap then
    select matching.level_rank(t.experience_level) into v_level
    from public.talents t where t.id = p_talent_id;
    ids := ids || array(
      select j.id from public.jobs j
      where j.status = 'open' and j.id <> all (ids)
      order by abs(matching.level_rank(j.experience_level) - v_level), j.id
      limit p_cap - pg_catalog.cardinality(ids)
    );
  end if;
  return ids;
end
$$;

-- Same for a job: talents open to work sharing the most (required) skills,
-- closest in level first among equals.
create function matching.fallback_candidates_for_job(p_job_id uuid, p_cap integer)
returns uuid[]
language plpgsql
stable
set search_path = ''
as $$
declare
  ids uuid[];
  v_level double precision;
begin
  select matching.level_rank(j.experience_level) into v_level from public.jobs j where j.id = p_job_id;
  ids := array(
    select c.talent_id
    from (
      select ts.talent_id,
             count(*) filter (where js.required) as required_shared,
             count(*) as shared
      from public.job_skills js
      join public.talent_skills ts on ts.skill_id = js.skill_id
      where js.job_id = p_job_id
      group by ts.talent_id
      -- sorted before the join (the outer order decides the result): the
      -- join then probes talents in this order and an incremental sort stops
      -- after p_cap, instead of joining every talent sharing a skill (7,000
      -- to 17,000 of the 100,000 in benchmarks/rpc.py) with all talents open
      -- to work and sorting the lot
      order by required_shared desc, shared desc
    ) c
    join public.talents t on t.id = c.talent_id and t.open_to_work
    order by c.required_shared desc, c.shared desc,
             abs(matching.level_rank(t.experience_level) - v_level), c.talent_id
    limit p_cap
  );
  if pg_catalog.cardinality(ids) < p_cap then
    ids := ids || array(
      select t.id from public.talents t
      where t.open_to_work and t.id <> all (ids)
      order by abs(matching.level_rank(t.experience_level) - v_level), t.id
      limit p_cap - pg_catalog.cardinality(ids)
    );
  end if;
  return ids;
end
$$;

revoke all on function matching.utc_offset_hours(text) from public;
revoke all on function matching.level_rank(public.experience_level) from public;
revoke all on function matching.work_style_mask(public.work_style[]) from public;
grant execute on function matching.work_style_mask(public.work_style[]) to service_role;
grant execute on function matching.level_rank(public.experience_level) to service_role;
revoke all on function matching.remote_compatibility(public.remote_preference, public.remote_policy)
  from public;
grant execute on function matching.utc_offset_hours(text) to service_role;
grant execute on function matching.remote_compatibility(public.remote_preference, public.remote_policy)
  to service_role;

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
revoke all on function matching.fallback_candidates_for_talent(uuid, integer) from public;
revoke all on function matching.fallback_candidates_for_job(uuid, integer) from public;
grant execute on function matching.fallback_candidates_for_talent(uuid, integer) to service_role;
grant execute on function matching.fallback_candidates_for_job(uuid, integer) to service_role;

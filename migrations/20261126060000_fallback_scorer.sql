-- The rule-based fallback scorer: scores pairs with no Python running, used
-- whenever the model can't serve (no active model, a brand-new profile).
--
-- It recomputes, in SQL, the features of matching/features/extraction.py that the rules
-- need and combines them exactly like matching/scoring/fallback.py (FallbackMatcher);
-- tests/test_fallback_parity.py keeps the two equal to 1e-6 on thousands of
-- random synthetic pairs. Change both or neither.

-- Units of each currency per US dollar. Salaries are compared in USD.
-- A fixed table (late 2025 rates): good enough to rank, not for payroll; an
-- admin may update it, scores then move accordingly.
create table matching.fx_rates (
  currency text primary key
    constraint fx_rates_currency_format check (currency ~ '^[A-Z]{3}$'),
  units_per_usd double precision not null
    constraint fx_rates_units_positive check (units_per_usd > 0),
  updated_at timestamptz not null default now()
);
alter table matching.fx_rates enable row level security;
revoke all on matching.fx_rates from public, anon, authenticated;
grant all on matching.fx_rates to service_role;

insert into matching.fx_rates (currency, units_per_usd) values
  ('AED', 3.67), ('ARS', 1000.0), ('AUD', 1.52), ('BDT', 120.0), ('BRL', 5.5), ('CAD', 1.37),
  ('CHF', 0.88), ('CLP', 940.0), ('CNY', 7.2), ('COP', 4100.0), ('CZK', 23.3), ('DKK', 6.9),
  ('EGP', 49.0), ('EUR', 0.92), ('GBP', 0.79), ('GHS', 15.0), ('HKD', 7.8), ('HUF', 360.0),
  ('IDR', 15800.0), ('ILS', 3.7), ('INR', 84.0), ('JPY', 150.0), ('KES', 129.0), ('KRW', 1380.0),
  ('MAD', 9.9), ('MXN', 18.0), ('MYR', 4.5), ('NGN', 1550.0), ('NOK', 10.8), ('NPR', 134.0),
  ('NZD', 1.67), ('PEN', 3.75), ('PHP', 57.0), ('PKR', 280.0), ('PLN', 4.0), ('RON', 4.6),
  ('SEK', 10.6), ('SGD', 1.34), ('THB', 34.0), ('TRY', 34.0), ('TWD', 32.0), ('USD', 1.0),
  ('UYU', 40.0), ('VND', 25000.0), ('ZAR', 18.2);

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
  failed_constraints text[]
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
      ta.styles = 0 or ja.styles = 0 as styles_missing
    from pairs p
    join talent_attrs ta on ta.id = p.t
    join job_attrs ja on ja.id = p.j
    join skill_stats s on s.ord = p.ord
    left join talent_skill_counts tc on tc.talent_id = p.t
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
      r.ord, r.t, r.j,
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
      (0.35 * s.s_skills + 0.20 * s.s_experience + 0.20 * s.s_location
       + 0.15 * s.s_salary + 0.10 * s.s_culture)
      * power(0.8, cardinality(s.failed)::double precision))),
    s.s_skills, s.s_experience, s.s_location, s.s_salary, s.s_culture,
    s.failed
  from scored s
  order by s.ord;
end
$$;

comment on function matching.fallback_score_pairs(uuid[], uuid[]) is
  'Rule-based scores (0-100), category sub-scores and failed hard constraints for'
  ' (talent, job) pairs given as two parallel arrays. Errors: MT001, MT002, MT003.';

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
  failed_constraints text[]
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

-- One talent against every open job, best first. Errors: MT001, MT404,
-- MT005 limit outside 1..100000.
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
  failed_constraints text[]
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
  order by f.score desc, f.job_id
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
  failed_constraints text[]
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
  order by f.score desc, f.talent_id
  limit p_limit;
end
$$;

revoke all on function matching.utc_offset_hours(text) from public;
revoke all on function matching.level_rank(public.experience_level) from public;
revoke all on function matching.work_style_mask(public.work_style[]) from public;
grant execute on function matching.work_style_mask(public.work_style[]) to service_role;
grant execute on function matching.level_rank(public.experience_level) to service_role;
revoke all on function matching.remote_compatibility(public.remote_preference, public.remote_policy)
  from public;
revoke all on function matching.fallback_score_pairs(uuid[], uuid[]) from public;
revoke all on function matching.fallback_score(uuid, uuid) from public;
revoke all on function matching.fallback_scores_for_talent(uuid, integer) from public;
revoke all on function matching.fallback_scores_for_job(uuid, integer) from public;
grant execute on function matching.utc_offset_hours(text) to service_role;
grant execute on function matching.remote_compatibility(public.remote_preference, public.remote_policy)
  to service_role;
grant execute on function matching.fallback_score_pairs(uuid[], uuid[]) to service_role;
grant execute on function matching.fallback_score(uuid, uuid) to service_role;
grant execute on function matching.fallback_scores_for_talent(uuid, integer) to service_role;
grant execute on function matching.fallback_scores_for_job(uuid, integer) to service_role;

-- The public API, read side: get_talent_matches and get_job_matches. The
-- write and admin functions follow in the next file; each table's
-- policies and grants live with the table. docs/api.md documents every function,
-- argument, column and error code; keep the two in step.
--
-- Exposure: only `public` is exposed through PostgREST. Everything an API
-- role may call lives there, as SECURITY DEFINER functions with a fixed
-- search_path (pg_temp last) that check the caller themselves. `matching` and
-- `procrastinate` stay internal: no USAGE for anon/authenticated, and the
-- only functions of `matching` they may EXECUTE are the ones table CHECKs
-- and RLS policies call (listed in tests/db/test_rpc_lint.py with the reason).
--
-- Error codes (stable; PostgREST answers 400 for MTxxx, 403/401 for 42501,
-- 429 for PT429):
--   42501 permission        MT001 null argument       MT005 limit outside 1..100
--   MT010 min score range   MT011 unknown sort key    MT012 bad sub-score filter
--   MT013 unknown feedback  MT020 bad text field      MT021 bad value / range
--   MT022 inconsistent fields                         MT404 unknown id
--   MT503 job queue missing PT429 rate limit

-- What the read functions served, per minute: feeds matching_health().
-- Sharded by backend so concurrent readers do not queue on one row.
create table matching.serving_stats (
  bucket timestamptz not null,
  shard smallint not null,
  -- 'talent' (get_talent_matches) or 'job' (get_job_matches)
  side text not null,
  calls bigint not null default 0,
  rows_served bigint not null default 0,
  fallback_rows bigint not null default 0,
  primary key (bucket, shard, side)
);
comment on table matching.serving_stats is
  'Rows served by get_talent_matches/get_job_matches per minute, and how many were fallback scores.';
alter table matching.serving_stats enable row level security;
revoke all on matching.serving_stats from public, anon, authenticated;
grant all on matching.serving_stats to service_role;

-- ================================================================ read helpers

-- Shared argument checks of the read functions.
create function matching.check_read_args(p_limit integer, p_min_score numeric)
returns void
language plpgsql
stable
set search_path = ''
as $$
begin
  if p_limit is null or p_min_score is null then
    raise exception using errcode = 'MT001', message = 'p_limit and p_min_score must not be null';
  end if;
  if p_limit not between 1 and 100 then
    raise exception using errcode = 'MT005',
      message = format('p_limit must be between 1 and 100, got %s', p_limit);
  end if;
  -- numeric NaN sorts above every number, so it fails the range test
  if p_min_score not between 0 and 100 or p_min_score = 'NaN'::numeric then
    raise exception using errcode = 'MT010',
      message = format('p_min_score must be between 0 and 100, got %s', p_min_score);
  end if;
end
$$;

-- Category sub-scores of a stored explanation: known categories with numeric
-- values only, rounded to 0.1, so filters and sorts can rely on them.
-- The pure helpers below name pg_catalog objects only and are not SECURITY
-- DEFINER, so they carry no SET clause (it would cost a GUC save/restore per
-- row); they run with the empty search_path of the functions calling them.
create function matching.clean_sub_scores(p_explanation jsonb)
returns jsonb
language sql
immutable
parallel safe
as $$
  select coalesce(pg_catalog.jsonb_object_agg(e.key, pg_catalog.round(e.value::text::numeric, 1)), '{}')
  from pg_catalog.jsonb_each(
    case when pg_catalog.jsonb_typeof(p_explanation -> 'sub_scores') = 'object'
      then p_explanation -> 'sub_scores' else '{}'::jsonb end
  ) e
  where e.key in ('skills', 'experience', 'location', 'salary', 'culture', 'semantic')
    and pg_catalog.jsonb_typeof(e.value) = 'number'
$$;

-- One sub-score of a stored explanation, as clean_sub_scores reports it
-- (null when absent or not a number). No SET clause: the planner inlines it
-- into the filters and sorts of get_job_matches; it names pg_catalog only.
create function matching.sub_score(p_explanation jsonb, p_category text)
returns numeric
language sql
immutable
parallel safe
as $$
  select case
    when pg_catalog.jsonb_typeof(p_explanation -> 'sub_scores' -> p_category) = 'number'
    then pg_catalog.round((p_explanation -> 'sub_scores' ->> p_category)::numeric, 1)
  end
$$;

-- The first three top factors of a stored explanation ([] when absent).
create function matching.top_reasons(p_explanation jsonb)
returns jsonb
language sql
immutable
parallel safe
as $$
  select coalesce(pg_catalog.jsonb_agg(f.value order by f.ord), '[]')
  from pg_catalog.jsonb_array_elements(
    case when pg_catalog.jsonb_typeof(p_explanation -> 'top_factors') = 'array'
      then p_explanation -> 'top_factors' else '[]'::jsonb end
  ) with ordinality f (value, ord)
  where f.ord <= 3
$$;

revoke all on function matching.check_read_args(integer, numeric) from public;
revoke all on function matching.clean_sub_scores(jsonb) from public;
revoke all on function matching.sub_score(jsonb, text) from public;
revoke all on function matching.top_reasons(jsonb) from public;

-- What a company sees of a talent's match is coarsened where it could give
-- away where the talent lives: a recruiter controls the job's location and
-- could otherwise move a job around and triangulate a talent from precise
-- location sub-scores, scores or distance sentences. Scores are whole
-- numbers, the location sub-score moves in steps of 25, other sub-scores are
-- whole numbers, and reasons that speak about distance or commute are
-- dropped. The talent's own view (get_talent_matches) is not coarsened.
create function matching.company_sub_score(p_value numeric, p_category text)
returns numeric
language sql
immutable
parallel safe
as $$
  select case
    when p_value is null or p_category = 'culture' then null
    when p_category = 'location' then pg_catalog.round(p_value / 25) * 25
    else pg_catalog.round(p_value)
  end
$$;

-- ================================================== company view: culture

-- The culture sub-score of a pair is a function of the talent's stated
-- preferences and the company's own attributes; a company that varies its
-- attributes would read the preferences back. The company view has no
-- culture sub-score and no culture reason.

-- Which sub-scores and reasons a company sees: one expression each, inlined
-- wherever they are used (no SET clause, pg_catalog names only).
create function matching.company_sees_sub_score(p_category text)
returns boolean
language sql
immutable
parallel safe
as $$
  select p_category <> 'culture'
$$;

create function matching.company_sees_reason(p_reason jsonb)
returns boolean
language sql
immutable
parallel safe
as $$
  select coalesce(p_reason ->> 'feature', '') not in
           ('distance_km', 'commute_fit', 'timezone_overlap', 'location', 'location_missing',
            'industry_match', 'company_size_match', 'work_style_alignment', 'culture')
     and coalesce(p_reason ->> 'sentence', '') !~* '( km|commute|office|industry|company size|work style)'
$$;

create function matching.company_sub_scores(p_sub_scores jsonb)
returns jsonb
language sql
immutable
parallel safe
as $$
  select coalesce(pg_catalog.jsonb_object_agg(
           e.key, matching.company_sub_score(e.value::text::numeric, e.key)), '{}')
  from pg_catalog.jsonb_each(coalesce(p_sub_scores, '{}'::jsonb)) e
  where pg_catalog.jsonb_typeof(e.value) = 'number'
    and matching.company_sees_sub_score(e.key)
$$;

create function matching.company_reasons(p_reasons jsonb)
returns jsonb
language sql
immutable
parallel safe
as $$
  select coalesce(pg_catalog.jsonb_agg(r.value order by r.ord), '[]')
  from pg_catalog.jsonb_array_elements(coalesce(p_reasons, '[]'::jsonb)) with ordinality r (value, ord)
  where matching.company_sees_reason(r.value)
$$;

-- The company view of a stored explanation in one step: what
-- company_sub_scores(clean_sub_scores(e)) and company_reasons(top_reasons(e))
-- return (tests/db/test_privacy.py binds the two). A set-returning SQL
-- function without a SET clause is inlined into the calling query, so
-- get_job_matches pays no function call per row (the four calls cost ~1 ms
-- per 20 rows); the rules stay in the two predicates above.
create function matching.company_view(p_explanation jsonb)
returns table (sub_scores jsonb, top_reasons jsonb)
language sql
immutable
parallel safe
as $$
  select
    (select coalesce(pg_catalog.jsonb_object_agg(
              e.key, matching.company_sub_score(pg_catalog.round(e.value::text::numeric, 1), e.key)),
              '{}')
     from pg_catalog.jsonb_each(
       case when pg_catalog.jsonb_typeof(p_explanation -> 'sub_scores') = 'object'
         then p_explanation -> 'sub_scores' else '{}'::jsonb end
     ) e
     where e.key in ('skills', 'experience', 'location', 'salary', 'culture', 'semantic')
       and pg_catalog.jsonb_typeof(e.value) = 'number'
       and matching.company_sees_sub_score(e.key)),
    (select coalesce(pg_catalog.jsonb_agg(f.value order by f.ord), '[]')
     from pg_catalog.jsonb_array_elements(
       case when pg_catalog.jsonb_typeof(p_explanation -> 'top_factors') = 'array'
         then p_explanation -> 'top_factors' else '[]'::jsonb end
     ) with ordinality f (value, ord)
     where f.ord <= 3 and matching.company_sees_reason(f.value))
$$;

revoke all on function matching.company_sub_score(numeric, text) from public;
revoke all on function matching.company_sees_sub_score(text) from public;
revoke all on function matching.company_sees_reason(jsonb) from public;
revoke all on function matching.company_sub_scores(jsonb) from public;
revoke all on function matching.company_reasons(jsonb) from public;
revoke all on function matching.company_view(jsonb) from public;

-- ============================================================ read functions

-- Each branch records the order served in matching.served_lists (a
-- data-modifying CTE, `served`), ordered by the same keys as the result.

create function public.get_talent_matches(
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
set search_path = pg_catalog, pg_temp
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
    ),
    -- position bias: remember the order served (see matching.served_lists)
    served as (
      insert into matching.served_lists as s (side, entity_id, counterparts, first_rank, served_at)
      select 'talent', p_talent_id,
             coalesce(pg_catalog.array_agg(r.job_id
                        order by r.score desc, r.similarity desc nulls last, r.tiebreak), '{}'),
             1, pg_catalog.now()
      from r
      on conflict (side, entity_id) do update
        set counterparts = excluded.counterparts, first_rank = 1, served_at = excluded.served_at
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
  -- materialized: computed once (inlined, the call would run once per use of
  -- cand.ids below, i.e. twice)
  with cand as materialized (
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
  ),
  served as (
    insert into matching.served_lists as s (side, entity_id, counterparts, first_rank, served_at)
    select 'talent', p_talent_id,
           coalesce(pg_catalog.array_agg(r.job_id
                      order by r.score desc, r.similarity desc nulls last, r.tiebreak), '{}'),
           1, pg_catalog.now()
    from r
    on conflict (side, entity_id) do update
      set counterparts = excluded.counterparts, first_rank = 1, served_at = excluded.served_at
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

comment on function public.get_talent_matches(uuid, integer, numeric) is
  'Job matches of a talent, best first: the caller''s own talent profile (service_role: any).'
  ' Stored matches when there are any for open jobs, else fallback scores computed now.'
  ' Errors: 42501, MT001, MT005 (limit 1..100), MT010 (min score 0..100), MT404. See docs/api.md.';

create function public.get_job_matches(
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
set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_column
declare
  v_role text := matching.caller_role();
  v_company uuid;
  v_updated_at timestamptz;
  v_cap integer;
  v_key text;
  v_value jsonb;
  v_ids uuid[];
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
  -- culture is the talent's preference fit: companies neither see it nor
  -- sort or filter by it (an order by it would read the preferences back)
  if p_sort not in ('score', 'skills', 'experience', 'location', 'salary', 'semantic') then
    raise exception using errcode = 'MT011',
      message = format('p_sort must be one of score, skills, experience, location, salary,'
                       ' semantic (culture is not shown to companies); got %L', left(p_sort, 40));
  end if;
  if pg_catalog.jsonb_typeof(p_min_sub_scores) <> 'object' then
    raise exception using errcode = 'MT012',
      message = 'p_min_sub_scores must be an object such as {"skills": 60}';
  end if;
  for v_key, v_value in select e.key, e.value from pg_catalog.jsonb_each(p_min_sub_scores) e loop
    if v_key not in ('skills', 'experience', 'location', 'salary', 'semantic') then
      raise exception using errcode = 'MT012',
        message = format('p_min_sub_scores: unknown sub-score %L; expected skills, experience,'
                         ' location, salary or semantic (culture is not shown to companies)',
                         left(v_key, 40));
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

  -- Stored matches. First the talents to show, in the order served; then
  -- their rows. Sorted by score with no sub-score filter (the default), the
  -- order is that of matches_job_rank_idx (the planner may read its first
  -- entries and stop; no sort key is computed per row); a sub-score sort or
  -- filter computes one for each of the job's rows. (m.score >= p_min_score
  -- - 1 is implied by the rounded test; the index can skip rows far below.)
  if p_sort = 'score' and p_min_sub_scores = '{}'::jsonb then
    v_ids := array(
      select m.talent_id
      from public.matches m
      join public.talents t on t.id = m.talent_id and t.open_to_work
      where m.job_id = p_job_id and m.score >= p_min_score - 1
        and pg_catalog.round(m.score::numeric) >= p_min_score
      order by m.score desc, m.similarity desc nulls last, m.tiebreak
      limit p_limit
    );
  else
    v_ids := array(
      select m.talent_id
      from public.matches m
      join public.talents t on t.id = m.talent_id and t.open_to_work
      where m.job_id = p_job_id and m.score >= p_min_score - 1
        and pg_catalog.round(m.score::numeric) >= p_min_score
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
    );
  end if;

  -- stored matches but none passes the filters: an empty list, not the fallback
  if pg_catalog.cardinality(v_ids) > 0 or exists (
    select 1 from public.matches m join public.talents t on t.id = m.talent_id
    where m.job_id = p_job_id and t.open_to_work
  ) then
    return query
    with r as materialized (
      select u.ord, m.talent_id, m.score, m.source, m.model_version, m.computed_at,
             m.explanation, t.updated_at as talent_updated_at
      from pg_catalog.unnest(v_ids) with ordinality u (talent_id, ord)
      join public.matches m on m.talent_id = u.talent_id and m.job_id = p_job_id
      join public.talents t on t.id = u.talent_id and t.open_to_work
    ),
    stats as (
      insert into matching.serving_stats as s (bucket, shard, side, calls, rows_served, fallback_rows)
      select pg_catalog.date_trunc('minute', pg_catalog.now()), pg_catalog.pg_backend_pid() % 16,
             'job', 1, count(*), count(*) filter (where r.source = 'fallback')
      from r
      on conflict (bucket, shard, side) do update
        set calls = s.calls + 1, rows_served = s.rows_served + excluded.rows_served,
            fallback_rows = s.fallback_rows + excluded.fallback_rows
    ),
    served as (
      insert into matching.served_lists as s (side, entity_id, counterparts, first_rank, served_at)
      select 'company', p_job_id, coalesce(pg_catalog.array_agg(r.talent_id order by r.ord), '{}'),
             1, pg_catalog.now()
      from r
      on conflict (side, entity_id) do update
        set counterparts = excluded.counterparts, first_rank = 1, served_at = excluded.served_at
    ),
    -- the talents' skills, most proficient first: one join for all rows (a
    -- subquery per row would scan the skills table once per row)
    k as (
      select ts.talent_id, pg_catalog.array_agg(sk.name order by ts.proficiency desc, sk.name) as names
      from r
      join public.talent_skills ts on ts.talent_id = r.talent_id
      join public.skills sk on sk.id = ts.skill_id
      group by ts.talent_id
    )
    select t.id, t.headline, t.experience_level, t.years_experience, t.city, t.country_code,
           t.timezone, t.remote_preference, t.salary_min, t.salary_max, t.salary_currency,
           coalesce(k.names, '{}'), pg_catalog.round(r.score::numeric), r.source, r.model_version,
           cv.sub_scores, cv.top_reasons, r.score > 80, r.computed_at,
           r.talent_updated_at > r.computed_at or v_updated_at > r.computed_at,
           array(select f.feedback_type::text from public.match_feedback f
                 where f.talent_id = t.id and f.job_id = p_job_id
                   and (f.actor = 'company' or f.feedback_type = 'applied')
                 order by f.feedback_type)
    from r
    join public.talents t on t.id = r.talent_id
    left join k on k.talent_id = r.talent_id
    cross join lateral matching.company_view(r.explanation) cv
    order by r.ord;
    return;
  end if;

  -- No stored match: score the most promising talents now. Only the rows
  -- served get an explanation (matching.fallback_explanation costs more than
  -- the score); sort and filter read the sub-scores as it would round them.
  select coalesce((select a.fallback_candidates from matching.api_settings a where a.id), 1000)
    into v_cap;
  return query
  -- materialized: computed once (inlined, the call would run once per use of
  -- cand.ids below, i.e. twice)
  with cand as materialized (
    select matching.fallback_candidates_for_job(p_job_id, v_cap) as ids
  ),
  scored as materialized (
    select f.talent_id, f.score, f.skills_score, f.experience_score, f.location_score,
           f.salary_score, f.culture_score, f.failed_constraints, f.semantic_score,
           f.similarity, f.unscored,
           matching.pair_tiebreak(f.talent_id, p_job_id) as tiebreak
    from cand,
         matching.fallback_score_pairs(
           cand.ids, pg_catalog.array_fill(p_job_id, array[pg_catalog.cardinality(cand.ids)])) f
    where pg_catalog.round(f.score::numeric) >= p_min_score
  ),
  r as materialized (
    select x.*,
           case when p_sort = 'score' then x.score::numeric
                else matching.company_sub_score(pg_catalog.round((case p_sort
                       when 'skills' then x.skills_score when 'experience' then x.experience_score
                       when 'location' then x.location_score when 'salary' then x.salary_score
                       when 'culture' then x.culture_score when 'semantic' then x.semantic_score
                     end)::numeric, 1), p_sort) end as sort_key
    from scored x
    where p_min_sub_scores = '{}'::jsonb or not exists (
      select 1 from pg_catalog.jsonb_each(p_min_sub_scores) f
      where coalesce(matching.company_sub_score(pg_catalog.round((case f.key
                       when 'skills' then x.skills_score when 'experience' then x.experience_score
                       when 'location' then x.location_score when 'salary' then x.salary_score
                       when 'culture' then x.culture_score when 'semantic' then x.semantic_score
                     end)::numeric, 1), f.key), -1)
            < f.value::text::numeric
    )
    order by sort_key desc nulls last, x.score desc, x.similarity desc nulls last, x.tiebreak
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
  ),
  served as (
    insert into matching.served_lists as s (side, entity_id, counterparts, first_rank, served_at)
    select 'company', p_job_id,
           coalesce(pg_catalog.array_agg(r.talent_id
             order by r.sort_key desc nulls last, r.score desc, r.similarity desc nulls last,
                      r.tiebreak), '{}'),
           1, pg_catalog.now()
    from r
    on conflict (side, entity_id) do update
      set counterparts = excluded.counterparts, first_rank = 1, served_at = excluded.served_at
  )
  select t.id, t.headline, t.experience_level, t.years_experience, t.city, t.country_code,
         t.timezone, t.remote_preference, t.salary_min, t.salary_max, t.salary_currency,
         array(select sk.name from public.talent_skills ts join public.skills sk on sk.id = ts.skill_id
                 where ts.talent_id = t.id order by ts.proficiency desc, sk.name),
         pg_catalog.round(r.score::numeric), 'fallback'::public.match_source, null::text,
         matching.company_sub_scores(e.sub_scores), matching.company_reasons(e.top_reasons),
         r.score > 80, pg_catalog.now(), false,
         array(select f.feedback_type::text from public.match_feedback f
               where f.talent_id = t.id and f.job_id = p_job_id
                 and (f.actor = 'company' or f.feedback_type = 'applied')
               order by f.feedback_type)
  from r
  join public.talents t on t.id = r.talent_id
  cross join lateral matching.fallback_explanation(
    r.score, r.skills_score, r.experience_score, r.location_score, r.salary_score,
    r.culture_score, r.semantic_score, r.failed_constraints, r.unscored) e
  order by r.sort_key desc nulls last, r.score desc, r.similarity desc nulls last, r.tiebreak;
end
$$;

comment on function public.get_job_matches(uuid, integer, numeric, text, jsonb) is
  'Talent matches of a job for members of its company (service_role: any), talents open to work'
  ' only, sorted by score or a sub-score, filtered by minimum score and sub-scores. Stored'
  ' matches when there are any, else fallback scores computed now. Errors: 42501, MT001, MT005,'
  ' MT010, MT011 (sort), MT012 (sub-score filter), MT404. See docs/api.md.';

revoke all on function public.get_talent_matches(uuid, integer, numeric) from public, anon;
revoke all on function public.get_job_matches(uuid, integer, numeric, text, jsonb) from public, anon;
grant execute on function public.get_talent_matches(uuid, integer, numeric) to authenticated, service_role;
grant execute on function public.get_job_matches(uuid, integer, numeric, text, jsonb)
  to authenticated, service_role;

-- Learning trust: feedback knows where its pair was shown, and one account's
-- feedback is bounded per day.
--
-- * matching.served_lists keeps, per viewer side and entity, the order of the
--   list the read functions served last; a feedback row copies the rank its
--   pair had there (match_feedback.shown_rank). Training and the activation
--   gate weight feedback by the inverse examination propensity of that rank
--   (matching/training/feedback_weights.py), so what users clicked at the top of a list
--   does not read as "better" merely for being on top.
-- * matching.api_settings.feedback_daily_cap bounds the feedback rows one
--   account writes in 24 hours (MT030), separately from the request rate
--   limit: the rate limit slows a flood, the cap ends it.

-- ============================================================ served lists

create table matching.served_lists (
  side public.feedback_actor not null,
  -- the talent (side 'talent') or the job (side 'company') whose list it is
  entity_id uuid not null,
  -- counterparts in the order served: position + offset = the rank shown
  counterparts uuid[] not null
    constraint served_lists_bounded check (pg_catalog.cardinality(counterparts) <= 500),
  first_rank integer not null default 1
    constraint served_lists_first_rank check (first_rank >= 1),
  served_at timestamptz not null default pg_catalog.now(),
  primary key (side, entity_id)
);
comment on table matching.served_lists is
  'The last list served to each side of each entity (by get_talent_matches/get_job_matches):'
  ' feedback copies its pair''s rank from here (match_feedback.shown_rank). One row per'
  ' entity and side, overwritten on every read.';
revoke all on matching.served_lists from public;
-- read and written only by the owner's functions; RLS without policies
-- keeps every other role out even if a grant slips in later
alter table matching.served_lists enable row level security;

-- ======================================================== feedback columns

alter table public.match_feedback
  add column shown_rank integer
    constraint match_feedback_shown_rank_range check (shown_rank between 1 and 10000);
comment on column public.match_feedback.shown_rank is
  'Rank (1 = top) at which the acting side was last shown this pair, null when it never was'
  ' (e.g. feedback by id from a link). Weights the row in training (position bias).';

-- the daily cap counts an account's rows of the last 24 hours
create index match_feedback_actor_user_created_idx
  on public.match_feedback (actor_user_id, created_at)
  where actor_user_id is not null;

alter table matching.api_settings
  add column feedback_daily_cap integer not null default 200
    constraint api_settings_feedback_daily_cap check (feedback_daily_cap between 1 and 100000);
comment on column matching.api_settings.feedback_daily_cap is
  'Feedback rows one account may write per 24 hours (MT030 beyond it).';

-- ================================================================ the guard

-- Before a feedback row is written: refuse it past the account's daily cap,
-- and stamp the rank at which its side was shown the pair. Runs for every
-- writer (record_match_feedback as owner, service_role, psql), so the cap
-- cannot be sidestepped by another entry point; rows without an account
-- (service_role, a deleted user) are not capped.
create function matching.match_feedback_guard()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_cap integer;
  v_recent bigint;
  v_list matching.served_lists%rowtype;
  v_pos integer;
begin
  -- a repeat of recorded feedback is answered by the existing row
  -- (record_match_feedback's on conflict): it neither counts nor is refused
  if exists (select 1 from public.match_feedback f
             where f.talent_id = new.talent_id and f.job_id = new.job_id
               and f.feedback_type = new.feedback_type) then
    return new;
  end if;
  if new.actor_user_id is not null then
    select a.feedback_daily_cap into v_cap from matching.api_settings a where a.id;
    v_cap := coalesce(v_cap, 200);
    -- one account's concurrent requests queue here, so the count is exact
    perform pg_catalog.pg_advisory_xact_lock(
      pg_catalog.hashtextextended('match_feedback_guard:' || new.actor_user_id::text, 0));
    select count(*) into v_recent
    from public.match_feedback f
    where f.actor_user_id = new.actor_user_id
      and f.created_at > pg_catalog.now() - interval '24 hours';
    if v_recent >= v_cap then
      raise exception using errcode = 'MT030',
        message = format('daily feedback limit reached: %s rows in 24 hours', v_cap),
        hint = 'Feedback counts per account and day; try again tomorrow.';
    end if;
  end if;

  if new.shown_rank is null then
    select * into v_list
    from matching.served_lists s
    where s.side = new.actor
      and s.entity_id = case when new.actor = 'talent' then new.talent_id else new.job_id end;
    if found then
      v_pos := pg_catalog.array_position(
        v_list.counterparts, case when new.actor = 'talent' then new.job_id else new.talent_id end);
      if v_pos is not null then
        new.shown_rank := v_list.first_rank + v_pos - 1;
      end if;
    end if;
  end if;
  return new;
end
$$;
comment on function matching.match_feedback_guard() is
  'BEFORE INSERT on match_feedback: the per-account daily cap (MT030) and shown_rank.';
revoke all on function matching.match_feedback_guard() from public;

create trigger match_feedback_guard
  before insert on public.match_feedback
  for each row execute function matching.match_feedback_guard();

-- ====================================================== the read functions

-- As in 20261201090000_text_in_every_score.sql, plus one data-modifying CTE
-- per branch (`served`) that records the order served in
-- matching.served_lists; search_path as set by 20261202100000_privacy.sql.
-- The served array is ordered by the same keys as the result.

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
    ),
    served as (
      insert into matching.served_lists as s (side, entity_id, counterparts, first_rank, served_at)
      select 'company', p_job_id,
             coalesce(pg_catalog.array_agg(r.talent_id
               order by case when p_sort = 'score' then r.score::numeric
                             else matching.company_sub_score(
                                    matching.sub_score(r.explanation, p_sort), p_sort) end
                        desc nulls last,
                        r.score desc, r.similarity desc nulls last, r.tiebreak), '{}'),
             1, pg_catalog.now()
      from r
      on conflict (side, entity_id) do update
        set counterparts = excluded.counterparts, first_rank = 1, served_at = excluded.served_at
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
  ),
  served as (
    insert into matching.served_lists as s (side, entity_id, counterparts, first_rank, served_at)
    select 'company', p_job_id,
           coalesce(pg_catalog.array_agg(r.talent_id
             order by case when p_sort = 'score' then r.score::numeric
                           else matching.company_sub_score((r.sub_scores ->> p_sort)::numeric,
                                                           p_sort) end
                      desc nulls last,
                      r.score desc, r.similarity desc nulls last, r.tiebreak), '{}'),
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



-- The public API, write and admin side: feedback, rate limiting and the
-- admin entry points. Error codes: see the read API migration.

-- ================================================================ feedback

-- Returns no score, source or model version (they stay in match_feedback for
-- training); feedback needs a pair that could be shown.
create function public.record_match_feedback(
  p_talent_id uuid,
  p_job_id uuid,
  p_feedback_type text
)
returns table (
  feedback_id bigint,
  talent_id uuid,
  job_id uuid,
  feedback_type public.feedback_type,
  actor public.feedback_actor,
  created_at timestamptz,
  created boolean
)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_column
declare
  v_role text := matching.caller_role();
  v_type public.feedback_type;
  v_actor public.feedback_actor;
  v_talent public.talents%rowtype;
  v_job public.jobs%rowtype;
  v_match public.matches%rowtype;
  v_score real;
  v_source public.match_source;
  v_version text;
  v_features real[];
  v_uid uuid;
  v_id bigint;
begin
  if v_role = 'anon' then
    raise exception using errcode = '42501', message = 'sign in to record feedback';
  end if;
  if p_talent_id is null or p_job_id is null or p_feedback_type is null then
    raise exception using errcode = 'MT001',
      message = 'p_talent_id, p_job_id and p_feedback_type must not be null';
  end if;
  if not p_feedback_type = any (pg_catalog.enum_range(null::public.feedback_type)::text[]) then
    raise exception using errcode = 'MT013',
      message = pg_catalog.format('p_feedback_type must be one of applied, interested, dismissed (talents) or'
                       ' contacted, shortlisted, rejected (companies); got %L',
                       pg_catalog.left(p_feedback_type, 40));
  end if;
  v_type := p_feedback_type::public.feedback_type;
  v_actor := case when v_type in ('applied', 'interested', 'dismissed')
                  then 'talent'::public.feedback_actor else 'company'::public.feedback_actor end;

  select * into v_talent from public.talents t where t.id = p_talent_id;
  if not found then
    raise exception using errcode = 'MT404', message = pg_catalog.format('unknown talent %s', p_talent_id);
  end if;
  select * into v_job from public.jobs j where j.id = p_job_id;
  if not found then
    raise exception using errcode = 'MT404', message = pg_catalog.format('unknown job %s', p_job_id);
  end if;
  v_uid := case when v_role = 'authenticated' then (select auth.uid()) end;
  if v_role = 'authenticated' then
    if v_actor = 'talent' and (v_uid is null or v_talent.user_id is distinct from v_uid) then
      raise exception using errcode = '42501',
        message = pg_catalog.format('%s is recorded by the talent, for their own profile only', v_type);
    end if;
    if v_actor = 'company' and not exists (
      select 1 from public.company_members m where m.company_id = v_job.company_id and m.user_id = v_uid
    ) then
      raise exception using errcode = '42501',
        message = pg_catalog.format('%s is recorded by members of the job''s company only', v_type);
    end if;
    -- block "showable": the pair must be one the caller could have been
    -- shown, stored match or not: an open job (talent side), a talent open
    -- to work (company side). Same answer as an unknown id: no probing.
    if v_actor = 'talent' and v_job.status <> 'open' then
      raise exception using errcode = 'MT404', message = pg_catalog.format('unknown job %s', p_job_id);
    end if;
    if v_actor = 'company' and not v_talent.open_to_work then
      raise exception using errcode = 'MT404', message = pg_catalog.format('unknown talent %s', p_talent_id);
    end if;
  end if;

  select * into v_match from public.matches m where m.talent_id = p_talent_id and m.job_id = p_job_id;
  if found then
    v_score := v_match.score;
    v_source := v_match.source;
    v_version := v_match.model_version;
    v_features := v_match.features;
  else
    select f.score::real into v_score
    from matching.fallback_score_pairs(array[p_talent_id], array[p_job_id]) f;
    v_source := 'fallback';
  end if;

  insert into public.match_feedback as mf
    (talent_id, job_id, feedback_type, actor, actor_user_id, score, source, model_version, features)
  values (p_talent_id, p_job_id, v_type, v_actor,
          (select u.id from auth.users u where u.id = v_uid),
          v_score, v_source, v_version, v_features)
  on conflict on constraint match_feedback_once do nothing
  returning mf.id into v_id;

  return query
  select f.id, f.talent_id, f.job_id, f.feedback_type, f.actor, f.created_at, v_id is not null
  from public.match_feedback f
  where f.talent_id = p_talent_id and f.job_id = p_job_id and f.feedback_type = v_type;
end
$$;
comment on function public.record_match_feedback(uuid, uuid, text) is
  'Record feedback on a (talent, job) pair that could be shown, idempotently: talents record'
  ' applied, interested, dismissed for open jobs; company members record contacted, shortlisted,'
  ' rejected for talents open to work. Returns no score. Errors: 42501, MT001, MT013, MT404.'
  ' See docs/api.md.';
revoke all on function public.record_match_feedback(uuid, uuid, text) from public, anon;
grant execute on function public.record_match_feedback(uuid, uuid, text) to authenticated, service_role;

-- Request counters of the rate limiter: one row per subject and fixed window.
create table matching.rate_limit_counters (
  -- 'user:<jwt sub>' or 'ip:<address>' ('ip:unknown' without a usable header)
  subject text not null,
  window_start timestamptz not null,
  requests integer not null default 1,
  primary key (subject, window_start)
);
-- cleanup deletes by age
create index rate_limit_counters_window_start_idx on matching.rate_limit_counters (window_start);
comment on table matching.rate_limit_counters is
  'Rate limiter: requests per subject (user or IP) and fixed window. Old windows are purged.';

alter table matching.rate_limit_counters enable row level security;
revoke all on matching.rate_limit_counters from public, anon, authenticated;
grant all on matching.rate_limit_counters to service_role;

-- ============================================================ rate limiting

-- Client IP of an anonymous request: last entry of the configured header in
-- PostgREST's request.headers; IPv6 addresses are grouped by /64.
create function matching.client_ip(p_header text)
returns text
language plpgsql
stable
set search_path = ''
as $$
declare
  v_raw text;
  v_ip inet;
begin
  begin
    v_raw := nullif(pg_catalog.current_setting('request.headers', true), '')::jsonb ->> p_header;
    -- right-most hop: the one the last (trusted) proxy appended; entries to
    -- its left are whatever the client sent
    v_ip := pg_catalog.btrim(pg_catalog.split_part(v_raw, ',', -1))::inet;
  exception when others then
    v_ip := null;
  end;
  if v_ip is null then
    return 'unknown';
  end if;
  if pg_catalog.family(v_ip) = 6 then
    return pg_catalog.network(pg_catalog.set_masklen(v_ip, 64))::text;
  end if;
  return pg_catalog.host(v_ip);
end
$$;

-- PostgREST's db-pre-request hook: runs in each request's transaction before
-- the request itself. At most rate_limit_requests per fixed window of
-- rate_limit_window_seconds per user (per client IP for anonymous callers);
-- the next request answers HTTP 429 (PT429). service_role is exempt.
-- One indexed upsert per request; a blocked request rolls its own increment
-- back. Read-only transactions (GET/HEAD, STABLE functions) cannot write, so
-- they are refused once the window is full but are not counted.
create function public.check_rate_limit()
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_role text := matching.caller_role();
  v_enabled boolean := true;
  v_limit integer := 100;
  v_window integer := 60;
  v_header text := 'x-forwarded-for';
  v_sub text;
  v_subject text;
  v_start timestamptz;
  v_count integer;
begin
  if v_role not in ('anon', 'authenticated') then
    return;
  end if;
  select a.rate_limit_enabled, a.rate_limit_requests, a.rate_limit_window_seconds, a.client_ip_header
    into v_enabled, v_limit, v_window, v_header
  from matching.api_settings a where a.id;
  if not found then
    v_enabled := true; v_limit := 100; v_window := 60; v_header := 'x-forwarded-for';
  end if;
  if not v_enabled then
    return;
  end if;
  if v_role = 'authenticated' then
    begin
      v_sub := nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub';
    exception when others then
      v_sub := null;
    end;
  end if;
  if v_role = 'authenticated' and v_sub is null then
    -- a signed-in token without a subject must not fall back to the
    -- spoofable per-IP bucket
    raise exception using errcode = '42501', message = 'the token has no subject';
  end if;
  v_subject := case when v_sub is not null then 'user:' || left(v_sub, 200)
                    else 'ip:' || matching.client_ip(v_header) end;
  v_start := pg_catalog.date_bin(pg_catalog.make_interval(secs => v_window), pg_catalog.now(),
                                 timestamptz '2000-01-01 00:00:00+00');

  if pg_catalog.current_setting('transaction_read_only') = 'on' then
    select c.requests into v_count from matching.rate_limit_counters c
    where c.subject = v_subject and c.window_start = v_start;
    v_count := coalesce(v_count, 0) + 1;
  else
    insert into matching.rate_limit_counters as c (subject, window_start, requests)
    values (v_subject, v_start, 1)
    on conflict (subject, window_start) do update set requests = c.requests + 1
    returning c.requests into v_count;
    if v_count = 1 then
      -- first request of this subject in this window: purge a bounded batch
      -- of expired windows, skipping rows other requests hold
      delete from matching.rate_limit_counters c
      where (c.subject, c.window_start) in (
        select o.subject, o.window_start from matching.rate_limit_counters o
        where o.window_start < v_start - pg_catalog.make_interval(secs => v_window)
        limit 100
        for update skip locked
      );
    end if;
  end if;
  if v_count > v_limit then
    raise sqlstate 'PT429' using
      message = format('rate limit exceeded: at most %s requests per %s seconds', v_limit, v_window),
      detail = format('subject: %s', split_part(v_subject, ':', 1)),
      hint = format('retry in %s seconds',
                    ceil(extract(epoch from v_start + pg_catalog.make_interval(secs => v_window)
                                            - pg_catalog.clock_timestamp()))::integer);
  end if;
end
$$;

comment on function public.check_rate_limit() is
  'PostgREST db-pre-request hook: at most matching.api_settings.rate_limit_requests per window per'
  ' user (per IP for anonymous callers); raises PT429 (HTTP 429). service_role is exempt.';

-- For a periodic task or cron: drop expired rate-limit windows and serving
-- stats older than a day. Returns the rows deleted.
create function matching.purge_api_counters()
returns bigint
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_window integer;
  v_a bigint;
  v_b bigint;
begin
  select coalesce((select a.rate_limit_window_seconds from matching.api_settings a where a.id), 60)
    into v_window;
  delete from matching.rate_limit_counters c
  where c.window_start < pg_catalog.now() - pg_catalog.make_interval(secs => 2 * v_window);
  get diagnostics v_a = row_count;
  delete from matching.serving_stats s where s.bucket < pg_catalog.now() - interval '1 day';
  get diagnostics v_b = row_count;
  return v_a + v_b;
end
$$;

-- ============================================================== admin functions

-- Enqueue one model retrain. However often it is called, at most one
-- retrain is pending (procrastinate's queueing_lock); force => true upgrades
-- a pending one. Admins only.
--
-- search_path = pg_catalog, procrastinate, pg_temp rather than pg_catalog,
-- pg_temp: procrastinate's own triggers on its jobs table call its
-- functions, whose bodies name its tables unqualified, and they
-- inherit this path. The exception is safe:
-- `procrastinate` is internal (API roles have no USAGE, let alone CREATE),
-- pg_temp comes last, and every name in this body is qualified.
create function matching.request_retrain(force boolean default false)
returns table (job_id bigint, enqueued boolean, forced boolean)
language plpgsql
volatile
security definer
set search_path = pg_catalog, procrastinate, pg_temp
as $$
declare
  v_id bigint;
  v_args jsonb;
begin
  perform matching.assert_admin();
  if force is null then
    raise exception using errcode = 'MT001', message = 'force must not be null';
  end if;
  if pg_catalog.to_regclass('procrastinate.procrastinate_jobs') is null then
    raise exception using errcode = 'MT503',
      message = 'the job queue is not installed; run `matching migrate` or `supabase db push`';
  end if;
  for attempt in 1..3 loop
    insert into procrastinate.procrastinate_jobs
      (queue_name, task_name, priority, lock, queueing_lock, args)
    values ('retrain', 'matching:retrain', 0, 'retrain', 'retrain',
            pg_catalog.jsonb_build_object('force', force))
    on conflict (queueing_lock) where status = 'todo' do nothing
    returning procrastinate_jobs.id into v_id;
    if v_id is not null then
      return query select v_id, true, force;
      return;
    end if;
    select pj.id, pj.args into v_id, v_args
    from procrastinate.procrastinate_jobs pj
    where pj.queueing_lock = 'retrain' and pj.status = 'todo';
    if v_id is not null then
      if force and coalesce(v_args ->> 'force', 'false') <> 'true' then
        update procrastinate.procrastinate_jobs pj
          set args = pj.args || '{"force": true}'::jsonb
        where pj.id = v_id and pj.status = 'todo';
        v_args := v_args || '{"force": true}'::jsonb;
      end if;
      return query select v_id, false, coalesce(v_args ->> 'force', 'false') = 'true';
      return;
    end if;
    -- the pending job was picked up between the two statements: try again
    -- (attempt counts the tries)
  end loop;
  raise exception using errcode = 'MT503', message = 'could not enqueue the retrain, try again';
end
$$;

comment on function matching.request_retrain(boolean) is
  'Enqueue one model retrain (admins only); at most one is ever pending. Returns the pending job,'
  ' whether this call created it and whether it is forced. Errors: 42501, MT001, MT503.';

-- API entry points of the admin functions: `matching` is not exposed, so
-- PostgREST (and an admin JWT) reaches them through these.
create function public.request_retrain(p_force boolean default false)
returns table (job_id bigint, enqueued boolean, forced boolean)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  perform matching.assert_admin();
  return query select r.job_id, r.enqueued, r.forced from matching.request_retrain(p_force) r;
end
$$;

create function public.activate_model(p_version text)
returns text
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  perform matching.assert_admin();
  if p_version is null then
    raise exception using errcode = 'MT001', message = 'p_version must not be null';
  end if;
  if p_version !~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' then
    raise exception using errcode = 'MT404',
      message = format('unknown model version %L', left(p_version, 64));
  end if;
  -- matching.activate_model checks the caller again (the `role` setting is
  -- still the API role here) and records admin:<sub> as the activator
  return matching.activate_model(p_version, 'activate');
end
$$;

create function public.rollback_model()
returns text
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  perform matching.assert_admin();
  return matching.rollback_model();
end
$$;

comment on function public.request_retrain(boolean) is
  'Admins: enqueue one model retrain (see matching.request_retrain). Errors: 42501, MT001, MT503.';
comment on function public.activate_model(text) is
  'Admins: make a registered model version the active one. Errors: 42501, MT001, MT404.';
comment on function public.rollback_model() is
  'Admins: re-activate the previously active model version. Errors: 42501, MT404.';

-- ====================================================================== grants

revoke all on function matching.client_ip(text) from public;
revoke all on function matching.request_retrain(boolean) from public;
revoke all on function matching.purge_api_counters() from public;
grant execute on function matching.request_retrain(boolean) to service_role;
grant execute on function matching.purge_api_counters() to service_role;
revoke all on function public.request_retrain(boolean) from public, anon;
revoke all on function public.activate_model(text) from public, anon;
revoke all on function public.rollback_model() from public, anon;
revoke all on function public.check_rate_limit() from public;
grant execute on function public.request_retrain(boolean) to authenticated, service_role;
grant execute on function public.activate_model(text) to authenticated, service_role;
grant execute on function public.rollback_model() to authenticated, service_role;
-- every request runs the hook under its own role, anonymous ones included
grant execute on function public.check_rate_limit() to anon, authenticated, service_role;

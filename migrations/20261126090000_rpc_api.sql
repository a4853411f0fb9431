-- The public API: RPC functions, row-level security policies and grants,
-- rate limiting and input validation. docs/api.md documents every function,
-- argument, column and error code; keep the two in step.
--
-- Exposure: only `public` is exposed through PostgREST. Everything an API
-- role may call lives there, as SECURITY DEFINER functions with an empty
-- search_path that check the caller themselves. `matching` and
-- `procrastinate` stay internal: no USAGE for anon/authenticated, and the
-- only functions of `matching` they may EXECUTE are the ones table CHECKs
-- and RLS policies call (listed in tests/test_rpc_lint.py with the reason).
--
-- Error codes (stable; PostgREST answers 400 for MTxxx, 403/401 for 42501,
-- 429 for PT429):
--   42501 permission        MT001 null argument       MT005 limit outside 1..100
--   MT010 min score range   MT011 unknown sort key    MT012 bad sub-score filter
--   MT013 unknown feedback  MT020 bad text field      MT021 bad value / range
--   MT022 inconsistent fields                         MT404 unknown id
--   MT503 job queue missing PT429 rate limit

-- ===================================================================== settings

-- One row of API settings. Changed by service_role or the owner (an UPDATE
-- in the SQL editor); a trigger validates it (no CHECKs: every CHECK in
-- public/matching must have a case in tests/test_constraints.py).
create table matching.api_settings (
  id boolean primary key default true,
  rate_limit_enabled boolean not null default true,
  -- requests per window per user (per IP for anonymous callers)
  rate_limit_requests integer not null default 100,
  rate_limit_window_seconds integer not null default 60,
  -- request header holding the client IP for anonymous callers (lower case,
  -- as PostgREST stores request.headers); its first comma-separated entry is used
  client_ip_header text not null default 'x-forwarded-for',
  -- candidates the on-the-fly fallback scores per request (see get_talent_matches)
  fallback_candidates integer not null default 1000,
  updated_at timestamptz not null default now()
);
comment on table matching.api_settings is
  'API settings (one row): rate limit, client IP header, fallback candidate cap.';

create function matching.api_settings_validate()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.id is distinct from true then
    raise exception using errcode = 'MT021', message = 'api_settings holds exactly one row (id = true)';
  end if;
  if new.rate_limit_requests is null or new.rate_limit_requests not between 1 and 1000000 then
    raise exception using errcode = 'MT021',
      message = 'rate_limit_requests must be between 1 and 1000000';
  end if;
  if new.rate_limit_window_seconds is null
     or new.rate_limit_window_seconds not between 1 and 86400 then
    raise exception using errcode = 'MT021',
      message = 'rate_limit_window_seconds must be between 1 and 86400';
  end if;
  if new.client_ip_header is null or new.client_ip_header !~ '^[a-z0-9-]{1,100}$' then
    raise exception using errcode = 'MT021',
      message = 'client_ip_header must be a lower-case header name';
  end if;
  if new.fallback_candidates is null or new.fallback_candidates not between 100 and 20000 then
    raise exception using errcode = 'MT021',
      message = 'fallback_candidates must be between 100 and 20000';
  end if;
  new.updated_at := pg_catalog.now();
  return new;
end
$$;
create trigger api_settings_validate
  before insert or update on matching.api_settings
  for each row execute function matching.api_settings_validate();
insert into matching.api_settings default values;

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

alter table matching.api_settings enable row level security;
alter table matching.rate_limit_counters enable row level security;
alter table matching.serving_stats enable row level security;
revoke all on matching.api_settings, matching.rate_limit_counters, matching.serving_stats
  from public, anon, authenticated;
grant all on matching.api_settings, matching.rate_limit_counters, matching.serving_stats
  to service_role;
revoke all on function matching.api_settings_validate() from public;

-- ================================================================ who is calling

-- The API role of the caller: 'anon', 'authenticated', 'service_role', or
-- 'internal' (the owner, a DBA in psql, the worker). PostgREST runs
-- `set local role`, and the `role` setting stays visible inside SECURITY
-- DEFINER functions, where current_user is the owner.
create function matching.caller_role()
returns text
language sql
stable
set search_path = ''
as $$
  select case
    when r in ('anon', 'authenticated', 'service_role') then r
    -- PostgREST's login role never runs a request without `set role`;
    -- should it, it gets the least
    when r = 'authenticator' then 'anon'
    else 'internal'
  end
  from (
    select coalesce(nullif(pg_catalog.current_setting('role', true), 'none'), session_user::text) as r
  ) s
$$;

-- Admins: service_role, internal roles, or an authenticated JWT whose
-- app_metadata.role is 'admin' (app_metadata is server-controlled in
-- Supabase; user_metadata is not and does not count). Returns who, for logs.
-- Replaces the first version from the model-registry migration, so every
-- admin function (activate_model, rollback_model, request_retrain,
-- matching_health) shares this one check.
create or replace function matching.assert_admin()
returns text
language plpgsql
stable
set search_path = ''
as $$
declare
  v_role text := matching.caller_role();
  v_claims jsonb;
begin
  if v_role = 'service_role' then
    return v_role;
  end if;
  if v_role = 'internal' then
    return coalesce(nullif(pg_catalog.current_setting('role', true), 'none'), session_user::text);
  end if;
  if v_role = 'authenticated' then
    v_claims := auth.jwt();
    if coalesce(v_claims -> 'app_metadata' ->> 'role', '') = 'admin' then
      return 'admin:' || coalesce(v_claims ->> 'sub', '?');
    end if;
  end if;
  raise exception using errcode = '42501', message = 'this function is for admins only',
    hint = 'admins are service_role or users whose app_metadata.role is admin';
end
$$;

-- ---------------------------------------------------------- RLS policy helpers
-- SECURITY DEFINER so a policy on one table can look at another without
-- recursing through that table's policies. They only ever answer questions
-- about the caller (auth.uid()), so executing them reveals nothing else.
-- Policies reference them by OID: API roles need EXECUTE, not schema USAGE.

create function matching.current_talent_id()
returns uuid
language sql
stable
security definer
set search_path = ''
as $$
  select t.id from public.talents t where t.user_id = (select auth.uid())
$$;

create function matching.current_company_ids()
returns uuid[]
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(pg_catalog.array_agg(m.company_id), '{}')
  from public.company_members m
  where m.user_id = (select auth.uid())
$$;

create function matching.has_company_role(p_company_id uuid, p_roles public.member_role[])
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1 from public.company_members m
    where m.company_id = p_company_id and m.user_id = (select auth.uid()) and m.role = any (p_roles)
  )
$$;

revoke all on function matching.caller_role() from public;
revoke all on function matching.assert_admin() from public;
revoke all on function matching.current_talent_id() from public;
revoke all on function matching.current_company_ids() from public;
revoke all on function matching.has_company_role(uuid, public.member_role[]) from public;
grant execute on function matching.current_talent_id() to authenticated, service_role;
grant execute on function matching.current_company_ids() to authenticated, service_role;
grant execute on function matching.has_company_role(uuid, public.member_role[])
  to authenticated, service_role;

-- ============================================================ input validation
-- BEFORE triggers on the tables API roles write: a bad value from the API
-- gets a clear message and a stable code instead of a CHECK violation that
-- names a constraint. They run for anon/authenticated only (the CHECKs still
-- hold for everyone) and, on UPDATE, only look at the columns that changed,
-- so an edit is never refused because of a field it did not touch.
-- Duplicates are left to the unique indexes (23505, HTTP 409): a BEFORE
-- INSERT trigger runs before ON CONFLICT is resolved, so refusing them here
-- would break PostgREST's upserts.

create function matching.check_text(
  p_value text,
  p_field text,
  p_min integer,
  p_max integer,
  p_required boolean,
  p_single_line boolean
)
returns void
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_value is null then
    if p_required then
      raise exception using errcode = 'MT020', message = format('%s is required', p_field),
        detail = format('field: %s', p_field);
    end if;
    return;
  end if;
  if pg_catalog.char_length(p_value) not between p_min and p_max then
    raise exception using errcode = 'MT020',
      message = format('%s must be %s to %s characters long, got %s',
                       p_field, p_min, p_max, pg_catalog.char_length(p_value)),
      detail = format('field: %s', p_field);
  end if;
  if p_single_line and p_value ~ '[[:cntrl:]]' then
    raise exception using errcode = 'MT020',
      message = format('%s must be a single line without control characters', p_field),
      detail = format('field: %s', p_field);
  end if;
end
$$;

create function matching.check_number(
  p_value double precision,
  p_field text,
  p_min double precision,
  p_max double precision,
  p_required boolean
)
returns void
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_value is null then
    if p_required then
      raise exception using errcode = 'MT021', message = format('%s is required', p_field),
        detail = format('field: %s', p_field);
    end if;
    return;
  end if;
  -- NaN compares greater than every number, so it fails here too
  if not (p_value >= p_min and p_value <= p_max) or p_value = 'NaN'::double precision then
    raise exception using errcode = 'MT021',
      message = format('%s must be between %s and %s', p_field, p_min, p_max),
      detail = format('field: %s', p_field);
  end if;
end
$$;

create function matching.check_required(p_is_null boolean, p_field text)
returns void
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_is_null then
    raise exception using errcode = 'MT021', message = format('%s is required', p_field),
      detail = format('field: %s', p_field);
  end if;
end
$$;

create function matching.check_count(p_count integer, p_field text, p_max integer)
returns void
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_count is null then
    raise exception using errcode = 'MT021', message = format('%s is required', p_field),
      detail = format('field: %s', p_field);
  end if;
  if p_count > p_max then
    raise exception using errcode = 'MT021',
      message = format('%s may hold at most %s items, got %s', p_field, p_max, p_count),
      detail = format('field: %s', p_field);
  end if;
end
$$;

-- Location, time zone and salary: the same rules for talents and jobs.
create function matching.check_place_and_pay(p_new jsonb, p_old jsonb)
returns void
language plpgsql
stable
set search_path = ''
as $$
declare
  changed jsonb := (
    select coalesce(pg_catalog.jsonb_object_agg(k, true), '{}')
    from pg_catalog.jsonb_object_keys(p_new) k
    where p_old is null or (p_new -> k) is distinct from (p_old -> k)
  );
  v_lat double precision := (p_new ->> 'latitude')::double precision;
  v_lon double precision := (p_new ->> 'longitude')::double precision;
  v_tz text := p_new ->> 'timezone';
  v_cur text := p_new ->> 'salary_currency';
  v_min bigint := (p_new ->> 'salary_min')::bigint;
  v_max bigint := (p_new ->> 'salary_max')::bigint;
begin
  if changed ? 'city' then
    perform matching.check_text(p_new ->> 'city', 'city', 1, 100, false, true);
  end if;
  if changed ? 'country_code' and p_new ->> 'country_code' !~ '^[A-Z]{2}$' then
    raise exception using errcode = 'MT020',
      message = 'country_code must be two upper-case letters (ISO 3166-1 alpha-2)',
      detail = 'field: country_code';
  end if;
  if changed ? 'latitude' then
    perform matching.check_number(v_lat, 'latitude', -90, 90, false);
  end if;
  if changed ? 'longitude' then
    perform matching.check_number(v_lon, 'longitude', -180, 180, false);
  end if;
  if (changed ? 'latitude' or changed ? 'longitude') and (v_lat is null) <> (v_lon is null) then
    raise exception using errcode = 'MT022',
      message = 'latitude and longitude must be given together', detail = 'field: latitude';
  end if;
  if changed ? 'timezone' and v_tz is not null
     and (pg_catalog.char_length(v_tz) > 64 or not coalesce(matching.is_valid_timezone(v_tz), false)) then
    raise exception using errcode = 'MT020',
      message = 'timezone must be an IANA name such as Europe/Berlin or an offset such as +05:30',
      detail = 'field: timezone';
  end if;
  if changed ? 'salary_min' then
    perform matching.check_number(v_min, 'salary_min', 0, 1000000000, false);
  end if;
  if changed ? 'salary_max' then
    perform matching.check_number(v_max, 'salary_max', 0, 1000000000, false);
  end if;
  if (changed ? 'salary_min' or changed ? 'salary_max') and v_min > v_max then
    raise exception using errcode = 'MT022',
      message = 'salary_min must not be greater than salary_max', detail = 'field: salary_min';
  end if;
  if changed ? 'salary_currency' and v_cur is not null
     and (v_cur !~ '^[A-Z]{3}$'
          or not exists (select 1 from matching.fx_rates fx where fx.currency = v_cur)) then
    raise exception using errcode = 'MT020',
      message = 'salary_currency must be a supported ISO 4217 code such as EUR or USD',
      detail = 'field: salary_currency';
  end if;
  if (changed ? 'salary_min' or changed ? 'salary_max' or changed ? 'salary_currency')
     and v_cur is null and (v_min is not null or v_max is not null) then
    raise exception using errcode = 'MT022',
      message = 'salary_currency is required with a salary', detail = 'field: salary_currency';
  end if;
end
$$;

create function matching.validate_talent()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  n jsonb;
  o jsonb;
begin
  if matching.caller_role() not in ('anon', 'authenticated') then
    return new;
  end if;
  n := pg_catalog.to_jsonb(new);
  o := case when tg_op = 'UPDATE' then pg_catalog.to_jsonb(old) end;
  if o is null or new.headline is distinct from old.headline then
    perform matching.check_text(new.headline, 'headline', 1, 200, true, true);
  end if;
  if o is null or new.bio is distinct from old.bio then
    perform matching.check_text(new.bio, 'bio', 0, 5000, true, false);
  end if;
  perform matching.check_required(new.experience_level is null, 'experience_level');
  perform matching.check_required(new.remote_preference is null, 'remote_preference');
  perform matching.check_required(new.open_to_work is null, 'open_to_work');
  if o is null or new.years_experience is distinct from old.years_experience then
    perform matching.check_number(new.years_experience, 'years_experience', 0, 60, true);
  end if;
  perform matching.check_place_and_pay(n, o);
  perform matching.check_count(pg_catalog.cardinality(new.preferred_industries), 'preferred_industries', 16);
  perform matching.check_count(pg_catalog.cardinality(new.preferred_company_sizes), 'preferred_company_sizes', 5);
  perform matching.check_count(pg_catalog.cardinality(new.work_styles), 'work_styles', 8);
  return new;
end
$$;

create function matching.validate_job()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  n jsonb;
  o jsonb;
begin
  if matching.caller_role() not in ('anon', 'authenticated') then
    return new;
  end if;
  n := pg_catalog.to_jsonb(new);
  o := case when tg_op = 'UPDATE' then pg_catalog.to_jsonb(old) end;
  perform matching.check_required(new.company_id is null, 'company_id');
  if o is null or new.title is distinct from old.title then
    perform matching.check_text(new.title, 'title', 1, 200, true, true);
  end if;
  if o is null or new.description is distinct from old.description then
    perform matching.check_text(new.description, 'description', 0, 10000, true, false);
  end if;
  perform matching.check_required(new.experience_level is null, 'experience_level');
  perform matching.check_required(new.remote_policy is null, 'remote_policy');
  perform matching.check_required(new.status is null, 'status');
  if o is null or new.min_years is distinct from old.min_years then
    perform matching.check_number(new.min_years, 'min_years', 0, 60, true);
  end if;
  if o is null or new.max_years is distinct from old.max_years then
    perform matching.check_number(new.max_years, 'max_years', 0, 60, false);
  end if;
  if (o is null or new.min_years is distinct from old.min_years
      or new.max_years is distinct from old.max_years) and new.min_years > new.max_years then
    raise exception using errcode = 'MT022',
      message = 'min_years must not be greater than max_years', detail = 'field: min_years';
  end if;
  perform matching.check_place_and_pay(n, o);
  if (o is null or new.remote_policy is distinct from old.remote_policy
      or new.latitude is distinct from old.latitude)
     and new.remote_policy <> 'remote' and new.latitude is null then
    raise exception using errcode = 'MT022',
      message = 'on-site and hybrid jobs need latitude and longitude', detail = 'field: latitude';
  end if;
  return new;
end
$$;

create function matching.validate_company()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if matching.caller_role() not in ('anon', 'authenticated') then
    return new;
  end if;
  if tg_op = 'INSERT' or new.name is distinct from old.name then
    perform matching.check_text(new.name, 'name', 1, 200, true, true);
  end if;
  if tg_op = 'INSERT' or new.description is distinct from old.description then
    perform matching.check_text(new.description, 'description', 0, 5000, true, false);
  end if;
  perform matching.check_required(new.industry is null, 'industry');
  perform matching.check_required(new.size is null, 'size');
  perform matching.check_count(pg_catalog.cardinality(new.work_styles), 'work_styles', 8);
  if tg_op = 'INSERT' or new."values" is distinct from old."values" then
    perform matching.check_count(pg_catalog.cardinality(new."values"), 'values', 10);
    if not matching.text_items_ok(new."values", 40) then
      raise exception using errcode = 'MT020',
        message = 'each of values must be a single line of 1 to 40 characters',
        detail = 'field: values';
    end if;
  end if;
  if (tg_op = 'INSERT' or new.website is distinct from old.website)
     and new.website !~ '^https?://[^[:space:]]{1,250}$' then
    raise exception using errcode = 'MT020',
      message = 'website must be an http(s) URL of at most 250 characters after the scheme',
      detail = 'field: website';
  end if;
  return new;
end
$$;

-- Skills of a profile or posting: known skill, ranges, at most 100 per
-- profile (SKILLS_MAX in matching/models.py).
create function matching.validate_entity_skill()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_is_talent boolean := tg_table_name = 'talent_skills';
  v_entity uuid;
  v_old_entity uuid;
  v_count integer;
begin
  if matching.caller_role() not in ('anon', 'authenticated') then
    return new;
  end if;
  v_entity := case when v_is_talent then (pg_catalog.to_jsonb(new) ->> 'talent_id')::uuid
                   else (pg_catalog.to_jsonb(new) ->> 'job_id')::uuid end;
  if tg_op = 'UPDATE' then
    v_old_entity := case when v_is_talent then (pg_catalog.to_jsonb(old) ->> 'talent_id')::uuid
                         else (pg_catalog.to_jsonb(old) ->> 'job_id')::uuid end;
  end if;
  perform matching.check_required(v_entity is null, case when v_is_talent then 'talent_id' else 'job_id' end);
  perform matching.check_required(new.skill_id is null, 'skill_id');
  if not exists (select 1 from public.skills s where s.id = new.skill_id) then
    raise exception using errcode = 'MT404', message = format('unknown skill %s', new.skill_id),
      detail = 'field: skill_id';
  end if;
  if v_is_talent then
    perform matching.check_number((pg_catalog.to_jsonb(new) ->> 'proficiency')::double precision,
                                  'proficiency', 1, 5, true);
    perform matching.check_number((pg_catalog.to_jsonb(new) ->> 'years')::double precision,
                                  'years', 0, 60, true);
  else
    perform matching.check_required((pg_catalog.to_jsonb(new) -> 'required') = 'null'::jsonb, 'required');
    perform matching.check_number((pg_catalog.to_jsonb(new) ->> 'min_proficiency')::double precision,
                                  'min_proficiency', 1, 5, true);
  end if;
  if tg_op = 'INSERT' or v_entity is distinct from v_old_entity then
    if v_is_talent then
      select count(*) into v_count from public.talent_skills ts
      where ts.talent_id = v_entity and ts.skill_id <> new.skill_id;
    else
      select count(*) into v_count from public.job_skills js
      where js.job_id = v_entity and js.skill_id <> new.skill_id;
    end if;
    if v_count >= 100 then
      raise exception using errcode = 'MT021', message = 'at most 100 skills per profile or job',
        detail = 'field: skill_id';
    end if;
  end if;
  return new;
end
$$;

create function matching.validate_company_member()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if matching.caller_role() not in ('anon', 'authenticated') then
    return new;
  end if;
  perform matching.check_required(new.company_id is null, 'company_id');
  perform matching.check_required(new.user_id is null, 'user_id');
  perform matching.check_required(new.role is null, 'role');
  if not exists (select 1 from auth.users u where u.id = new.user_id) then
    raise exception using errcode = 'MT404', message = format('unknown user %s', new.user_id),
      detail = 'field: user_id';
  end if;
  return new;
end
$$;

create trigger talents_validate
  before insert or update on public.talents
  for each row
  -- API roles only; the WHEN test keeps bulk loads from calling the function
  when (pg_catalog.current_setting('role', true) in ('anon', 'authenticated', 'authenticator'))
  execute function matching.validate_talent();
create trigger jobs_validate
  before insert or update on public.jobs
  for each row
  when (pg_catalog.current_setting('role', true) in ('anon', 'authenticated', 'authenticator'))
  execute function matching.validate_job();
create trigger companies_validate
  before insert or update on public.companies
  for each row
  when (pg_catalog.current_setting('role', true) in ('anon', 'authenticated', 'authenticator'))
  execute function matching.validate_company();
create trigger talent_skills_validate
  before insert or update on public.talent_skills
  for each row
  when (pg_catalog.current_setting('role', true) in ('anon', 'authenticated', 'authenticator'))
  execute function matching.validate_entity_skill();
create trigger job_skills_validate
  before insert or update on public.job_skills
  for each row
  when (pg_catalog.current_setting('role', true) in ('anon', 'authenticated', 'authenticator'))
  execute function matching.validate_entity_skill();
create trigger company_members_validate
  before insert or update on public.company_members
  for each row
  when (pg_catalog.current_setting('role', true) in ('anon', 'authenticated', 'authenticator'))
  execute function matching.validate_company_member();

revoke all on function matching.check_text(text, text, integer, integer, boolean, boolean) from public;
revoke all on function matching.check_number(double precision, text, double precision, double precision, boolean)
  from public;
revoke all on function matching.check_required(boolean, text) from public;
revoke all on function matching.check_count(integer, text, integer) from public;
revoke all on function matching.check_place_and_pay(jsonb, jsonb) from public;
revoke all on function matching.validate_talent() from public;
revoke all on function matching.validate_job() from public;
revoke all on function matching.validate_company() from public;
revoke all on function matching.validate_entity_skill() from public;
revoke all on function matching.validate_company_member() from public;

-- (Skill edits also move the owner's updated_at: the rematch triggers of
-- 20261126080000 do it in the same statement-level pass that enqueues.)

-- ======================================================== grants and policies
-- Grant exactly what the policies allow; RLS narrows rows, grants narrow
-- columns and verbs. anon gets nothing on any table. Writes to matches come
-- from the worker (owner) and to match_feedback from record_match_feedback.
-- Supabase grants every new public table to anon/authenticated by default
-- privileges, so everything is revoked first.

revoke all on public.skills, public.companies, public.company_members, public.talents,
  public.jobs, public.talent_skills, public.job_skills, public.matches, public.match_feedback
  from public, anon, authenticated;

grant select on public.skills to authenticated;
grant select on public.companies to authenticated;
grant update (name, description, industry, size, work_styles, "values", website)
  on public.companies to authenticated;
grant select, delete on public.company_members to authenticated;
grant insert (company_id, user_id, role), update (role) on public.company_members to authenticated;
grant select, delete on public.talents to authenticated;
grant insert (id, user_id, headline, bio, experience_level, years_experience, city, country_code,
              latitude, longitude, timezone, remote_preference, salary_min, salary_max,
              salary_currency, open_to_work, preferred_industries, preferred_company_sizes,
              work_styles)
  on public.talents to authenticated;
grant update (headline, bio, experience_level, years_experience, city, country_code, latitude,
              longitude, timezone, remote_preference, salary_min, salary_max, salary_currency,
              open_to_work, preferred_industries, preferred_company_sizes, work_styles)
  on public.talents to authenticated;
grant select, delete on public.jobs to authenticated;
grant insert (id, company_id, title, description, experience_level, min_years, max_years, city,
              country_code, latitude, longitude, timezone, remote_policy, salary_min, salary_max,
              salary_currency, status)
  on public.jobs to authenticated;
grant update (title, description, experience_level, min_years, max_years, city, country_code,
              latitude, longitude, timezone, remote_policy, salary_min, salary_max,
              salary_currency, status)
  on public.jobs to authenticated;
-- all columns: PostgREST upserts (merge-duplicates) set the key columns too
grant select, insert, update, delete on public.talent_skills, public.job_skills to authenticated;
-- Column grants: a direct table read never returns the feature snapshot
-- (distance_km in it would locate a talent), the explanation or the acting
-- user's id; the RPC functions serve what each side may see.
grant select (talent_id, job_id, score, source, model_version, computed_at)
  on public.matches to authenticated;
grant select (id, talent_id, job_id, feedback_type, actor, created_at)
  on public.match_feedback to authenticated;

-- skills: a shared vocabulary every signed-in user reads
create policy skills_select on public.skills for select to authenticated using (true);

-- companies: members read theirs; everyone signed in reads companies that
-- have an open job (they appear next to it); owners and admins edit.
create policy companies_select on public.companies for select to authenticated
  using (
    id = any ((select matching.current_company_ids())::uuid[])
    or exists (select 1 from public.jobs j where j.company_id = companies.id and j.status = 'open')
  );
create policy companies_update on public.companies for update to authenticated
  using (matching.has_company_role(id, '{owner,admin}'))
  with check (matching.has_company_role(id, '{owner,admin}'));

-- company_members: members see their colleagues; owners manage membership;
-- anyone may leave.
create policy company_members_select on public.company_members for select to authenticated
  using (user_id = (select auth.uid()) or company_id = any ((select matching.current_company_ids())::uuid[]));
create policy company_members_insert on public.company_members for insert to authenticated
  with check (matching.has_company_role(company_id, '{owner}'));
create policy company_members_update on public.company_members for update to authenticated
  using (matching.has_company_role(company_id, '{owner}'))
  with check (matching.has_company_role(company_id, '{owner}'));
create policy company_members_delete on public.company_members for delete to authenticated
  using (user_id = (select auth.uid()) or matching.has_company_role(company_id, '{owner}'));

-- talents: one's own profile only
create policy talents_select on public.talents for select to authenticated
  using (user_id = (select auth.uid()));
create policy talents_insert on public.talents for insert to authenticated
  with check (user_id = (select auth.uid()));
create policy talents_update on public.talents for update to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy talents_delete on public.talents for delete to authenticated
  using (user_id = (select auth.uid()));

-- jobs: open jobs are a job board every signed-in user reads; members of
-- the company read and manage all of its jobs (drafts included).
create policy jobs_select on public.jobs for select to authenticated
  using (status = 'open' or company_id = any ((select matching.current_company_ids())::uuid[]));
create policy jobs_insert on public.jobs for insert to authenticated
  with check (company_id = any ((select matching.current_company_ids())::uuid[]));
create policy jobs_update on public.jobs for update to authenticated
  using (company_id = any ((select matching.current_company_ids())::uuid[]))
  with check (company_id = any ((select matching.current_company_ids())::uuid[]));
create policy jobs_delete on public.jobs for delete to authenticated
  using (company_id = any ((select matching.current_company_ids())::uuid[]));

-- talent_skills: one's own profile's skills
create policy talent_skills_select on public.talent_skills for select to authenticated
  using (talent_id = (select matching.current_talent_id()));
create policy talent_skills_insert on public.talent_skills for insert to authenticated
  with check (talent_id = (select matching.current_talent_id()));
create policy talent_skills_update on public.talent_skills for update to authenticated
  using (talent_id = (select matching.current_talent_id()))
  with check (talent_id = (select matching.current_talent_id()));
create policy talent_skills_delete on public.talent_skills for delete to authenticated
  using (talent_id = (select matching.current_talent_id()));

-- job_skills: readable with the job; managed by the job's company
create policy job_skills_select on public.job_skills for select to authenticated
  using (exists (
    select 1 from public.jobs j
    where j.id = job_skills.job_id
      and (j.status = 'open' or j.company_id = any ((select matching.current_company_ids())::uuid[]))
  ));
create policy job_skills_insert on public.job_skills for insert to authenticated
  with check (exists (
    select 1 from public.jobs j
    where j.id = job_skills.job_id and j.company_id = any ((select matching.current_company_ids())::uuid[])
  ));
create policy job_skills_update on public.job_skills for update to authenticated
  using (exists (
    select 1 from public.jobs j
    where j.id = job_skills.job_id and j.company_id = any ((select matching.current_company_ids())::uuid[])
  ))
  with check (exists (
    select 1 from public.jobs j
    where j.id = job_skills.job_id and j.company_id = any ((select matching.current_company_ids())::uuid[])
  ));
create policy job_skills_delete on public.job_skills for delete to authenticated
  using (exists (
    select 1 from public.jobs j
    where j.id = job_skills.job_id and j.company_id = any ((select matching.current_company_ids())::uuid[])
  ));

-- matches: a talent sees their own; a member sees those of the company's jobs
create policy matches_select on public.matches for select to authenticated
  using (
    talent_id = (select matching.current_talent_id())
    or job_id in (
      select j.id from public.jobs j where j.company_id = any ((select matching.current_company_ids())::uuid[])
    )
  );

-- match_feedback: a talent sees what they recorded; a member sees what the
-- company recorded for its jobs plus applications to them. "interested" and
-- "dismissed" stay private to the talent, "shortlisted"/"rejected" to the company.
create policy match_feedback_select on public.match_feedback for select to authenticated
  using (
    (actor = 'talent' and talent_id = (select matching.current_talent_id()))
    or ((actor = 'company' or feedback_type = 'applied')
        and job_id in (
          select j.id from public.jobs j
          where j.company_id = any ((select matching.current_company_ids())::uuid[])
        ))
  );

-- The registry functions are reached through the public wrappers below; an
-- API role has no USAGE on `matching` anyway, so EXECUTE there only made an
-- internal function look callable.
revoke execute on function matching.activate_model(text, text) from authenticated;
revoke execute on function matching.rollback_model() from authenticated;

-- ================================================================ read helpers

-- Indexes for the on-the-fly fallback's candidate search (below): index-only
-- scans from a skill to the profiles/postings that have it, and from a
-- talent open to work to its level. Each replaces an index it extends (the
-- foreign keys on skill_id stay covered: both new indexes start with it).
create index talent_skills_skill_talent_idx on public.talent_skills (skill_id, talent_id);
drop index public.talent_skills_skill_id_idx;
create index job_skills_skill_job_idx on public.job_skills (skill_id, job_id) include (required);
drop index public.job_skills_skill_id_idx;
create index talents_open_to_work_level_idx on public.talents (id) include (experience_level)
  where open_to_work;
drop index public.talents_open_to_work_idx;

-- Shared argument checks of the read functions.
create function matching.check_read_args(p_limit integer, p_min_score numeric)
returns void
language plpgsql
immutable
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

-- Explanation of a fallback score in the shape of an ML one: sub-scores and
-- the three strongest reasons. A category contributes weight x (sub-score -
-- 50) points against a neutral 50; the failed hard constraints share the
-- penalty they cost (score x (1/0.8^n - 1)).
create function matching.fallback_explanation(
  p_score double precision,
  p_skills double precision,
  p_experience double precision,
  p_location double precision,
  p_salary double precision,
  p_culture double precision,
  p_failed text[]
)
returns table (sub_scores jsonb, top_reasons jsonb)
language sql
immutable
parallel safe
as $$
  with cats (feature, weight, value) as (
    values ('skills', 0.35, p_skills), ('experience', 0.20, p_experience),
           ('location', 0.20, p_location), ('salary', 0.15, p_salary),
           ('culture', 0.10, p_culture)
  ),
  reasons as (
    select c.feature,
           c.weight * (c.value - 50.0) as contribution,
           format('%s fit (%s/100)',
                  case when c.value >= 75 then 'strong ' when c.value >= 50 then 'good '
                       when c.value >= 25 then 'weak ' else 'poor ' end || c.feature,
                  pg_catalog.round(c.value::numeric)) as text
    from cats c
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
    order by abs(r.contribution) desc, r.feature
    limit 3
  )
  select
    pg_catalog.jsonb_build_object(
      'skills', pg_catalog.round(p_skills::numeric, 1),
      'experience', pg_catalog.round(p_experience::numeric, 1),
      'location', pg_catalog.round(p_location::numeric, 1),
      'salary', pg_catalog.round(p_salary::numeric, 1),
      'culture', pg_catalog.round(p_culture::numeric, 1)),
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

revoke all on function matching.check_read_args(integer, numeric) from public;
revoke all on function matching.clean_sub_scores(jsonb) from public;
revoke all on function matching.sub_score(jsonb, text) from public;
revoke all on function matching.top_reasons(jsonb) from public;
revoke all on function matching.fallback_explanation(double precision, double precision,
  double precision, double precision, double precision, double precision, text[]) from public;
revoke all on function matching.fallback_candidates_for_talent(uuid, integer) from public;
revoke all on function matching.fallback_candidates_for_job(uuid, integer) from public;
grant execute on function matching.fallback_candidates_for_talent(uuid, integer) to service_role;
grant execute on function matching.fallback_candidates_for_job(uuid, integer) to service_role;

-- ============================================================ read functions

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
      select m.job_id, m.score, m.source, m.model_version, m.explanation, m.computed_at,
             j.updated_at as job_updated_at
      from public.matches m
      join public.jobs j on j.id = m.job_id and j.status = 'open'
      where m.talent_id = p_talent_id and m.score >= p_min_score
      order by m.score desc, m.job_id
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
    order by r.score desc, r.job_id;
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
           f.salary_score, f.culture_score, f.failed_constraints
    from cand,
         matching.fallback_score_pairs(
           pg_catalog.array_fill(p_talent_id, array[pg_catalog.cardinality(cand.ids)]), cand.ids) f
    where f.score >= p_min_score
    order by f.score desc, f.job_id
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
    r.culture_score, r.failed_constraints) e
  order by r.score desc, r.job_id;
end
$$;

comment on function public.get_talent_matches(uuid, integer, numeric) is
  'Job matches of a talent, best first: the caller''s own talent profile (service_role: any).'
  ' Stored matches when there are any for open jobs, else fallback scores computed now.'
  ' Errors: 42501, MT001, MT005 (limit 1..100), MT010 (min score 0..100), MT404. See docs/api.md.';

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
    when p_value is null then null
    when p_category = 'location' then pg_catalog.round(p_value / 25) * 25
    else pg_catalog.round(p_value)
  end
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
$$;

create function matching.company_reasons(p_reasons jsonb)
returns jsonb
language sql
immutable
parallel safe
as $$
  select coalesce(pg_catalog.jsonb_agg(r.value order by r.ord), '[]')
  from pg_catalog.jsonb_array_elements(coalesce(p_reasons, '[]'::jsonb)) with ordinality r (value, ord)
  where coalesce(r.value ->> 'feature', '') not in
          ('distance_km', 'commute_fit', 'timezone_overlap', 'location', 'location_missing')
    and coalesce(r.value ->> 'sentence', '') !~* '( km|commute|office)'
$$;

revoke all on function matching.company_sub_score(numeric, text) from public;
revoke all on function matching.company_sub_scores(jsonb) from public;
revoke all on function matching.company_reasons(jsonb) from public;

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
      select m.talent_id, m.score, m.source, m.model_version, m.computed_at, m.explanation,
             t.updated_at as talent_updated_at
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
               m.score desc, m.talent_id
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
             r.score desc, r.talent_id;
    return;
  end if;

  select coalesce((select a.fallback_candidates from matching.api_settings a where a.id), 1000)
    into v_cap;
  return query
  with cand as (
    select matching.fallback_candidates_for_job(p_job_id, v_cap) as ids
  ),
  scored as materialized (
    select f.talent_id, f.score, e.sub_scores, e.top_reasons
    from cand,
         matching.fallback_score_pairs(
           cand.ids, pg_catalog.array_fill(p_job_id, array[pg_catalog.cardinality(cand.ids)])) f
    cross join lateral matching.fallback_explanation(
      f.score, f.skills_score, f.experience_score, f.location_score, f.salary_score,
      f.culture_score, f.failed_constraints) e
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
             x.score desc, x.talent_id
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
           r.score desc, r.talent_id;
end
$$;

comment on function public.get_job_matches(uuid, integer, numeric, text, jsonb) is
  'Talent matches of a job for members of its company (service_role: any), talents open to work'
  ' only, sorted by score or a sub-score, filtered by minimum score and sub-scores. Stored'
  ' matches when there are any, else fallback scores computed now. Errors: 42501, MT001, MT005,'
  ' MT010, MT011 (sort), MT012 (sub-score filter), MT404. See docs/api.md.';

-- ================================================================ feedback

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
  score real,
  source public.match_source,
  model_version text,
  created_at timestamptz,
  created boolean
)
language plpgsql
volatile
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  v_role text := matching.caller_role();
  v_type public.feedback_type;
  v_actor public.feedback_actor;
  v_talent public.talents%rowtype;
  v_job public.jobs%rowtype;
  v_match public.matches%rowtype;
  v_has_match boolean;
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
      message = format('p_feedback_type must be one of applied, interested, dismissed (talents) or'
                       ' contacted, shortlisted, rejected (companies); got %L',
                       left(p_feedback_type, 40));
  end if;
  v_type := p_feedback_type::public.feedback_type;
  v_actor := case when v_type in ('applied', 'interested', 'dismissed')
                  then 'talent'::public.feedback_actor else 'company'::public.feedback_actor end;

  select * into v_talent from public.talents t where t.id = p_talent_id;
  if not found then
    raise exception using errcode = 'MT404', message = format('unknown talent %s', p_talent_id);
  end if;
  select * into v_job from public.jobs j where j.id = p_job_id;
  if not found then
    raise exception using errcode = 'MT404', message = format('unknown job %s', p_job_id);
  end if;
  v_uid := case when v_role = 'authenticated' then (select auth.uid()) end;
  if v_role = 'authenticated' then
    if v_actor = 'talent' and (v_uid is null or v_talent.user_id is distinct from v_uid) then
      raise exception using errcode = '42501',
        message = format('%s is recorded by the talent, for their own profile only', v_type);
    end if;
    if v_actor = 'company' and not exists (
      select 1 from public.company_members m where m.company_id = v_job.company_id and m.user_id = v_uid
    ) then
      raise exception using errcode = '42501',
        message = format('%s is recorded by members of the job''s company only', v_type);
    end if;
  end if;

  select * into v_match from public.matches m where m.talent_id = p_talent_id and m.job_id = p_job_id;
  v_has_match := found;
  -- without a stored match the pair must be one the caller could have been
  -- shown: an open job (talent side), a talent open to work (company side)
  if not v_has_match and v_role = 'authenticated' then
    if v_actor = 'talent' and v_job.status <> 'open' then
      raise exception using errcode = 'MT404', message = format('unknown job %s', p_job_id);
    end if;
    if v_actor = 'company' and not v_talent.open_to_work then
      raise exception using errcode = 'MT404', message = format('unknown talent %s', p_talent_id);
    end if;
  end if;
  if v_has_match then
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
          -- a JWT may outlive its user: keep the row, drop the dangling reference
          (select u.id from auth.users u where u.id = v_uid),
          v_score, v_source, v_version, v_features)
  on conflict on constraint match_feedback_once do nothing
  returning mf.id into v_id;

  return query
  select f.id, f.talent_id, f.job_id, f.feedback_type, f.actor, f.score, f.source,
         f.model_version, f.created_at, v_id is not null
  from public.match_feedback f
  where f.talent_id = p_talent_id and f.job_id = p_job_id and f.feedback_type = v_type;
end
$$;

comment on function public.record_match_feedback(uuid, uuid, text) is
  'Record feedback on a (talent, job) pair, idempotently: talents record applied, interested,'
  ' dismissed for themselves; company members record contacted, shortlisted, rejected for their'
  ' jobs. Copies the match''s score, source, model version and features. Errors: 42501, MT001,'
  ' MT013, MT404. See docs/api.md.';

-- ============================================================== admin functions

-- Enqueue one model retrain. However often it is called, at most one
-- retrain is pending (procrastinate's queueing_lock); force => true upgrades
-- a pending one. Admins only.
--
-- search_path = procrastinate, pg_temp rather than '': procrastinate's own
-- triggers on its jobs table call its functions, whose bodies name its
-- tables unqualified, and they inherit this path. The exception is safe:
-- `procrastinate` is internal (API roles have no USAGE, let alone CREATE),
-- pg_temp comes last, and every name in this body is qualified.
create function matching.request_retrain(force boolean default false)
returns table (job_id bigint, enqueued boolean, forced boolean)
language plpgsql
volatile
security definer
set search_path = procrastinate, pg_temp
as $$
declare
  v_id bigint;
  v_args jsonb;
  v_attempt integer;
begin
  perform matching.assert_admin();
  if force is null then
    raise exception using errcode = 'MT001', message = 'force must not be null';
  end if;
  if pg_catalog.to_regclass('procrastinate.procrastinate_jobs') is null then
    raise exception using errcode = 'MT503',
      message = 'the job queue is not installed; run `matching migrate`';
  end if;
  for v_attempt in 1..3 loop
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
set search_path = ''
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
set search_path = ''
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
set search_path = ''
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

create function public.matching_health()
returns table (
  active_model_version text,
  active_model_trained_at timestamptz,
  active_model_activated_at timestamptz,
  workers integer,
  worker_heartbeat_age_seconds double precision,
  queue_depth bigint,
  queue_depth_by_queue jsonb,
  jobs_running bigint,
  oldest_pending_age_seconds double precision,
  rows_served_last_hour bigint,
  fallback_rows_last_hour bigint,
  fallback_share_last_hour double precision,
  checked_at timestamptz
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_version text;
  v_trained timestamptz;
  v_activated timestamptz;
  v_workers integer;
  v_heartbeat double precision;
  v_depth bigint;
  v_by_queue jsonb;
  v_running bigint;
  v_oldest double precision;
  v_rows bigint;
  v_fallback bigint;
begin
  perform matching.assert_admin();
  select m.version, m.trained_at, m.activated_at into v_version, v_trained, v_activated
  from matching.model_versions m where m.is_active;
  if pg_catalog.to_regclass('procrastinate.procrastinate_jobs') is not null then
    select count(*)::integer,
           extract(epoch from pg_catalog.clock_timestamp() - max(w.last_heartbeat))::double precision
      into v_workers, v_heartbeat
    from procrastinate.procrastinate_workers w;
    select coalesce(sum(q.n), 0), coalesce(pg_catalog.jsonb_object_agg(q.queue_name, q.n), '{}')
      into v_depth, v_by_queue
    from (
      select pj.queue_name, count(*) as n from procrastinate.procrastinate_jobs pj
      where pj.status = 'todo' group by pj.queue_name
    ) q;
    select count(*) into v_running from procrastinate.procrastinate_jobs pj where pj.status = 'doing';
    -- a job is pending from when it was deferred (or its scheduled time)
    select extract(epoch from pg_catalog.clock_timestamp()
                              - coalesce(pj.scheduled_at, e.at, pg_catalog.clock_timestamp()))
      into v_oldest
    from procrastinate.procrastinate_jobs pj
    left join lateral (
      select min(ev.at) as at from procrastinate.procrastinate_events ev
      where ev.job_id = pj.id and ev.type = 'deferred'
    ) e on true
    where pj.status = 'todo' and (pj.scheduled_at is null or pj.scheduled_at <= pg_catalog.now())
    order by pj.id
    limit 1;
  end if;
  select coalesce(sum(s.rows_served), 0), coalesce(sum(s.fallback_rows), 0) into v_rows, v_fallback
  from matching.serving_stats s where s.bucket >= pg_catalog.now() - interval '1 hour';
  return query select v_version, v_trained, v_activated, coalesce(v_workers, 0), v_heartbeat,
    coalesce(v_depth, 0), coalesce(v_by_queue, '{}'::jsonb), coalesce(v_running, 0),
    coalesce(v_oldest, 0), v_rows, v_fallback,
    case when v_rows > 0 then v_fallback::double precision / v_rows end,
    pg_catalog.clock_timestamp();
end
$$;

comment on function public.matching_health() is
  'Admins: active model and when it was trained, worker heartbeat age, queue depth, oldest'
  ' pending job age, share of fallback rows served in the last hour. Errors: 42501.';

-- ====================================================== a company keeps an owner
-- Through the API, a company can never be left without an owner (nobody but
-- service_role could manage it afterwards): demoting or removing the last
-- owner is refused. Deleting the company itself (cascade) is not affected.
create function matching.keep_an_owner()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if matching.caller_role() not in ('anon', 'authenticated') then
    return null;
  end if;
  if exists (
    select 1
    from (select distinct o.company_id from old_rows o) changed
    join public.companies c on c.id = changed.company_id
    where not exists (
      select 1 from public.company_members m
      where m.company_id = changed.company_id and m.role = 'owner'
    )
  ) then
    raise exception using errcode = 'MT022',
      message = 'a company must keep at least one owner',
      detail = 'field: role';
  end if;
  return null;
end
$$;
revoke all on function matching.keep_an_owner() from public;
create trigger company_members_keep_owner_update
  after update on public.company_members
  referencing old table as old_rows
  for each statement execute function matching.keep_an_owner();
create trigger company_members_keep_owner_delete
  after delete on public.company_members
  referencing old table as old_rows
  for each statement execute function matching.keep_an_owner();

-- ======================================================= bulk writes via API
-- One API request may not insert more than 100 jobs: each queues a rematch,
-- and the rate limiter counts a request, not its rows. Service role and
-- database roles (imports, `matching seed`) are not limited.
create function matching.limit_api_job_inserts()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if matching.caller_role() in ('anon', 'authenticated')
     and (select count(*) from new_rows) > 100 then
    raise exception using errcode = 'MT021',
      message = 'at most 100 jobs per request',
      detail = 'field: jobs';
  end if;
  return null;
end
$$;
revoke all on function matching.limit_api_job_inserts() from public;
create trigger jobs_limit_api_inserts
  after insert on public.jobs
  referencing new table as new_rows
  for each statement execute function matching.limit_api_job_inserts();

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
set search_path = ''
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
set search_path = ''
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

-- ====================================================================== grants

revoke all on function matching.client_ip(text) from public;
revoke all on function matching.request_retrain(boolean) from public;
revoke all on function matching.purge_api_counters() from public;
grant execute on function matching.request_retrain(boolean) to service_role;
grant execute on function matching.purge_api_counters() to service_role;

revoke all on function public.get_talent_matches(uuid, integer, numeric) from public, anon;
revoke all on function public.get_job_matches(uuid, integer, numeric, text, jsonb) from public, anon;
revoke all on function public.record_match_feedback(uuid, uuid, text) from public, anon;
revoke all on function public.request_retrain(boolean) from public, anon;
revoke all on function public.activate_model(text) from public, anon;
revoke all on function public.rollback_model() from public, anon;
revoke all on function public.matching_health() from public, anon;
revoke all on function public.check_rate_limit() from public;
grant execute on function public.get_talent_matches(uuid, integer, numeric) to authenticated, service_role;
grant execute on function public.get_job_matches(uuid, integer, numeric, text, jsonb)
  to authenticated, service_role;
grant execute on function public.record_match_feedback(uuid, uuid, text) to authenticated, service_role;
grant execute on function public.request_retrain(boolean) to authenticated, service_role;
grant execute on function public.activate_model(text) to authenticated, service_role;
grant execute on function public.rollback_model() to authenticated, service_role;
grant execute on function public.matching_health() to authenticated, service_role;
-- every request runs the hook under its own role, anonymous ones included
grant execute on function public.check_rate_limit() to anon, authenticated, service_role;

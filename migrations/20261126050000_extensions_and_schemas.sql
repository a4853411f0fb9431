-- Extensions, the internal `matching` schema, shared enumerations, the time
-- zone reference, and the small helpers that table CHECKs and every domain use.

-- pgvector lives in `extensions`, as Supabase installs it; every reference to
-- its types and operators is schema-qualified so functions can run with an
-- empty search_path.
create schema if not exists extensions;
create extension if not exists vector with schema extensions;

-- Internal schema: embeddings, models, training runs, helper functions.
-- Never listed in PostgREST's exposed schemas; API roles get nothing here
-- unless a later migration grants a specific function.
create schema if not exists matching;
comment on schema matching is
  'Internal objects of the matching engine. Not exposed through the API.';
revoke all on schema matching from public, anon, authenticated;
grant usage on schema matching to service_role;

-- Enumerations. Order matters where it is ordinal (experience_level,
-- company_size): comparisons and ordinal distances rely on it.
create type public.experience_level as enum ('junior', 'mid', 'senior', 'lead', 'principal');
create type public.remote_preference as enum ('onsite', 'hybrid', 'remote', 'flexible');
create type public.remote_policy as enum ('onsite', 'hybrid', 'remote');
create type public.job_status as enum ('draft', 'open', 'closed');
create type public.company_size as enum ('micro', 'small', 'medium', 'large', 'enterprise');
create type public.industry as enum (
  'software', 'fintech', 'finance', 'healthcare', 'biotech', 'ecommerce', 'retail',
  'media', 'gaming', 'education', 'manufacturing', 'energy', 'logistics',
  'consulting', 'government', 'nonprofit'
);
create type public.work_style as enum (
  'remote_first', 'async', 'office_centric', 'flexible_hours',
  'collaborative', 'autonomous', 'structured', 'fast_paced'
);
create type public.member_role as enum ('owner', 'admin', 'recruiter');
create type public.match_source as enum ('ml', 'fallback');
create type public.feedback_type as enum (
  -- recorded by the talent
  'applied', 'interested', 'dismissed',
  -- recorded by a member of the job's company
  'contacted', 'shortlisted', 'rejected'
);
create type public.feedback_actor as enum ('talent', 'company');

comment on type public.company_size is
  'micro 1-10, small 11-50, medium 51-250, large 251-1000, enterprise 1001+ employees';
comment on type public.remote_preference is
  'What a talent accepts: flexible means any of onsite, hybrid, remote.';

-- =============================================================== time zones

-- Time zones: one rule, a canonical IANA spelling that Postgres and
-- Python's zoneinfo both load (matching.iana_timezones), or a fixed offset
-- within -12:00..+14:00. Case variants (Europe/PARIS) and offsets beyond
-- the real world (Etc/GMT+99) are refused.

-- The zones both sides can load. Filled from Postgres' own list; a test
-- checks every row with Python's zoneinfo. Names that are not Area/Location
-- (EST, Japan) were never accepted and stay out.
create table matching.iana_timezones (
  name text primary key,
  utc_offset interval not null
);
alter table matching.iana_timezones enable row level security;
revoke all on matching.iana_timezones from public, anon, authenticated;
grant select on matching.iana_timezones to service_role;

insert into matching.iana_timezones (name, utc_offset)
select z.name, z.utc_offset
from pg_catalog.pg_timezone_names z
where z.name ~ '^(UTC|[A-Z][A-Za-z_]+(/[A-Za-z0-9_+-]+){1,2})$'
  -- posix/ and right/ are duplicate trees of the database, not zones
  and z.name !~ '^(posix|right)/'
  and z.name not in ('Factory', 'posixrules', 'localtime')
  and z.utc_offset between interval '-12 hours' and interval '14 hours'
on conflict do nothing;

-- The one implementation of the rule. STABLE, honestly: it reads a table.
-- (A CHECK may call a stable function; rows are checked when written.)
-- SECURITY DEFINER because CHECKs run as the writer, who has no access to
-- the matching schema's table.
create function matching.is_valid_timezone(tz text)
returns boolean
language sql
stable
parallel safe
security definer
set search_path = pg_catalog, pg_temp
as $$
  select case
    when tz is null then null
    when tz ~ '^[+-][0-9]{2}:[0-5][0-9]$' then
      (case when pg_catalog.left(tz, 1) = '-' then -1 else 1 end)
        * (pg_catalog.substr(tz, 2, 2)::integer * 60 + pg_catalog.substr(tz, 5, 2)::integer)
        between -720 and 840
    -- exact, case-sensitive spelling: Europe/PARIS is not a name zoneinfo loads
    else exists (select 1 from matching.iana_timezones z where z.name = tz)
  end
$$;
comment on function matching.is_valid_timezone(text) is
  'A canonical IANA zone (matching.iana_timezones, exact spelling) or a fixed offset -12:00..+14:00.'
  ' The one time-zone rule; matching.models.is_valid_timezone is its Python twin.';

-- The canonical spelling of a case variant, for hints (null when unknown).
create function matching.canonical_timezone(tz text)
returns text
language sql
stable
parallel safe
set search_path = pg_catalog, pg_temp
as $$
  select z.name from matching.iana_timezones z where pg_catalog.lower(z.name) = pg_catalog.lower(tz)
  order by z.name limit 1
$$;

-- ================================================================== helpers

-- Every element of a text array is a single line of 1..max_len characters.
create function matching.text_items_ok(items text[], max_len integer)
returns boolean
language sql
immutable
parallel safe
set search_path = ''
as $$
  select coalesce(
    pg_catalog.bool_and(
      item is not null
      and pg_catalog.char_length(item) between 1 and max_len
      and item !~ '[[:cntrl:]]'
    ),
    true
  )
  from pg_catalog.unnest(items) as item
$$;

-- Keeps updated_at honest without trusting clients to send it.
create function matching.touch_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := pg_catalog.now();
  return new;
end
$$;

-- CHECK constraints call the two validators with the privileges of whoever
-- writes the row (a PostgREST role included), so those roles may execute them.
revoke all on function matching.is_valid_timezone(text) from public;
revoke all on function matching.text_items_ok(text[], integer) from public;
grant execute on function matching.is_valid_timezone(text)
  to anon, authenticated, service_role;
grant execute on function matching.text_items_ok(text[], integer)
  to anon, authenticated, service_role;
revoke all on function matching.touch_updated_at() from public;
revoke all on function matching.canonical_timezone(text) from public;

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
-- Every admin function (activate_model, rollback_model, request_retrain,
-- matching_health) shares this one check.
create function matching.assert_admin()
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

revoke all on function matching.caller_role() from public;
revoke all on function matching.assert_admin() from public;

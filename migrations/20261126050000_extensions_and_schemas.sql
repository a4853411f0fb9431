-- Extensions, the internal `matching` schema, shared enumerations and the
-- small immutable helpers that table CHECKs use.

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

-- Time zones: an IANA name that Postgres knows (Europe/Berlin, UTC,
-- America/Argentina/Buenos_Aires) or a fixed UTC offset (+05:30, -03:00,
-- range -12:00..+14:00). Declared immutable so it can back a CHECK: the IANA
-- database only ever adds names.
create function matching.is_valid_timezone(tz text)
returns boolean
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
begin
  if tz is null then
    return null;
  end if;
  if tz ~ '^[+-][0-9]{2}:[0-5][0-9]$' then
    return (case when left(tz, 1) = '-' then -1 else 1 end)
           * (substr(tz, 2, 2)::integer * 60 + substr(tz, 5, 2)::integer)
           between -720 and 840;
  end if;
  if tz !~ '^(UTC|[A-Z][A-Za-z_]+(/[A-Za-z0-9_+-]+){1,2})$' then
    return false;
  end if;
  -- Ask Postgres whether it knows the zone; an unknown name raises 22023.
  perform pg_catalog.timezone(tz, pg_catalog.now());
  return true;
exception
  when invalid_parameter_value then
    return false;
end
$$;

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

-- Privacy by construction (issue 12).
--
-- 1. Time zones: one rule, a canonical IANA spelling that Postgres and
--    Python's zoneinfo both load (matching.iana_timezones), or a fixed offset
--    within -12:00..+14:00. Case variants (Europe/PARIS) and offsets beyond
--    the real world (Etc/GMT+99) are refused.
-- 2. Talent locations are stored coarsened to a grid cell (>= 20 km a side):
--    no score, sub-score or reason is ever computed from exact coordinates,
--    because the database never holds them. Python features and the SQL
--    fallback read the same columns, so their parity is untouched.
-- 3. Companies: no culture sub-score or culture reason in the company view,
--    and score-relevant company attributes change at most once a day.
-- 4. One score surface per audience: feedback returns no score; feedback
--    needs a pair that could be shown; direct reads of matches carry no score
--    and honour open_to_work and job status.
-- 5. Per-request cap on job updates through the API; multi-row edits enqueue
--    at bulk priority.
-- 6. Every SECURITY DEFINER function names pg_temp last in its search_path.

-- =============================================================== time zones

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
create or replace function matching.is_valid_timezone(tz text)
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
revoke all on function matching.canonical_timezone(text) from public;

-- Rows written under the old, case-insensitive rule: canonicalise, or drop a
-- zone nothing can load (it only ever broke that entity's rematch).
update public.talents t
   set timezone = matching.canonical_timezone(t.timezone)
 where t.timezone is not null and not matching.is_valid_timezone(t.timezone);
update public.jobs j
   set timezone = matching.canonical_timezone(j.timezone)
 where j.timezone is not null and not matching.is_valid_timezone(j.timezone);

-- ======================================================== talent locations

-- Grid cells 0.2 degrees of latitude (22.2 km) high and 0.2 / cos(latitude)
-- degrees of longitude wide (22.2 km at the cell's centre line), so every
-- cell is at least ~20 km a side anywhere but the last cells at the poles.
-- A coarse point is the centre of its cell, and coarsening it again is a
-- no-op (the functions are idempotent, tested).
create function matching.coarse_latitude(lat double precision)
returns double precision
language sql
immutable
parallel safe
as $$
  select case when lat is null then null
    else (least(pg_catalog.floor(lat / 0.2), 449) + 0.5) * 0.2 end
$$;

create function matching.coarse_longitude(lat double precision, lon double precision)
returns double precision
language sql
immutable
parallel safe
as $$
  with cell as (
    select 0.2 / pg_catalog.cos(pg_catalog.radians(matching.coarse_latitude(lat))) as step
  ), idx as (
    select c.step, pg_catalog.floor((lon + 180) / c.step) as j from cell c
  )
  select case when lat is null or lon is null then null else
    -- centre of the cell, the last one clipped at the antimeridian
    ((-180 + i.j * i.step) + least(180, -180 + (i.j + 1) * i.step)) / 2 end
  from idx i
$$;
revoke all on function matching.coarse_latitude(double precision) from public;
revoke all on function matching.coarse_longitude(double precision, double precision) from public;

-- Runs last among the BEFORE triggers (they fire by name): range checks see
-- what the caller sent, the row stores the cell centre. Every writer is
-- coarsened, imports and the service role included: privacy must not
-- depend on who wrote the row.
create function matching.coarsen_talent_location()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  if new.latitude is not null and new.longitude is not null
     and new.latitude between -90 and 90 and new.longitude between -180 and 180 then
    new.longitude := matching.coarse_longitude(new.latitude, new.longitude);
    new.latitude := matching.coarse_latitude(new.latitude);
  end if;
  return new;
end
$$;
revoke all on function matching.coarsen_talent_location() from public;
create trigger zz_talents_coarsen_location
  before insert or update of latitude, longitude on public.talents
  for each row execute function matching.coarsen_talent_location();

update public.talents
   set latitude = latitude, longitude = longitude
 where latitude is not null;

-- ================================================== company view: culture

-- The culture sub-score of a pair is a function of the talent's stated
-- preferences and the company's own attributes; a company that varies its
-- attributes would read the preferences back. The company view has no
-- culture sub-score and no culture reason.
create or replace function matching.company_sub_scores(p_sub_scores jsonb)
returns jsonb
language sql
immutable
parallel safe
as $$
  select coalesce(pg_catalog.jsonb_object_agg(
           e.key, matching.company_sub_score(e.value::text::numeric, e.key)), '{}')
  from pg_catalog.jsonb_each(coalesce(p_sub_scores, '{}'::jsonb)) e
  where pg_catalog.jsonb_typeof(e.value) = 'number'
    and e.key <> 'culture'
$$;

create or replace function matching.company_reasons(p_reasons jsonb)
returns jsonb
language sql
immutable
parallel safe
as $$
  select coalesce(pg_catalog.jsonb_agg(r.value order by r.ord), '[]')
  from pg_catalog.jsonb_array_elements(coalesce(p_reasons, '[]'::jsonb)) with ordinality r (value, ord)
  where coalesce(r.value ->> 'feature', '') not in
          ('distance_km', 'commute_fit', 'timezone_overlap', 'location', 'location_missing',
           'industry_match', 'company_size_match', 'work_style_alignment', 'culture')
    and coalesce(r.value ->> 'sentence', '') !~* '( km|commute|office|industry|company size|work style)'
$$;

-- The total score still moves with the company's attributes: their changes
-- through the API are capped to one per company per day (MT023), so reading
-- a preference back takes weeks per bit, not minutes, and every change is on
-- record.
create table matching.company_attribute_changes (
  id bigint generated always as identity primary key,
  company_id uuid not null references public.companies (id) on delete cascade,
  changed_at timestamptz not null default pg_catalog.now()
);
create index company_attribute_changes_company on matching.company_attribute_changes (company_id, changed_at);
alter table matching.company_attribute_changes enable row level security;
revoke all on matching.company_attribute_changes from public, anon, authenticated;

create function matching.limit_company_attribute_changes()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  if matching.caller_role() not in ('anon', 'authenticated') then
    return new;
  end if;
  if (new.industry, new.size, new.work_styles) is not distinct from
     (old.industry, old.size, old.work_styles) then
    return new;
  end if;
  -- serialise a company's concurrent changes so two requests can't both pass
  perform 1 from public.companies c where c.id = new.id for update;
  if exists (select 1 from matching.company_attribute_changes a
             where a.company_id = new.id and a.changed_at > pg_catalog.now() - interval '1 day') then
    raise exception using errcode = 'MT023',
      message = 'industry, size and work_styles change at most once a day per company',
      detail = 'field: industry';
  end if;
  insert into matching.company_attribute_changes (company_id) values (new.id);
  return new;
end
$$;
revoke all on function matching.limit_company_attribute_changes() from public;
create trigger companies_limit_attribute_changes
  before update on public.companies
  for each row execute function matching.limit_company_attribute_changes();

-- ==================================================== direct reads of matches

-- Scores are served by the RPC functions only (at their precision); a
-- direct read gives the pairs, not the numbers, and only pairs that could
-- be shown: a talent's matches with open jobs, a company's with talents
-- open to work.
revoke select on public.matches from authenticated;
grant select (talent_id, job_id, source, computed_at) on public.matches to authenticated;
-- members cannot read talents' rows (RLS), so the market check is a definer
create function matching.talent_in_market(p_talent_id uuid)
returns boolean
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  select coalesce((select t.open_to_work from public.talents t where t.id = p_talent_id), false)
$$;
revoke all on function matching.talent_in_market(uuid) from public;
grant execute on function matching.talent_in_market(uuid) to authenticated, service_role;

drop policy matches_select on public.matches;
create policy matches_select on public.matches for select to authenticated
  using (
    (talent_id = (select matching.current_talent_id())
     and job_id in (select j.id from public.jobs j where j.status = 'open'))
    or (job_id in (
          select j.id from public.jobs j
          where j.company_id = any ((select matching.current_company_ids())::uuid[]))
        and (select matching.talent_in_market(talent_id)))
  );

-- ================================================================ feedback

-- Returns no score, source or model version (they stay in match_feedback for
-- training). Layering note: a later migration may `create or replace` this
-- function with the same signature and result; keep the showable-pair check
-- (block "showable") and the result shape.
drop function public.record_match_feedback(uuid, uuid, text);
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

-- ============================================================ bulk updates

-- Same cap as inserts: each updated job may queue a rematch, and the rate
-- limiter counts requests, not rows.
create trigger jobs_limit_api_updates
  after update on public.jobs
  referencing new table as new_rows
  for each statement execute function matching.limit_api_job_inserts();

-- Any statement touching more than one entity is bulk work and yields to
-- single edits (it was: more than ten).
create or replace function matching.safe_enqueue(p_kind text, p_ids uuid[])
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  if coalesce(pg_catalog.current_setting('matching.skip_enqueue', true), '') = 'on'
     or p_ids is null or pg_catalog.cardinality(p_ids) = 0 then
    return;
  end if;
  perform matching.enqueue_rematch(
    p_kind, p_ids, case when pg_catalog.cardinality(p_ids) > 1 then -5 else 0 end);
exception when others then
  raise warning 'matching: could not enqueue % rematch for % entities: % (%)',
    p_kind, pg_catalog.cardinality(p_ids), sqlerrm, sqlstate;
  begin
    insert into matching.enqueue_failures (kind, entity_ids, sqlstate, error)
    values (p_kind, p_ids[1:1000], sqlstate, sqlerrm);
  exception when others then
    null;
  end;
end
$$;
revoke all on function matching.safe_enqueue(text, uuid[]) from public;

-- ============================================ SECURITY DEFINER search paths

-- With `search_path = ''` (or a list without pg_temp) Postgres searches the
-- session's temporary schema FIRST for tables and types: a temp table named
-- jsonb, or procrastinate_events with a trigger, would be picked up by a
-- function running as its owner. Naming pg_temp last closes that. The
-- enqueue functions keep procrastinate (its trigger functions name their
-- tables unqualified). tests/test_privacy.py fails for any function that
-- misses this, migrations after this one included.
do $$
declare
  f record;
  v_path text;
begin
  for f in
    select p.oid::regprocedure as sig, p.proconfig
    from pg_catalog.pg_proc p
    join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where p.prosecdef and n.nspname in ('public', 'matching')
  loop
    v_path := case
      when pg_catalog.array_to_string(f.proconfig, ',') ~ 'search_path=[^,]*procrastinate'
        then 'pg_catalog, procrastinate, pg_temp'
      else 'pg_catalog, pg_temp'
    end;
    execute pg_catalog.format('alter function %s set search_path = %s', f.sig, v_path);
  end loop;
end
$$;

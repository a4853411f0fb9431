-- Input validation shared by the tables that API roles write.

-- BEFORE triggers on the tables API roles write: a bad value from the API
-- gets a clear message and a stable code instead of a CHECK violation that
-- names a constraint. They run for anon/authenticated only (the CHECKs still
-- hold for everyone) and, on UPDATE, only look at the columns that changed,
-- so an edit is never refused because of a field it did not touch.
-- Duplicates are left to the unique indexes (23505, HTTP 409): a BEFORE
-- INSERT trigger runs before ON CONFLICT is resolved, so refusing them here
-- would break PostgREST's upserts.
-- The checks below are shared; each table's migration has its own
-- validate_<table> trigger built on them. They are STABLE, not IMMUTABLE:
-- they call format(), which is STABLE (its output depends on settings such
-- as DateStyle for some arguments). They raise errors and return nothing,
-- so nothing ever caches or folds them.

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
stable
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
stable
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
stable
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
stable
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

-- Skills of a profile or posting: known skill, ranges, at most 100 per
-- profile (SKILLS_MAX in matching/models.py).
create function matching.validate_entity_skill()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
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

revoke all on function matching.check_text(text, text, integer, integer, boolean, boolean) from public;
revoke all on function matching.check_number(double precision, text, double precision, double precision, boolean)
  from public;
revoke all on function matching.check_required(boolean, text) from public;
revoke all on function matching.check_count(integer, text, integer) from public;
revoke all on function matching.check_place_and_pay(jsonb, jsonb) from public;
revoke all on function matching.validate_entity_skill() from public;

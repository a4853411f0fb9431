-- Talent profiles and their skills: tables, grants, row-level security,
-- validation, and the coarsening of talent locations.

create table public.talents (
  id uuid primary key default gen_random_uuid(),
  -- null for profiles imported without an account (synthetic data, ATS imports)
  user_id uuid unique references auth.users (id) on delete cascade,
  headline text not null
    constraint talents_headline_length check (char_length(headline) between 1 and 200)
    constraint talents_headline_single_line check (headline !~ '[[:cntrl:]]'),
  bio text not null default ''
    constraint talents_bio_length check (char_length(bio) <= 5000),
  experience_level public.experience_level not null,
  years_experience numeric(4, 1) not null
    constraint talents_years_range check (years_experience between 0 and 60),
  city text
    constraint talents_city_length check (char_length(city) between 1 and 100),
  country_code text
    constraint talents_country_code_format check (country_code ~ '^[A-Z]{2}$'),
  latitude double precision
    constraint talents_latitude_range check (latitude between -90 and 90),
  longitude double precision
    constraint talents_longitude_range check (longitude between -180 and 180),
  timezone text
    constraint talents_timezone_valid check (matching.is_valid_timezone(timezone)),
  remote_preference public.remote_preference not null default 'flexible',
  -- yearly gross amounts in salary_currency
  salary_min integer
    constraint talents_salary_min_range check (salary_min between 0 and 1000000000),
  salary_max integer
    constraint talents_salary_max_range check (salary_max between 0 and 1000000000),
  salary_currency text
    constraint talents_salary_currency_format check (salary_currency ~ '^[A-Z]{3}$'),
  open_to_work boolean not null default true,
  preferred_industries public.industry[] not null default '{}'
    constraint talents_preferred_industries_count check (
      cardinality(preferred_industries) <= 16 and array_position(preferred_industries, null) is null
    ),
  preferred_company_sizes public.company_size[] not null default '{}'
    constraint talents_preferred_company_sizes_count check (
      cardinality(preferred_company_sizes) <= 5
      and array_position(preferred_company_sizes, null) is null
    ),
  work_styles public.work_style[] not null default '{}'
    constraint talents_work_styles_count check (
      cardinality(work_styles) <= 8 and array_position(work_styles, null) is null
    ),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint talents_location_pair check ((latitude is null) = (longitude is null)),
  constraint talents_salary_order check (salary_min <= salary_max),
  constraint talents_salary_currency_required check (
    (salary_min is null and salary_max is null) or salary_currency is not null
  )
);
-- the on-the-fly fallback finds candidates by index-only scans from a talent
-- open to work to its level
create index talents_open_to_work_level_idx on public.talents (id) include (experience_level)
  where open_to_work;

create trigger talents_touch_updated_at
  before update on public.talents
  for each row execute function matching.touch_updated_at();

alter table public.talents enable row level security;
revoke all on public.talents from public, anon, authenticated;
grant all on public.talents to service_role;
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

comment on table public.talents is 'Talent profiles. One per auth user; imported profiles have no user.';
comment on column public.talents.years_experience is 'Total professional years; 0..60.';

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
set search_path = pg_catalog, pg_temp
as $$
  select t.id from public.talents t where t.user_id = (select auth.uid())
$$;
revoke all on function matching.current_talent_id() from public;
grant execute on function matching.current_talent_id() to authenticated, service_role;

-- talents: one's own profile only
create policy talents_select on public.talents for select to authenticated
  using (user_id = (select auth.uid()));
create policy talents_insert on public.talents for insert to authenticated
  with check (user_id = (select auth.uid()));
create policy talents_update on public.talents for update to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy talents_delete on public.talents for delete to authenticated
  using (user_id = (select auth.uid()));

create function matching.validate_talent()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
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

create trigger talents_validate
  before insert or update on public.talents
  for each row
  -- API roles only; the WHEN test keeps bulk loads from calling the function
  when (pg_catalog.current_setting('role', true) in ('anon', 'authenticated', 'authenticator'))
  execute function matching.validate_talent();
revoke all on function matching.validate_talent() from public;

-- ======================================================== talent locations

-- Privacy: talent locations are stored coarsened to a grid cell (>= 20 km a
-- side): no score, sub-score or reason is ever computed from exact
-- coordinates, because the database never holds them. Python features and
-- the SQL fallback read the same columns, so their parity is untouched.

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

-- ================================================================== market

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

-- =========================================================== talent skills

create table public.talent_skills (
  talent_id uuid not null references public.talents (id) on delete cascade,
  skill_id integer not null references public.skills (id) on delete cascade,
  proficiency smallint not null
    constraint talent_skills_proficiency_range check (proficiency between 1 and 5),
  years numeric(4, 1) not null default 0
    constraint talent_skills_years_range check (years between 0 and 60),
  primary key (talent_id, skill_id)
);
-- index-only scans from a skill to the profiles that have it (the fallback
-- candidate search); it also covers the foreign key on skill_id
create index talent_skills_skill_talent_idx on public.talent_skills (skill_id, talent_id);

alter table public.talent_skills enable row level security;
revoke all on public.talent_skills from public, anon, authenticated;
grant all on public.talent_skills to service_role;
-- all columns: PostgREST upserts (merge-duplicates) set the key columns too
grant select, insert, update, delete on public.talent_skills to authenticated;

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

create trigger talent_skills_validate
  before insert or update on public.talent_skills
  for each row
  when (pg_catalog.current_setting('role', true) in ('anon', 'authenticated', 'authenticator'))
  execute function matching.validate_entity_skill();

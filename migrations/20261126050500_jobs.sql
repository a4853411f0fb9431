-- Job postings and their skills: tables, grants, row-level security,
-- validation and the per-request cap on API writes.

create table public.jobs (
  id uuid primary key default gen_random_uuid(),
  company_id uuid not null references public.companies (id) on delete cascade,
  title text not null
    constraint jobs_title_length check (char_length(title) between 1 and 200)
    constraint jobs_title_single_line check (title !~ '[[:cntrl:]]'),
  description text not null default ''
    constraint jobs_description_length check (char_length(description) <= 10000),
  experience_level public.experience_level not null,
  min_years numeric(4, 1) not null default 0
    constraint jobs_min_years_range check (min_years between 0 and 60),
  max_years numeric(4, 1)
    constraint jobs_max_years_range check (max_years between 0 and 60),
  city text
    constraint jobs_city_length check (char_length(city) between 1 and 100),
  country_code text
    constraint jobs_country_code_format check (country_code ~ '^[A-Z]{2}$'),
  latitude double precision
    constraint jobs_latitude_range check (latitude between -90 and 90),
  longitude double precision
    constraint jobs_longitude_range check (longitude between -180 and 180),
  timezone text
    constraint jobs_timezone_valid check (matching.is_valid_timezone(timezone)),
  remote_policy public.remote_policy not null default 'onsite',
  salary_min integer
    constraint jobs_salary_min_range check (salary_min between 0 and 1000000000),
  salary_max integer
    constraint jobs_salary_max_range check (salary_max between 0 and 1000000000),
  salary_currency text
    constraint jobs_salary_currency_format check (salary_currency ~ '^[A-Z]{3}$'),
  status public.job_status not null default 'draft',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint jobs_years_order check (min_years <= max_years),
  constraint jobs_location_pair check ((latitude is null) = (longitude is null)),
  -- an on-site or hybrid job has to say where
  constraint jobs_location_required check (remote_policy = 'remote' or latitude is not null),
  constraint jobs_salary_order check (salary_min <= salary_max),
  constraint jobs_salary_currency_required check (
    (salary_min is null and salary_max is null) or salary_currency is not null
  )
);
create index jobs_company_id_idx on public.jobs (company_id);
create index jobs_open_idx on public.jobs (id) where status = 'open';

create trigger jobs_touch_updated_at
  before update on public.jobs
  for each row execute function matching.touch_updated_at();

alter table public.jobs enable row level security;
revoke all on public.jobs from public, anon, authenticated;
grant all on public.jobs to service_role;
grant select, delete on public.jobs to authenticated;
grant insert (id, company_id, title, description, experience_level, min_years, max_years, city,
              country_code, latitude, longitude, timezone, remote_policy, salary_min, salary_max,
              salary_currency, status)
  on public.jobs to authenticated;
grant update (title, description, experience_level, min_years, max_years, city, country_code,
              latitude, longitude, timezone, remote_policy, salary_min, salary_max,
              salary_currency, status)
  on public.jobs to authenticated;
comment on table public.jobs is 'Job postings. Only status = open jobs are matched.';
comment on column public.jobs.min_years is 'Minimum professional years the job asks for.';

-- The select policy of companies lives here: it reads jobs.
-- companies: members read theirs; everyone signed in reads companies that
-- have an open job (they appear next to it).
create policy companies_select on public.companies for select to authenticated
  using (
    id = any ((select matching.current_company_ids())::uuid[])
    or exists (select 1 from public.jobs j where j.company_id = companies.id and j.status = 'open')
  );

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

create function matching.validate_job()
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

create trigger jobs_validate
  before insert or update on public.jobs
  for each row
  when (pg_catalog.current_setting('role', true) in ('anon', 'authenticated', 'authenticator'))
  execute function matching.validate_job();
revoke all on function matching.validate_job() from public;

-- ======================================================= bulk writes via API
-- One API request may not insert more than 100 jobs: each queues a rematch,
-- and the rate limiter counts a request, not its rows. Service role and
-- database roles (imports, `matching seed`) are not limited.
create function matching.limit_api_job_inserts()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
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

-- ============================================================ bulk updates

-- Same cap as inserts: each updated job may queue a rematch, and the rate
-- limiter counts requests, not rows.
create trigger jobs_limit_api_updates
  after update on public.jobs
  referencing new table as new_rows
  for each statement execute function matching.limit_api_job_inserts();

-- ============================================================== job skills

create table public.job_skills (
  job_id uuid not null references public.jobs (id) on delete cascade,
  skill_id integer not null references public.skills (id) on delete cascade,
  required boolean not null default true,
  min_proficiency smallint not null default 3
    constraint job_skills_min_proficiency_range check (min_proficiency between 1 and 5),
  primary key (job_id, skill_id)
);
-- index-only scans from a skill to the postings that have it (the fallback
-- candidate search); it also covers the foreign key on skill_id
create index job_skills_skill_job_idx on public.job_skills (skill_id, job_id) include (required);

alter table public.job_skills enable row level security;
revoke all on public.job_skills from public, anon, authenticated;
grant all on public.job_skills to service_role;
-- all columns: PostgREST upserts (merge-duplicates) set the key columns too
grant select, insert, update, delete on public.job_skills to authenticated;

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

create trigger job_skills_validate
  before insert or update on public.job_skills
  for each row
  when (pg_catalog.current_setting('role', true) in ('anon', 'authenticated', 'authenticator'))
  execute function matching.validate_entity_skill();

-- Edit -> fresh matches: statement-level triggers enqueue one coalesced
-- procrastinate job per changed entity.
--
-- * One statement, one trigger call: a bulk import of 10,000 rows enqueues
--   10,000 jobs with a single INSERT ... SELECT.
-- * Coalescing: each job carries a queueing_lock per entity; procrastinate's
--   partial unique index (queueing_lock) where status = 'todo' plus
--   ON CONFLICT DO NOTHING turn a burst of edits into one pending job.
-- * Exclusion: each job also carries a lock per entity, so one entity is
--   never processed by two workers at once.
-- * Never fail the user's write: every trigger body catches every error,
--   raises a WARNING and records it in matching.enqueue_failures.
-- * Only columns that affect matching fire a job (compared with IS DISTINCT
--   FROM between the OLD and NEW transition tables: transition tables cannot
--   be combined with an UPDATE OF column list).

create table matching.enqueue_failures (
  id bigint generated always as identity primary key,
  kind text not null,
  entity_ids uuid[] not null default '{}',
  sqlstate text,
  error text not null,
  failed_at timestamptz not null default now()
);
create index enqueue_failures_failed_at_idx on matching.enqueue_failures (failed_at desc);
alter table matching.enqueue_failures enable row level security;
revoke all on matching.enqueue_failures from public, anon, authenticated;
grant all on matching.enqueue_failures to service_role;
comment on table matching.enqueue_failures is
  'Rematch jobs a trigger could not enqueue (the user''s write went through regardless).';

-- The one place that inserts into procrastinate's job table. procrastinate's
-- own triggers on that table call its functions unqualified, so this
-- function runs with search_path = procrastinate: the internal schema that
-- API roles can neither write nor create objects in, so nothing a user
-- controls is ever on the path. Its own statements are fully qualified.
-- Task names are "matching:<task>" (the worker registers its tasks under the
-- "matching" namespace). Returns how many jobs were actually inserted.
create function matching.enqueue_jobs(
  p_task text,
  p_queue text,
  p_entity_ids uuid[],
  p_lock_prefix text,
  p_arg_name text,
  p_scheduled_at timestamptz default null,
  p_extra_args jsonb default '{}'::jsonb,
  p_priority integer default 0
)
returns integer
language plpgsql
volatile
security definer
set search_path = procrastinate
as $$
declare
  inserted integer;
begin
  if p_task is null or p_queue is null or p_lock_prefix is null or p_arg_name is null then
    raise exception using errcode = 'MT001', message = 'enqueue_jobs: arguments must not be null';
  end if;
  insert into procrastinate.procrastinate_jobs
    (queue_name, task_name, priority, lock, queueing_lock, args, scheduled_at)
  select
    p_queue,
    'matching:' || p_task,
    coalesce(p_priority, 0),
    p_lock_prefix || ':' || e.id::text,
    p_task || ':' || e.id::text,
    coalesce(p_extra_args, '{}'::jsonb) || pg_catalog.jsonb_build_object(p_arg_name, e.id::text),
    p_scheduled_at
  from (select distinct u.id from pg_catalog.unnest(p_entity_ids) as u (id) where u.id is not null) e
  -- Coalesce with the pending job, but never let it keep a lower priority or
  -- a later start than the new request: an edit that lands on a pending
  -- bulk (rematch_all) or backoff job promotes it instead of waiting behind.
  on conflict (queueing_lock) where status = 'todo' do update
    set priority = greatest(procrastinate_jobs.priority, excluded.priority),
        scheduled_at = case
          when excluded.scheduled_at is null then null
          else least(procrastinate_jobs.scheduled_at, excluded.scheduled_at)
        end
    where procrastinate_jobs.priority < excluded.priority
       or (procrastinate_jobs.scheduled_at is not null
           and (excluded.scheduled_at is null
                or excluded.scheduled_at < procrastinate_jobs.scheduled_at));
  get diagnostics inserted = row_count;
  return inserted;
end
$$;
revoke all on function matching.enqueue_jobs(text, text, uuid[], text, text, timestamptz, jsonb, integer)
  from public;
grant execute on function matching.enqueue_jobs(text, text, uuid[], text, text, timestamptz, jsonb, integer)
  to service_role;

-- One job that is not about a single entity (backfill, rematch_all, retrain).
-- Same search_path reasoning as enqueue_jobs. Returns the job id, or null
-- when a pending job with the same queueing lock already exists.
create function matching.enqueue_task(
  p_task text,
  p_queue text,
  p_queueing_lock text,
  p_args jsonb default '{}'::jsonb,
  p_scheduled_at timestamptz default null,
  p_priority integer default 0
)
returns bigint
language plpgsql
volatile
security definer
set search_path = procrastinate
as $$
declare
  job_id bigint;
begin
  if p_task is null or p_queue is null then
    raise exception using errcode = 'MT001', message = 'enqueue_task: task and queue must not be null';
  end if;
  insert into procrastinate.procrastinate_jobs
    (queue_name, task_name, priority, lock, queueing_lock, args, scheduled_at)
  values (p_queue, 'matching:' || p_task, coalesce(p_priority, 0), p_queueing_lock, p_queueing_lock,
          coalesce(p_args, '{}'::jsonb), p_scheduled_at)
  on conflict (queueing_lock) where status = 'todo' do nothing
  returning id into job_id;
  return job_id;
end
$$;
revoke all on function matching.enqueue_task(text, text, text, jsonb, timestamptz, integer) from public;
grant execute on function matching.enqueue_task(text, text, text, jsonb, timestamptz, integer)
  to service_role;

-- Edits come first (priority 0); bulk work (rematch_all) passes a lower
-- priority so it never delays a user's fresh matches by more than one job.
create function matching.enqueue_rematch(p_kind text, p_ids uuid[], p_priority integer default 0)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if p_kind = 'talent' then
    return matching.enqueue_jobs('rematch_talent', 'rematch', p_ids, 'talent', 'talent_id',
                                 null, '{}'::jsonb, p_priority);
  elsif p_kind = 'job' then
    return matching.enqueue_jobs('rematch_job', 'rematch', p_ids, 'job', 'job_id',
                                 null, '{}'::jsonb, p_priority);
  end if;
  raise exception using errcode = 'MT007', message = format('unknown entity kind %L', p_kind);
end
$$;
revoke all on function matching.enqueue_rematch(text, uuid[], integer) from public;
grant execute on function matching.enqueue_rematch(text, uuid[], integer) to service_role;

-- Runs enqueue_rematch and swallows any error: the user's write must win.
-- Bulk loaders that backfill afterwards (matching seed) set the transaction
-- setting matching.skip_enqueue = 'on' to skip per-row jobs.
create function matching.safe_enqueue(p_kind text, p_ids uuid[])
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if coalesce(pg_catalog.current_setting('matching.skip_enqueue', true), '') = 'on'
     or p_ids is null or pg_catalog.cardinality(p_ids) = 0 then
    return;
  end if;
  -- a statement touching many entities (an import) yields to single edits
  perform matching.enqueue_rematch(
    p_kind, p_ids, case when pg_catalog.cardinality(p_ids) > 10 then -5 else 0 end);
exception when others then
  raise warning 'matching: could not enqueue % rematch for % entities: % (%)',
    p_kind, pg_catalog.cardinality(p_ids), sqlerrm, sqlstate;
  begin
    insert into matching.enqueue_failures (kind, entity_ids, sqlstate, error)
    values (p_kind, p_ids[1:1000], sqlstate, sqlerrm);
  exception when others then
    null;  -- even the failure log must not fail the write
  end;
end
$$;
revoke all on function matching.safe_enqueue(text, uuid[]) from public;

-- ---------------------------------------------------------------- talents

create function matching.talents_inserted()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform matching.safe_enqueue('talent', array(select n.id from new_rows n where n.open_to_work));
  return null;
exception when others then
  raise warning 'matching: talents_inserted trigger: % (%)', sqlerrm, sqlstate;
  return null;
end
$$;

create function matching.talents_updated()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform matching.safe_enqueue('talent', array(
    select n.id
    from new_rows n
    join old_rows o on o.id = n.id
    -- columns that feed features or the embedding text; open_to_work
    -- included: leaving the market must remove the talent's matches
    where (n.headline, n.bio, n.experience_level, n.years_experience, n.latitude, n.longitude,
           n.timezone, n.remote_preference, n.salary_min, n.salary_max, n.salary_currency,
           n.open_to_work, n.preferred_industries, n.preferred_company_sizes, n.work_styles)
      is distinct from
          (o.headline, o.bio, o.experience_level, o.years_experience, o.latitude, o.longitude,
           o.timezone, o.remote_preference, o.salary_min, o.salary_max, o.salary_currency,
           o.open_to_work, o.preferred_industries, o.preferred_company_sizes, o.work_styles)
  ));
  return null;
exception when others then
  raise warning 'matching: talents_updated trigger: % (%)', sqlerrm, sqlstate;
  return null;
end
$$;

create trigger talents_enqueue_rematch_insert
  after insert on public.talents
  referencing new table as new_rows
  for each statement execute function matching.talents_inserted();
create trigger talents_enqueue_rematch_update
  after update on public.talents
  referencing old table as old_rows new table as new_rows
  for each statement execute function matching.talents_updated();

-- ------------------------------------------------------------------- jobs

create function matching.jobs_inserted()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform matching.safe_enqueue('job', array(select n.id from new_rows n where n.status = 'open'));
  return null;
exception when others then
  raise warning 'matching: jobs_inserted trigger: % (%)', sqlerrm, sqlstate;
  return null;
end
$$;

create function matching.jobs_updated()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform matching.safe_enqueue('job', array(
    select n.id
    from new_rows n
    join old_rows o on o.id = n.id
    -- status included: closing a job must remove it from others' lists
    where (n.title, n.description, n.experience_level, n.min_years, n.max_years, n.latitude,
           n.longitude, n.timezone, n.remote_policy, n.salary_min, n.salary_max,
           n.salary_currency, n.status, n.company_id)
      is distinct from
          (o.title, o.description, o.experience_level, o.min_years, o.max_years, o.latitude,
           o.longitude, o.timezone, o.remote_policy, o.salary_min, o.salary_max,
           o.salary_currency, o.status, o.company_id)
      and (n.status = 'open' or o.status = 'open')
  ));
  return null;
exception when others then
  raise warning 'matching: jobs_updated trigger: % (%)', sqlerrm, sqlstate;
  return null;
end
$$;

create trigger jobs_enqueue_rematch_insert
  after insert on public.jobs
  referencing new table as new_rows
  for each statement execute function matching.jobs_inserted();
create trigger jobs_enqueue_rematch_update
  after update on public.jobs
  referencing old table as old_rows new table as new_rows
  for each statement execute function matching.jobs_updated();

-- -------------------------------------------------------------- companies
-- A company's culture fields are features of every one of its jobs.

create function matching.companies_updated()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform matching.safe_enqueue('job', array(
    select j.id
    from new_rows n
    join old_rows o on o.id = n.id
    join public.jobs j on j.company_id = n.id and j.status = 'open'
    where (n.name, n.industry, n.size, n.work_styles) is distinct from
          (o.name, o.industry, o.size, o.work_styles)
  ));
  return null;
exception when others then
  raise warning 'matching: companies_updated trigger: % (%)', sqlerrm, sqlstate;
  return null;
end
$$;

create trigger companies_enqueue_rematch_update
  after update on public.companies
  referencing old table as old_rows new table as new_rows
  for each statement execute function matching.companies_updated();

-- ----------------------------------------------------------------- skills
-- A skill edit rematches its owner and moves the owner's updated_at (so
-- matches computed before read as stale). One function per table serves
-- every event; each event's trigger passes the transition tables it has.

create function matching.talent_skills_changed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  ids uuid[];
begin
  if tg_op = 'INSERT' then
    ids := array(select distinct n.talent_id from new_rows n);
  elsif tg_op = 'DELETE' then
    ids := array(select distinct o.talent_id from old_rows o);
  else
    ids := array(
      select n.talent_id from new_rows n
      union
      select o.talent_id from old_rows o
    );
  end if;
  perform matching.safe_enqueue('talent', array(
    select t.id from public.talents t where t.id = any (ids) and t.open_to_work
  ));
  -- the profile changed: read functions flag matches computed before as stale
  -- (SECURITY DEFINER: the caller may not set updated_at itself)
  update public.talents t set updated_at = pg_catalog.now()
  where t.id = any (ids) and t.updated_at < pg_catalog.now();
  return null;
exception when others then
  raise warning 'matching: talent_skills trigger: % (%)', sqlerrm, sqlstate;
  return null;
end
$$;

create function matching.job_skills_changed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  ids uuid[];
begin
  if tg_op = 'INSERT' then
    ids := array(select distinct n.job_id from new_rows n);
  elsif tg_op = 'DELETE' then
    ids := array(select distinct o.job_id from old_rows o);
  else
    ids := array(select n.job_id from new_rows n union select o.job_id from old_rows o);
  end if;
  perform matching.safe_enqueue('job', array(
    select j.id from public.jobs j where j.id = any (ids) and j.status = 'open'
  ));
  update public.jobs j set updated_at = pg_catalog.now()
  where j.id = any (ids) and j.updated_at < pg_catalog.now();
  return null;
exception when others then
  raise warning 'matching: job_skills trigger: % (%)', sqlerrm, sqlstate;
  return null;
end
$$;

create trigger talent_skills_enqueue_insert
  after insert on public.talent_skills
  referencing new table as new_rows
  for each statement execute function matching.talent_skills_changed();
create trigger talent_skills_enqueue_update
  after update on public.talent_skills
  referencing old table as old_rows new table as new_rows
  for each statement execute function matching.talent_skills_changed();
create trigger talent_skills_enqueue_delete
  after delete on public.talent_skills
  referencing old table as old_rows
  for each statement execute function matching.talent_skills_changed();

create trigger job_skills_enqueue_insert
  after insert on public.job_skills
  referencing new table as new_rows
  for each statement execute function matching.job_skills_changed();
create trigger job_skills_enqueue_update
  after update on public.job_skills
  referencing old table as old_rows new table as new_rows
  for each statement execute function matching.job_skills_changed();
create trigger job_skills_enqueue_delete
  after delete on public.job_skills
  referencing old table as old_rows
  for each statement execute function matching.job_skills_changed();

revoke all on function matching.talents_inserted() from public;
revoke all on function matching.talents_updated() from public;
revoke all on function matching.jobs_inserted() from public;
revoke all on function matching.jobs_updated() from public;
revoke all on function matching.companies_updated() from public;
revoke all on function matching.talent_skills_changed() from public;
revoke all on function matching.job_skills_changed() from public;

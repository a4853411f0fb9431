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
-- function runs with procrastinate on its search_path: the internal schema
-- that API roles can neither write nor create objects in, so nothing a user
-- controls is ever on the path; pg_temp comes last, so a caller's temporary
-- table or function cannot shadow what it calls. Its own statements are
-- fully qualified.
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
set search_path = pg_catalog, procrastinate, pg_temp
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
set search_path = pg_catalog, procrastinate, pg_temp
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
set search_path = pg_catalog, pg_temp
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
-- Any statement touching more than one entity is bulk work and yields to
-- single edits.
create function matching.safe_enqueue(p_kind text, p_ids uuid[])
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

-- ---------------------------------------------------------------- talents

create function matching.talents_inserted()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
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
set search_path = pg_catalog, pg_temp
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
set search_path = pg_catalog, pg_temp
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
set search_path = pg_catalog, pg_temp
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
set search_path = pg_catalog, pg_temp
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
set search_path = pg_catalog, pg_temp
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
set search_path = pg_catalog, pg_temp
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

-- A worker that survives the database.
--
-- * Rematch marks: every rematch records, in the same transaction as its
--   match rows, the version of the data it read (the entity's updated_at; for
--   a job the later of the job's and its company's, since company culture
--   feeds every job's features). An entity whose current version differs
--   from its mark has an edit that no rematch has seen yet.
-- * Reconciliation: matching.reconcile_batch walks one kind of entity in
--   primary-key order, a batch at a time, and enqueues every entity with an
--   unseen edit through the ordinary coalescing path. The worker runs it at
--   start, after every reconnect and periodically, so an edit whose job was
--   lost (a trigger that could not enqueue, a job that failed after its
--   retries, a queue restored from an old backup) is still applied.
-- * A rematch that fails on the entity's own data (poison) records a
--   'failed' mark for that version: reconciliation does not retry it, so it
--   fails visibly once; the next edit of the entity moves updated_at and
--   tries again.
-- * matching_health() reports the number of pending edits and the age of the
--   oldest one.
--
-- The comparison is by equality with the version read, not by clocks:
-- updated_at comes from the editing transaction's start time and can even
-- go backwards under concurrency, so "changed after the newest match" is
-- decided by "is distinct from what the last rematch read".

-- ================================================================== marks

create table matching.talent_rematch_marks (
  talent_id uuid primary key references public.talents (id) on delete cascade,
  -- public.talents.updated_at as the rematch read it
  source_updated_at timestamptz not null,
  outcome text not null
    constraint talent_rematch_marks_outcome check (outcome in ('matched', 'removed', 'failed')),
  -- the error of a failed (poison) rematch, for people
  error text,
  marked_at timestamptz not null default now()
);
comment on table matching.talent_rematch_marks is
  'Per talent: the data version (updated_at) its last rematch read, and how it ended.'
  ' updated_at distinct from source_updated_at = an edit no rematch has seen yet.';

create table matching.job_rematch_marks (
  job_id uuid primary key references public.jobs (id) on delete cascade,
  -- greatest(public.jobs.updated_at, public.companies.updated_at) as read
  source_updated_at timestamptz not null,
  outcome text not null
    constraint job_rematch_marks_outcome check (outcome in ('matched', 'removed', 'failed')),
  error text,
  marked_at timestamptz not null default now()
);
comment on table matching.job_rematch_marks is
  'Per job: the data version (later of the job''s and its company''s updated_at) its last'
  ' rematch read, and how it ended.';

alter table matching.talent_rematch_marks enable row level security;
alter table matching.job_rematch_marks enable row level security;
revoke all on matching.talent_rematch_marks from public, anon, authenticated;
revoke all on matching.job_rematch_marks from public, anon, authenticated;
grant all on matching.talent_rematch_marks to service_role;
grant all on matching.job_rematch_marks to service_role;

-- Existing installations: an entity whose newest stored match or embedding
-- is at least as new as its data has been seen; mark it so the first
-- reconciliation after the upgrade only enqueues real gaps.
insert into matching.talent_rematch_marks (talent_id, source_updated_at, outcome)
select t.id, t.updated_at, case when t.open_to_work then 'matched' else 'removed' end
from public.talents t
left join matching.talent_embeddings e on e.talent_id = t.id
where not t.open_to_work
   or greatest(
        e.embedded_at,
        (select max(m.computed_at) from public.matches m where m.talent_id = t.id)
      ) >= t.updated_at;

insert into matching.job_rematch_marks (job_id, source_updated_at, outcome)
select j.id, greatest(j.updated_at, c.updated_at),
       case when j.status = 'open' then 'matched' else 'removed' end
from public.jobs j
join public.companies c on c.id = j.company_id
left join matching.job_embeddings e on e.job_id = j.id
where j.status <> 'open'
   or greatest(
        e.embedded_at,
        (select max(m.computed_at) from public.matches m where m.job_id = j.id)
      ) >= greatest(j.updated_at, c.updated_at);

-- ========================================================= reconciliation

-- Entities with an edit no rematch has seen, in one batch of the primary key
-- (keyset: ids greater than p_after, p_limit of them). Stale means:
--   in the market and its data version differs from its mark (or it has no
--   mark), or out of the market and still holding stored matches.
-- A 'failed' mark for the current version is not stale: a poison entity
-- fails once, visibly, and waits for its next edit.
-- Cost per batch: one index range scan of the entity table and one primary
-- key probe of the marks per row (benchmarks/reconcile.py measures 100k).
create function matching.stale_entities(p_kind text, p_after uuid, p_limit integer)
returns table (entity_id uuid, in_market boolean, data_version timestamptz, last_id uuid)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  if p_limit is null or p_limit < 1 or p_limit > 100000 then
    raise exception using errcode = 'MT001',
      message = 'stale_entities: p_limit must be between 1 and 100000';
  end if;
  if p_kind = 'talent' then
    return query
    with batch as (
      select t.id, t.open_to_work as live, t.updated_at as version
      from public.talents t
      -- one index range scan (an OR with p_after is null would defeat it)
      where t.id > coalesce(p_after, '00000000-0000-0000-0000-000000000000'::uuid)
      order by t.id
      limit p_limit
    )
    -- marks are probed by primary key per row (a correlated subquery): a
    -- join would let the planner hash the whole marks table for every batch
    select b.id, b.live, b.version, (select x.id from batch x order by x.id desc limit 1)
    from batch b
    where (b.live and (select mk.source_updated_at from matching.talent_rematch_marks mk
                       where mk.talent_id = b.id) is distinct from b.version)
       or (not b.live and exists (select 1 from public.matches m where m.talent_id = b.id))
    union all
    -- the cursor, even when nothing in the batch is stale
    select null, null, null, (select x.id from batch x order by x.id desc limit 1);
  elsif p_kind = 'job' then
    return query
    with batch as (
      select j.id, j.status = 'open' as live,
             greatest(j.updated_at, c.updated_at) as version
      from public.jobs j
      join public.companies c on c.id = j.company_id
      where j.id > coalesce(p_after, '00000000-0000-0000-0000-000000000000'::uuid)
      order by j.id
      limit p_limit
    )
    select b.id, b.live, b.version, (select x.id from batch x order by x.id desc limit 1)
    from batch b
    where (b.live and (select mk.source_updated_at from matching.job_rematch_marks mk
                       where mk.job_id = b.id) is distinct from b.version)
       or (not b.live and exists (select 1 from public.matches m where m.job_id = b.id))
    union all
    select null, null, null, (select x.id from batch x order by x.id desc limit 1);
  else
    raise exception using errcode = 'MT007', message = pg_catalog.format('unknown entity kind %L', p_kind);
  end if;
end
$$;
revoke all on function matching.stale_entities(text, uuid, integer) from public, anon, authenticated;
grant execute on function matching.stale_entities(text, uuid, integer) to service_role;
comment on function matching.stale_entities(text, uuid, integer) is
  'Entities (one keyset batch) with an edit no rematch has seen; the last row (entity_id null)'
  ' carries the cursor. Errors: MT001, MT007.';

-- One reconciliation step: enqueue the batch's stale entities (coalescing
-- with pending jobs) at priority -5, below single edits (0) and above bulk
-- re-ranks (-10): these are users' edits that have already waited.
-- Returns the cursor for the next call (null when the table is done), how
-- many entities were stale and how many jobs were actually inserted (a
-- pending job for the same entity absorbs the rest).
create function matching.reconcile_batch(
  p_kind text,
  p_after uuid default null,
  p_limit integer default 5000
)
returns table (next_after uuid, stale integer, queued integer)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_ids uuid[];
  v_last uuid;
  v_queued integer := 0;
begin
  -- every row carries the same cursor (uuid has no max())
  select pg_catalog.array_agg(s.entity_id) filter (where s.entity_id is not null),
         (pg_catalog.array_agg(s.last_id) filter (where s.last_id is not null))[1]
    into v_ids, v_last
  from matching.stale_entities(p_kind, p_after, p_limit) s;
  if pg_catalog.cardinality(v_ids) > 0 then
    v_queued := matching.enqueue_rematch(p_kind, v_ids, -5);
  end if;
  return query select v_last, coalesce(pg_catalog.cardinality(v_ids), 0), v_queued;
end
$$;
revoke all on function matching.reconcile_batch(text, uuid, integer) from public, anon, authenticated;
grant execute on function matching.reconcile_batch(text, uuid, integer) to service_role;
comment on function matching.reconcile_batch(text, uuid, integer) is
  'Enqueue the stale entities of one keyset batch; returns the next cursor (null at the end),'
  ' the stale count and the jobs inserted. Errors: MT001, MT007.';

-- Pending edits: entities in the market whose data version no rematch has
-- seen, and the age of the oldest such edit. A full pass over both entity
-- tables (tens of milliseconds at 100k talents); an admin call, not a hot path.
create function matching.pending_edits()
returns table (pending bigint, oldest_age_seconds double precision)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  with stale as (
    select t.updated_at as version
    from public.talents t
    left join matching.talent_rematch_marks mk on mk.talent_id = t.id
    where t.open_to_work and mk.source_updated_at is distinct from t.updated_at
    union all
    select greatest(j.updated_at, c.updated_at)
    from public.jobs j
    join public.companies c on c.id = j.company_id
    left join matching.job_rematch_marks mk on mk.job_id = j.id
    where j.status = 'open'
      and mk.source_updated_at is distinct from greatest(j.updated_at, c.updated_at)
  )
  select count(*),
         coalesce(extract(epoch from pg_catalog.clock_timestamp() - min(s.version))::double precision, 0)
  from stale s
$$;
revoke all on function matching.pending_edits() from public, anon, authenticated;
grant execute on function matching.pending_edits() to service_role;

-- A worker that survives the database (issue 13).
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

-- ================================================================ health

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

-- matching_health gains two columns (pending_edits, oldest_pending_edit_age_seconds):
-- a new return type, so drop and recreate (with its grants).
drop function public.matching_health();
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
  pending_edits bigint,
  oldest_pending_edit_age_seconds double precision,
  rows_served_last_hour bigint,
  fallback_rows_last_hour bigint,
  fallback_share_last_hour double precision,
  checked_at timestamptz
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
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
  v_edits bigint;
  v_edit_age double precision;
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
  select p.pending, p.oldest_age_seconds into v_edits, v_edit_age from matching.pending_edits() p;
  select coalesce(sum(s.rows_served), 0), coalesce(sum(s.fallback_rows), 0) into v_rows, v_fallback
  from matching.serving_stats s where s.bucket >= pg_catalog.now() - interval '1 hour';
  return query select v_version, v_trained, v_activated, coalesce(v_workers, 0), v_heartbeat,
    coalesce(v_depth, 0), coalesce(v_by_queue, '{}'::jsonb), coalesce(v_running, 0),
    coalesce(v_oldest, 0), coalesce(v_edits, 0), coalesce(v_edit_age, 0), v_rows, v_fallback,
    case when v_rows > 0 then v_fallback::double precision / v_rows end,
    pg_catalog.clock_timestamp();
end
$$;
comment on function public.matching_health() is
  'Admins: active model and when it was trained, worker heartbeat age, queue depth, oldest'
  ' pending job age, pending edits (entities whose data no rematch has seen yet) and the age'
  ' of the oldest, share of fallback rows served in the last hour. Errors: 42501.';
revoke all on function public.matching_health() from public, anon;
grant execute on function public.matching_health() to authenticated, service_role;

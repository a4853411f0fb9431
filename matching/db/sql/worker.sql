-- Queries of the worker (worker/tasks.py, worker/main.py). Task names and
-- queues are parameters: they are defined once, in matching/queues.py,
-- matching/side.py and worker/tasks.py. Per-side identifiers come from matching.side.Side.

-- name: market_batch
-- The next ids (by id, after the cursor) of entities in the market.
select s.id from {entities} s
where {in_market} and (%(after)s::uuid is null or s.id > %(after)s::uuid)
order by s.id
limit %(limit)s

-- name: market_ids
-- Every entity in the market (warm-up of the text cache).
select s.id from {entities} s where {in_market}

-- name: enqueue_rematch_later
-- A rematch job with a start delay and extra arguments (the retry of a
-- transient failure); coalesces with a pending job for the same entity.
select matching.enqueue_jobs(%(task)s, %(queue)s, array[%(id)s::uuid], %(lock_prefix)s,
                             %(arg)s, now() + make_interval(secs => %(delay)s),
                             jsonb_build_object('attempt', %(attempt)s::integer))

-- name: enqueue_task
-- One job not about a single entity; its queueing lock is its task name.
select matching.enqueue_task(%(task)s, %(queue)s, %(task)s, %(args)s, null, %(priority)s)

-- name: enqueue_batch
-- One bulk re-rank batch (rematch_batch): its lock and queueing lock name
-- the batch ("<task>:<kind>:<first id>:<digest of all ids>"), so only a batch
-- of the same entities coalesces with a pending one; batches never wait
-- for each other, nor for the per-entity jobs of edits; a start
-- delay (> 0) is the backoff of a retried batch.
select matching.enqueue_task(%(task)s, %(queue)s, %(lock)s, %(args)s,
                             case when %(delay)s::float8 > 0
                                  then now() + make_interval(secs => %(delay)s::float8) end,
                             %(priority)s)

-- name: edits_waiting
-- Whether a job above bulk priority (an edit's rematch) is runnable on the
-- given queue (the rematch queue): a bulk re-rank batch, on its own queue,
-- checks before each entity's write and hands its remaining entities back
-- when one is (worker/tasks.py).
select exists (
  select 1 from procrastinate.procrastinate_jobs
  where queue_name = %(queue)s and status = 'todo' and priority > %(priority)s
    and (scheduled_at is null or scheduled_at <= now())
)

-- name: purge_api_counters
select matching.purge_api_counters()

-- name: queue_depth
-- Runnable-or-waiting jobs per queue.
select queue_name, count(*) from procrastinate.procrastinate_jobs
where status = 'todo' group by queue_name

-- name: oldest_pending
-- Age of the oldest runnable job, from procrastinate's 'deferred' events.
select coalesce(extract(epoch from now() - min(e.at)), 0)
from procrastinate.procrastinate_jobs j
join procrastinate.procrastinate_events e on e.job_id = j.id and e.type = 'deferred'
where j.status = 'todo' and (j.scheduled_at is null or j.scheduled_at <= now())

-- name: fallback_share
-- Share of the last hour's stored scores that came from the fallback scorer.
select coalesce(avg((source = 'fallback')::int), 0) from public.matches
where computed_at > now() - interval '1 hour'

-- name: probe
-- Does the database answer (the supervisor's probe, /healthz)?
select 1 as ok

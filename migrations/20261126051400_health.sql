-- matching_health(): the engine's vital signs for admins: the active model,
-- workers, queue depth, pending edits and how much the fallback served.

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

-- What the Supabase CLI's linters (`supabase db lint`, plpgsql_check, and
-- `supabase db advisors`) found on a fully migrated database, fixed.
-- procrastinate's functions got their fixed search_path in the queue's own
-- migration (20261203090000_procrastinate_queue.sql); the findings left on
-- purpose are listed in the README (Supabase section).

-- The validation helpers were IMMUTABLE while they call format(), which is
-- STABLE (its output depends on settings such as DateStyle for some
-- arguments). They raise errors and return nothing, so nothing ever cached
-- or folded them; STABLE is simply the truth.
alter function matching.check_text(text, text, integer, integer, boolean, boolean) stable;
alter function matching.check_number(double precision, text, double precision, double precision, boolean)
  stable;
alter function matching.check_required(boolean, text) stable;
alter function matching.check_count(integer, text, integer) stable;
alter function matching.check_read_args(integer, numeric) stable;

-- request_retrain declared v_attempt and then looped with a FOR variable of
-- the same name, which shadows it: the declared one was never used. Same
-- body without it; the loop variable is FOR's own.
create or replace function matching.request_retrain(force boolean default false)
returns table (job_id bigint, enqueued boolean, forced boolean)
language plpgsql
volatile
security definer
set search_path = pg_catalog, procrastinate, pg_temp
as $$
declare
  v_id bigint;
  v_args jsonb;
begin
  perform matching.assert_admin();
  if force is null then
    raise exception using errcode = 'MT001', message = 'force must not be null';
  end if;
  if pg_catalog.to_regclass('procrastinate.procrastinate_jobs') is null then
    raise exception using errcode = 'MT503',
      message = 'the job queue is not installed; run `matching migrate` or `supabase db push`';
  end if;
  for attempt in 1..3 loop
    insert into procrastinate.procrastinate_jobs
      (queue_name, task_name, priority, lock, queueing_lock, args)
    values ('retrain', 'matching:retrain', 0, 'retrain', 'retrain',
            pg_catalog.jsonb_build_object('force', force))
    on conflict (queueing_lock) where status = 'todo' do nothing
    returning procrastinate_jobs.id into v_id;
    if v_id is not null then
      return query select v_id, true, force;
      return;
    end if;
    select pj.id, pj.args into v_id, v_args
    from procrastinate.procrastinate_jobs pj
    where pj.queueing_lock = 'retrain' and pj.status = 'todo';
    if v_id is not null then
      if force and coalesce(v_args ->> 'force', 'false') <> 'true' then
        update procrastinate.procrastinate_jobs pj
          set args = pj.args || '{"force": true}'::jsonb
        where pj.id = v_id and pj.status = 'todo';
        v_args := v_args || '{"force": true}'::jsonb;
      end if;
      return query select v_id, false, coalesce(v_args ->> 'force', 'false') = 'true';
      return;
    end if;
    -- the pending job was picked up between the two statements: try again
    -- (attempt counts the tries)
  end loop;
  raise exception using errcode = 'MT503', message = 'could not enqueue the retrain, try again';
end
$$;

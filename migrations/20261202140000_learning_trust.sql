-- Learning trust: feedback knows where its pair was shown, and one account's
-- feedback is bounded per day.
--
-- * matching.served_lists keeps, per viewer side and entity, the order of the
--   list the read functions served last; a feedback row copies the rank its
--   pair had there (match_feedback.shown_rank). Training and the activation
--   gate weight feedback by the inverse examination propensity of that rank
--   (matching/feedback_weights.py), so what users clicked at the top of a list
--   does not read as "better" merely for being on top.
-- * matching.api_settings.feedback_daily_cap bounds the feedback rows one
--   account writes in 24 hours (MT030), separately from the request rate
--   limit: the rate limit slows a flood, the cap ends it.

-- ============================================================ served lists

create table matching.served_lists (
  side public.feedback_actor not null,
  -- the talent (side 'talent') or the job (side 'company') whose list it is
  entity_id uuid not null,
  -- counterparts in the order served: position + offset = the rank shown
  counterparts uuid[] not null
    constraint served_lists_bounded check (pg_catalog.cardinality(counterparts) <= 500),
  first_rank integer not null default 1
    constraint served_lists_first_rank check (first_rank >= 1),
  served_at timestamptz not null default pg_catalog.now(),
  primary key (side, entity_id)
);
comment on table matching.served_lists is
  'The last list served to each side of each entity (by get_talent_matches/get_job_matches):'
  ' feedback copies its pair''s rank from here (match_feedback.shown_rank). One row per'
  ' entity and side, overwritten on every read.';
revoke all on matching.served_lists from public;

-- Remember the order of one served list. Called by the read functions in a
-- data-modifying CTE; losing a row to a crash only means a later feedback row
-- has no rank (weight 1, the conservative default).
create function matching.note_served(
  p_side public.feedback_actor,
  p_entity uuid,
  p_counterparts uuid[],
  p_first_rank integer default 1
)
returns void
language sql
volatile
set search_path = ''
as $$
  insert into matching.served_lists as s (side, entity_id, counterparts, first_rank, served_at)
  values (p_side, p_entity, coalesce(p_counterparts, '{}'), greatest(p_first_rank, 1),
          pg_catalog.now())
  on conflict (side, entity_id) do update
    set counterparts = excluded.counterparts, first_rank = excluded.first_rank,
        served_at = excluded.served_at;
$$;
comment on function matching.note_served(public.feedback_actor, uuid, uuid[], integer) is
  'Record the order of a list just served (internal; called by the read functions).';
revoke all on function matching.note_served(public.feedback_actor, uuid, uuid[], integer)
  from public;

-- ======================================================== feedback columns

alter table public.match_feedback
  add column shown_rank integer
    constraint match_feedback_shown_rank_range check (shown_rank between 1 and 10000);
comment on column public.match_feedback.shown_rank is
  'Rank (1 = top) at which the acting side was last shown this pair, null when it never was'
  ' (e.g. feedback by id from a link). Weights the row in training (position bias).';

-- the daily cap counts an account's rows of the last 24 hours
create index match_feedback_actor_user_created_idx
  on public.match_feedback (actor_user_id, created_at)
  where actor_user_id is not null;

alter table matching.api_settings
  add column feedback_daily_cap integer not null default 200
    constraint api_settings_feedback_daily_cap check (feedback_daily_cap between 1 and 100000);
comment on column matching.api_settings.feedback_daily_cap is
  'Feedback rows one account may write per 24 hours (MT030 beyond it).';

-- ================================================================ the guard

-- Before a feedback row is written: refuse it past the account's daily cap,
-- and stamp the rank at which its side was shown the pair. Runs for every
-- writer (record_match_feedback as owner, service_role, psql), so the cap
-- cannot be sidestepped by another entry point; rows without an account
-- (service_role, a deleted user) are not capped.
create function matching.match_feedback_guard()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_cap integer;
  v_recent bigint;
  v_list matching.served_lists%rowtype;
  v_pos integer;
begin
  -- a repeat of recorded feedback is answered by the existing row
  -- (record_match_feedback's on conflict): it neither counts nor is refused
  if exists (select 1 from public.match_feedback f
             where f.talent_id = new.talent_id and f.job_id = new.job_id
               and f.feedback_type = new.feedback_type) then
    return new;
  end if;
  if new.actor_user_id is not null then
    select a.feedback_daily_cap into v_cap from matching.api_settings a where a.id;
    v_cap := coalesce(v_cap, 200);
    -- one account's concurrent requests queue here, so the count is exact
    perform pg_catalog.pg_advisory_xact_lock(
      pg_catalog.hashtextextended('match_feedback_guard:' || new.actor_user_id::text, 0));
    select count(*) into v_recent
    from public.match_feedback f
    where f.actor_user_id = new.actor_user_id
      and f.created_at > pg_catalog.now() - interval '24 hours';
    if v_recent >= v_cap then
      raise exception using errcode = 'MT030',
        message = format('daily feedback limit reached: %s rows in 24 hours', v_cap),
        hint = 'Feedback counts per account and day; try again tomorrow.';
    end if;
  end if;

  if new.shown_rank is null then
    select * into v_list
    from matching.served_lists s
    where s.side = new.actor
      and s.entity_id = case when new.actor = 'talent' then new.talent_id else new.job_id end;
    if found then
      v_pos := pg_catalog.array_position(
        v_list.counterparts, case when new.actor = 'talent' then new.job_id else new.talent_id end);
      if v_pos is not null then
        new.shown_rank := v_list.first_rank + v_pos - 1;
      end if;
    end if;
  end if;
  return new;
end
$$;
comment on function matching.match_feedback_guard() is
  'BEFORE INSERT on match_feedback: the per-account daily cap (MT030) and shown_rank.';
revoke all on function matching.match_feedback_guard() from public;

create trigger match_feedback_guard
  before insert on public.match_feedback
  for each row execute function matching.match_feedback_guard();

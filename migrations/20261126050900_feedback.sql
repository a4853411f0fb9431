-- The feedback users give on matches: it feeds retraining. Feedback knows
-- where its pair was shown, and one account's feedback is bounded per day
-- (matching.api_settings.feedback_daily_cap, MT030), separately from the
-- request rate limit: the rate limit slows a flood, the cap ends it.

create table public.match_feedback (
  id bigint generated always as identity primary key,
  talent_id uuid not null references public.talents (id) on delete cascade,
  job_id uuid not null references public.jobs (id) on delete cascade,
  feedback_type public.feedback_type not null,
  actor public.feedback_actor not null,
  actor_user_id uuid references auth.users (id) on delete set null,
  -- copied from the match at the moment of feedback: what the user saw
  score real
    constraint match_feedback_score_range check (score between 0 and 100),
  source public.match_source,
  model_version text references matching.model_versions (version),
  features real[]
    constraint match_feedback_features_count check (cardinality(features) <= 500),
  created_at timestamptz not null default now(),
  shown_rank integer
    constraint match_feedback_shown_rank_range check (shown_rank between 1 and 10000),
  constraint match_feedback_once unique (talent_id, job_id, feedback_type),
  -- talents record applied/interested/dismissed, companies the rest
  constraint match_feedback_actor_matches_type check (
    actor = case
      when feedback_type in ('applied', 'interested', 'dismissed') then 'talent'::public.feedback_actor
      else 'company'::public.feedback_actor
    end
  )
);
create index match_feedback_job_id_idx on public.match_feedback (job_id);
create index match_feedback_created_at_idx on public.match_feedback (created_at);
create index match_feedback_actor_user_id_idx on public.match_feedback (actor_user_id);
create index match_feedback_model_version_idx on public.match_feedback (model_version);

-- the daily cap counts an account's rows of the last 24 hours
create index match_feedback_actor_user_created_idx
  on public.match_feedback (actor_user_id, created_at)
  where actor_user_id is not null;

comment on table public.match_feedback is
  'User feedback on matches; feeds retraining. Unique per pair and feedback type.';
comment on column public.match_feedback.shown_rank is
  'Rank (1 = top) at which the acting side was last shown this pair, null when it never was'
  ' (e.g. feedback by id from a link). Weights the row in training (position bias).';

alter table public.match_feedback enable row level security;
revoke all on public.match_feedback from public, anon, authenticated;
grant all on public.match_feedback to service_role;
-- Column grants: a direct table read never returns the feature snapshot
-- (distance_km in it would locate a talent) or the acting user's id.
grant select (id, talent_id, job_id, feedback_type, actor, created_at)
  on public.match_feedback to authenticated;

-- match_feedback: a talent sees what they recorded; a member sees what the
-- company recorded for its jobs plus applications to them. "interested" and
-- "dismissed" stay private to the talent, "shortlisted"/"rejected" to the company.
create policy match_feedback_select on public.match_feedback for select to authenticated
  using (
    (actor = 'talent' and talent_id = (select matching.current_talent_id()))
    or ((actor = 'company' or feedback_type = 'applied')
        and job_id in (
          select j.id from public.jobs j
          where j.company_id = any ((select matching.current_company_ids())::uuid[])
        ))
  );

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

-- Queries of matching.cli: what `matching demo` watches and prints.

-- name: demo_open_jobs_embedded
-- How far the worker is with embedding the open jobs (embedded, total).
select count(e.job_id) as embedded, count(*) as total
from public.jobs j
left join matching.job_embeddings e on e.job_id = j.id
where j.status = 'open'

-- name: demo_worker_alive
-- A worker registers once its job loop runs and then beats every few seconds.
select count(*) > 0 from procrastinate.procrastinate_workers
where last_heartbeat > now() - interval '30 seconds'

-- name: demo_pick_talent
-- The first open-to-work talent with skills: its edit yields visible matches.
select t.id, t.headline from public.talents t
where t.open_to_work
  and exists (select 1 from public.talent_skills s where s.talent_id = t.id)
order by t.id limit 1

-- name: demo_edit_talent
-- The edit the demo makes through SQL, like any client would; the worker's
-- trigger picks it up. Returns the commit-side clock to time freshness from.
update public.talents set headline = %(headline)s,
    years_experience = least(60, years_experience + 1)
where id = %(talent_id)s
returning clock_timestamp()

-- name: demo_matches_fresh
-- True once the talent has matches and all were computed after the edit.
select count(*) > 0 and bool_and(computed_at > %(edited_at)s) from public.matches
where talent_id = %(talent_id)s

-- name: demo_write_delay
-- Seconds from the edit to the last match the worker wrote for the talent.
select extract(epoch from max(computed_at) - %(edited_at)s) from public.matches
where talent_id = %(talent_id)s

-- name: demo_top_matches
-- The talent's best matches with what the demo prints of each.
select j.title, c.name as company, m.score, m.source, m.model_version, m.explanation
from public.matches m
join public.jobs j on j.id = m.job_id
join public.companies c on c.id = j.company_id
where m.talent_id = %(talent_id)s
order by m.score desc limit %(top)s

-- name: demo_users_pick
-- Who the demo's sign-in users stand for: open-to-work talents with skills
-- and no account (the first two; an email that already owns one keeps it),
-- and the company the demo owner belongs to, else the one with the most
-- open jobs.
with fresh as (
  select t.id from public.talents t
  where t.open_to_work and t.user_id is null
    and exists (select 1 from public.talent_skills s where s.talent_id = t.id)
  order by t.id limit 2
),
mine_company as (
  select m.company_id as id from public.company_members m join auth.users u on u.id = m.user_id
  where u.email = %(owner_email)s
  order by m.company_id limit 1
),
top_company as (
  select j.company_id as id from public.jobs j where j.status = 'open'
  group by j.company_id order by count(*) desc, j.company_id limit 1
)
select array(select id from fresh order by id) as talent_ids,
       coalesce((select id from mine_company), (select id from top_company)) as company_id

-- name: demo_users_exist
-- Whether an earlier demo run made its sign-in users (marked in their metadata).
select exists (
  select 1 from auth.users u
  where u.email like %(pattern)s and u.raw_user_meta_data ->> 'demo' = 'true'
)

-- name: demo_owned_talent
-- The talent profile an account owns (at most one: talents.user_id is unique).
select t.id from public.talents t join auth.users u on u.id = t.user_id
where u.email = %(email)s

-- name: demo_user_by_email
select id, coalesce(raw_user_meta_data ->> 'demo' = 'true', false) as demo
from auth.users where email = %(email)s

-- name: demo_link_talent
-- Gives the talent profile to the demo user (unless another account owns it).
update public.talents set user_id = %(user_id)s
where id = %(talent_id)s and (user_id is null or user_id = %(user_id)s)
returning id

-- name: demo_add_member
insert into public.company_members (company_id, user_id, role)
values (%(company_id)s, %(user_id)s, %(role)s)
on conflict (company_id, user_id) do nothing

-- name: demo_company_jobs
-- The demo company's name and its open jobs, best known first (for the printout).
select c.name, array(
  select j.id from public.jobs j where j.company_id = c.id and j.status = 'open'
  order by j.title, j.id limit 3
) as job_ids
from public.companies c where c.id = %(company_id)s

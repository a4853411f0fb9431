-- What the signed-in user can open: their talent profile and the jobs of
-- the companies they belong to. A dashboard needs these ids before it can
-- call get_talent_matches or get_job_matches; the tables' policies would
-- answer the same through PostgREST's table API, but a client that speaks
-- RPC only (and its generated types) gets it in one call, ordered for a
-- picker. Nothing here is more than the caller may read through those
-- policies: their own profile's headline, their companies' names and jobs.

create function public.get_my_context()
returns table (
  kind text,                       -- 'talent' or 'job'
  id uuid,                         -- talents.id or jobs.id
  label text,                      -- the talent's headline or the job's title
  company_id uuid,                 -- jobs only
  company_name text,               -- jobs only
  member_role public.member_role,  -- jobs only: the caller's role in the company
  status public.job_status,        -- jobs only
  updated_at timestamptz
)
language plpgsql
-- volatile like the other read functions, so the rate limiter counts it
-- (PostgREST runs a STABLE function read-only, where the hook cannot count)
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_column
declare
  v_role text := matching.caller_role();
  v_uid uuid := (select auth.uid());
begin
  if v_role = 'anon' then
    raise exception using errcode = '42501', message = 'sign in to see your profiles and jobs';
  end if;
  -- service_role and internal callers are no user: nothing is theirs, and an
  -- empty answer says so (they read any talent or job by id instead)
  return query
  select c.kind, c.id, c.label, c.company_id, c.company_name, c.member_role, c.status,
         c.updated_at
  from (
    select 'talent'::text as kind, t.id, t.headline as label, null::uuid as company_id,
           null::text as company_name, null::public.member_role as member_role,
           null::public.job_status as status, t.updated_at
    from public.talents t
    where t.user_id = v_uid
    union all
    select 'job'::text, j.id, j.title, co.id, co.name, m.role, j.status, j.updated_at
    from public.company_members m
    join public.companies co on co.id = m.company_id
    join public.jobs j on j.company_id = co.id
    where m.user_id = v_uid
  ) c
  -- the talent first; then by company, open jobs before drafts before closed
  order by c.kind desc, c.company_name, c.company_id, (c.status = 'open') desc, c.status,
           c.label, c.id;
end
$$;

comment on function public.get_my_context() is
  'The caller''s talent profile (at most one) and the jobs of their companies (kind, id, label, company,'
  ' role, status): the ids a dashboard opens with get_talent_matches / get_job_matches.'
  ' Empty for service_role; 42501 for anonymous callers.';

revoke all on function public.get_my_context() from public, anon;
grant execute on function public.get_my_context() to authenticated, service_role;

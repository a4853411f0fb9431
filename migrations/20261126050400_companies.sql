-- Companies and their members: tables, grants, row-level security (the
-- select policy of companies reads jobs, so it comes with the jobs),
-- validation, the last-owner rule and the cap on attribute changes.

create table public.companies (
  id uuid primary key default gen_random_uuid(),
  name text not null
    constraint companies_name_length check (char_length(name) between 1 and 200)
    constraint companies_name_single_line check (name !~ '[[:cntrl:]]'),
  description text not null default ''
    constraint companies_description_length check (char_length(description) <= 5000),
  industry public.industry not null,
  size public.company_size not null,
  work_styles public.work_style[] not null default '{}'
    constraint companies_work_styles_count check (
      cardinality(work_styles) <= 8 and array_position(work_styles, null) is null
    ),
  "values" text[] not null default '{}'
    constraint companies_values_items check (
      cardinality("values") <= 10 and matching.text_items_ok("values", 40)
    ),
  website text
    constraint companies_website_format check (website ~ '^https?://[^[:space:]]{1,250}$'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table public.company_members (
  company_id uuid not null references public.companies (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role public.member_role not null default 'recruiter',
  created_at timestamptz not null default now(),
  primary key (company_id, user_id)
);
-- RLS policies look members up by user.
create index company_members_user_id_idx on public.company_members (user_id);

create trigger companies_touch_updated_at
  before update on public.companies
  for each row execute function matching.touch_updated_at();

alter table public.companies enable row level security;
alter table public.company_members enable row level security;
revoke all on public.companies from public, anon, authenticated;
grant all on public.companies to service_role;
grant select on public.companies to authenticated;
grant update (name, description, industry, size, work_styles, "values", website)
  on public.companies to authenticated;
revoke all on public.company_members from public, anon, authenticated;
grant all on public.company_members to service_role;
grant select, delete on public.company_members to authenticated;
grant insert (company_id, user_id, role), update (role) on public.company_members to authenticated;

-- RLS policy helpers about the caller's companies (see current_talent_id).
create function matching.current_company_ids()
returns uuid[]
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  select coalesce(pg_catalog.array_agg(m.company_id), '{}')
  from public.company_members m
  where m.user_id = (select auth.uid())
$$;

create function matching.has_company_role(p_company_id uuid, p_roles public.member_role[])
returns boolean
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  select exists (
    select 1 from public.company_members m
    where m.company_id = p_company_id and m.user_id = (select auth.uid()) and m.role = any (p_roles)
  )
$$;
revoke all on function matching.current_company_ids() from public;
revoke all on function matching.has_company_role(uuid, public.member_role[]) from public;
grant execute on function matching.current_company_ids() to authenticated, service_role;
grant execute on function matching.has_company_role(uuid, public.member_role[])
  to authenticated, service_role;

-- companies: owners and admins edit.
create policy companies_update on public.companies for update to authenticated
  using (matching.has_company_role(id, '{owner,admin}'))
  with check (matching.has_company_role(id, '{owner,admin}'));

-- company_members: members see their colleagues; owners manage membership;
-- anyone may leave.
create policy company_members_select on public.company_members for select to authenticated
  using (user_id = (select auth.uid()) or company_id = any ((select matching.current_company_ids())::uuid[]));
create policy company_members_insert on public.company_members for insert to authenticated
  with check (matching.has_company_role(company_id, '{owner}'));
create policy company_members_update on public.company_members for update to authenticated
  using (matching.has_company_role(company_id, '{owner}'))
  with check (matching.has_company_role(company_id, '{owner}'));
create policy company_members_delete on public.company_members for delete to authenticated
  using (user_id = (select auth.uid()) or matching.has_company_role(company_id, '{owner}'));

create function matching.validate_company()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  if matching.caller_role() not in ('anon', 'authenticated') then
    return new;
  end if;
  if tg_op = 'INSERT' or new.name is distinct from old.name then
    perform matching.check_text(new.name, 'name', 1, 200, true, true);
  end if;
  if tg_op = 'INSERT' or new.description is distinct from old.description then
    perform matching.check_text(new.description, 'description', 0, 5000, true, false);
  end if;
  perform matching.check_required(new.industry is null, 'industry');
  perform matching.check_required(new.size is null, 'size');
  perform matching.check_count(pg_catalog.cardinality(new.work_styles), 'work_styles', 8);
  if tg_op = 'INSERT' or new."values" is distinct from old."values" then
    perform matching.check_count(pg_catalog.cardinality(new."values"), 'values', 10);
    if not matching.text_items_ok(new."values", 40) then
      raise exception using errcode = 'MT020',
        message = 'each of values must be a single line of 1 to 40 characters',
        detail = 'field: values';
    end if;
  end if;
  if (tg_op = 'INSERT' or new.website is distinct from old.website)
     and new.website !~ '^https?://[^[:space:]]{1,250}$' then
    raise exception using errcode = 'MT020',
      message = 'website must be an http(s) URL of at most 250 characters after the scheme',
      detail = 'field: website';
  end if;
  return new;
end
$$;

create trigger companies_validate
  before insert or update on public.companies
  for each row
  when (pg_catalog.current_setting('role', true) in ('anon', 'authenticated', 'authenticator'))
  execute function matching.validate_company();
revoke all on function matching.validate_company() from public;

create function matching.validate_company_member()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  if matching.caller_role() not in ('anon', 'authenticated') then
    return new;
  end if;
  perform matching.check_required(new.company_id is null, 'company_id');
  perform matching.check_required(new.user_id is null, 'user_id');
  perform matching.check_required(new.role is null, 'role');
  if not exists (select 1 from auth.users u where u.id = new.user_id) then
    raise exception using errcode = 'MT404', message = format('unknown user %s', new.user_id),
      detail = 'field: user_id';
  end if;
  return new;
end
$$;

create trigger company_members_validate
  before insert or update on public.company_members
  for each row
  when (pg_catalog.current_setting('role', true) in ('anon', 'authenticated', 'authenticator'))
  execute function matching.validate_company_member();
revoke all on function matching.validate_company_member() from public;

-- ====================================================== a company keeps an owner
-- Through the API, a company can never be left without an owner (nobody but
-- service_role could manage it afterwards): demoting or removing the last
-- owner is refused. Deleting the company itself (cascade) is not affected.
create function matching.keep_an_owner()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  if matching.caller_role() not in ('anon', 'authenticated') then
    return null;
  end if;
  if exists (
    select 1
    from (select distinct o.company_id from old_rows o) changed
    join public.companies c on c.id = changed.company_id
    where not exists (
      select 1 from public.company_members m
      where m.company_id = changed.company_id and m.role = 'owner'
    )
  ) then
    raise exception using errcode = 'MT022',
      message = 'a company must keep at least one owner',
      detail = 'field: role';
  end if;
  return null;
end
$$;
revoke all on function matching.keep_an_owner() from public;
create trigger company_members_keep_owner_update
  after update on public.company_members
  referencing old table as old_rows
  for each statement execute function matching.keep_an_owner();
create trigger company_members_keep_owner_delete
  after delete on public.company_members
  referencing old table as old_rows
  for each statement execute function matching.keep_an_owner();

-- ===================================================== company attributes

-- The culture sub-score of a pair is a function of the talent's stated
-- preferences and the company's own attributes; a company that varies its
-- attributes would read the preferences back (the company view has no
-- culture sub-score or reason, see matching.company_sub_scores).

-- The total score still moves with the company's attributes: their changes
-- through the API are capped to one per company per day (MT023), so reading
-- a preference back takes weeks per bit, not minutes, and every change is on
-- record.
create table matching.company_attribute_changes (
  id bigint generated always as identity primary key,
  company_id uuid not null references public.companies (id) on delete cascade,
  changed_at timestamptz not null default pg_catalog.now()
);
create index company_attribute_changes_company on matching.company_attribute_changes (company_id, changed_at);
alter table matching.company_attribute_changes enable row level security;
revoke all on matching.company_attribute_changes from public, anon, authenticated;

create function matching.limit_company_attribute_changes()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  if matching.caller_role() not in ('anon', 'authenticated') then
    return new;
  end if;
  if (new.industry, new.size, new.work_styles) is not distinct from
     (old.industry, old.size, old.work_styles) then
    return new;
  end if;
  -- serialise a company's concurrent changes so two requests can't both pass
  perform 1 from public.companies c where c.id = new.id for update;
  if exists (select 1 from matching.company_attribute_changes a
             where a.company_id = new.id and a.changed_at > pg_catalog.now() - interval '1 day') then
    raise exception using errcode = 'MT023',
      message = 'industry, size and work_styles change at most once a day per company',
      detail = 'field: industry';
  end if;
  insert into matching.company_attribute_changes (company_id) values (new.id);
  return new;
end
$$;
revoke all on function matching.limit_company_attribute_changes() from public;
create trigger companies_limit_attribute_changes
  before update on public.companies
  for each row execute function matching.limit_company_attribute_changes();

-- Model registry operations: activate a version (exactly one active, in one
-- transaction), roll back to the previously active one, and the log of
-- activations that makes "previous" well defined.

create table matching.model_activations (
  id bigint generated always as identity primary key,
  version text not null references matching.model_versions (version),
  -- the version that was active just before (null for the first activation)
  previous_version text references matching.model_versions (version),
  -- who asked: a database role, or the JWT subject of an admin
  activated_by text not null
    constraint model_activations_activated_by_length check (char_length(activated_by) between 1 and 200),
  reason text not null default 'activate'
    constraint model_activations_reason_values check (reason in ('activate', 'rollback', 'training')),
  activated_at timestamptz not null default clock_timestamp()
);
create index model_activations_version_idx on matching.model_activations (version);
create index model_activations_previous_version_idx on matching.model_activations (previous_version);
create index model_activations_activated_at_idx on matching.model_activations (activated_at desc);

alter table matching.model_activations enable row level security;
revoke all on matching.model_activations from public, anon, authenticated;
grant all on matching.model_activations to service_role;

-- Who may change the active model: service_role, any non-API database role
-- that was granted EXECUTE (the owner, a DBA in psql), or an `authenticated`
-- caller whose JWT says app_metadata.role = 'admin'.
create function matching.assert_admin()
returns text
language plpgsql
stable
set search_path = ''
as $$
declare
  -- SET ROLE (what PostgREST does) is visible here even inside SECURITY DEFINER
  caller text := coalesce(nullif(pg_catalog.current_setting('role', true), 'none'), session_user);
  claims jsonb := nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb;
begin
  if caller in ('anon', 'authenticated') then
    if coalesce(claims -> 'app_metadata' ->> 'role', '') <> 'admin' then
      raise exception using errcode = '42501',
        message = 'only admins may manage models';
    end if;
    return coalesce('admin:' || (claims ->> 'sub'), 'admin');
  end if;
  return caller;
end
$$;

-- Make `p_version` the one active model. Idempotent when it already is.
-- Errors: 42501 not an admin, MT001 null version, MT404 unknown version.
create function matching.activate_model(p_version text, p_reason text default 'activate')
returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  who text := matching.assert_admin();
  current_version text;
begin
  if p_version is null then
    raise exception using errcode = 'MT001', message = 'model version must not be null';
  end if;
  if p_reason is null or p_reason not in ('activate', 'rollback', 'training') then
    raise exception using errcode = 'MT006',
      message = format('reason must be activate, rollback or training, got %L', p_reason);
  end if;
  -- Serialise activations: after this lock every statement sees the last
  -- committed activation, so two concurrent calls cannot both win.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('matching.activate_model'));
  if not exists (select 1 from matching.model_versions m where m.version = p_version) then
    raise exception using errcode = 'MT404', message = format('unknown model version %L', p_version);
  end if;
  select m.version into current_version from matching.model_versions m where m.is_active;
  if current_version = p_version then
    return p_version;
  end if;
  update matching.model_versions set is_active = false where is_active;
  update matching.model_versions
    set is_active = true, activated_at = pg_catalog.clock_timestamp()
    where version = p_version;
  insert into matching.model_activations (version, previous_version, activated_by, reason)
    values (p_version, current_version, who, p_reason);
  -- Listeners (the worker) reload the model without polling.
  perform pg_catalog.pg_notify('matching_model_activated', p_version);
  return p_version;
end
$$;

-- Re-activate the version that was active before the current one.
-- Errors: 42501 not an admin, MT404 nothing to roll back to.
create function matching.rollback_model()
returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  target text;
begin
  perform matching.assert_admin();
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('matching.activate_model'));
  select a.previous_version into target
  from matching.model_activations a
  join matching.model_versions m on m.version = a.version and m.is_active
  -- ids are assigned under the advisory lock, so they follow commit order;
  -- timestamps would follow transaction start
  order by a.id desc
  limit 1;
  if target is null then
    raise exception using errcode = 'MT404', message = 'no previously active model to roll back to';
  end if;
  return matching.activate_model(target, 'rollback');
end
$$;

revoke all on function matching.assert_admin() from public;
revoke all on function matching.activate_model(text, text) from public;
revoke all on function matching.rollback_model() from public;
-- authenticated may call; the function itself refuses non-admins (42501)
grant execute on function matching.activate_model(text, text) to service_role, authenticated;
grant execute on function matching.rollback_model() to service_role, authenticated;

comment on function matching.activate_model(text, text) is
  'Activate a model version (admins only). Errors: 42501, MT001, MT006, MT404.';
comment on function matching.rollback_model() is
  'Re-activate the previously active model version (admins only). Errors: 42501, MT404.';

-- The model registry: LightGBM models, the log of training runs, and the
-- operations on them: activate a version (exactly one active, in one
-- transaction), roll back to the previously active one, and the log of
-- activations that makes "previous" well defined.

create table matching.model_versions (
  id bigint generated always as identity primary key,
  version text not null
    constraint model_versions_version_key unique
    constraint model_versions_version_format check (version ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
  -- the model in LightGBM's own text format (never pickled); it starts with "tree"
  model_text text not null
    constraint model_versions_model_text_format check (left(model_text, 4) = 'tree'),
  -- feature names in the model's column order; loading refuses a mismatch
  feature_names text[] not null
    constraint model_versions_feature_names_count check (cardinality(feature_names) between 1 and 500),
  metrics jsonb not null default '{}'::jsonb
    constraint model_versions_metrics_object check (jsonb_typeof(metrics) = 'object'),
  params jsonb not null default '{}'::jsonb
    constraint model_versions_params_object check (jsonb_typeof(params) = 'object'),
  -- library versions and anything else needed to reproduce the model
  metadata jsonb not null default '{}'::jsonb
    constraint model_versions_metadata_object check (jsonb_typeof(metadata) = 'object'),
  training_samples integer not null
    constraint model_versions_training_samples_range check (training_samples >= 0),
  trained_at timestamptz not null default now(),
  is_active boolean not null default false,
  activated_at timestamptz,
  constraint model_versions_active_has_time check (not is_active or activated_at is not null)
);
-- At most one active version, enforced by the database itself.
create unique index model_versions_one_active_idx on matching.model_versions ((true))
  where is_active;

create table matching.training_runs (
  id bigint generated always as identity primary key,
  -- who asked: the weekly schedule, an admin through SQL, the CLI, the initial synthetic training
  trigger text not null
    constraint training_runs_trigger_values check (trigger in ('schedule', 'admin', 'cli', 'synthetic')),
  status text not null default 'running'
    constraint training_runs_status_values check (
      status in ('running', 'activated', 'rejected', 'skipped', 'failed')
    ),
  reason text
    constraint training_runs_reason_length check (char_length(reason) <= 2000),
  sample_count integer
    constraint training_runs_sample_count_range check (sample_count >= 0),
  candidate_version text references matching.model_versions (version),
  previous_version text references matching.model_versions (version),
  -- inputs (params, split) and metrics of both the candidate and the active model
  details jsonb not null default '{}'::jsonb
    constraint training_runs_details_object check (jsonb_typeof(details) = 'object'),
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  constraint training_runs_finished_iff_done check ((status = 'running') = (finished_at is null)),
  constraint training_runs_time_order check (finished_at >= started_at)
);
create index training_runs_started_at_idx on matching.training_runs (started_at desc);
create index training_runs_candidate_version_idx on matching.training_runs (candidate_version);
create index training_runs_previous_version_idx on matching.training_runs (previous_version);

alter table matching.model_versions enable row level security;
alter table matching.training_runs enable row level security;
revoke all on matching.model_versions from public, anon, authenticated;
grant all on matching.model_versions to service_role;
revoke all on matching.training_runs from public, anon, authenticated;
grant all on matching.training_runs to service_role;

comment on table matching.model_versions is
  'LightGBM models in their own text format, with metrics; at most one is_active.';
comment on table matching.training_runs is
  'Every retrain attempt with its inputs, metrics, decision and reason, whatever the outcome.';

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

-- Make `p_version` the one active model. Idempotent when it already is.
-- Errors: 42501 not an admin, MT001, MT006, MT404. Every change of the
-- active model (activate, rollback, training) re-ranks.
create function matching.activate_model(p_version text, p_reason text default 'activate')
returns text
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
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
  -- Every stored score came from the previous model: re-rank the whole
  -- market in the background, at bulk priority so edits still come first
  -- (one pending rematch_all at most: it coalesces on its queueing lock).
  -- With nothing stored yet (a fresh install) there is nothing to re-rank,
  -- and the backfill matches everyone once embedded; a re-rank queued now
  -- would race it and embed entities one by one. Without the job queue the
  -- activation still commits; the failure is recorded like any other
  -- enqueue failure.
  if exists (select 1 from public.matches) then
    begin
      perform matching.enqueue_task('rematch_all', 'maintenance', 'rematch_all',
                                    '{"kind": "talent"}'::jsonb, null, -10);
    exception when others then
      insert into matching.enqueue_failures (kind, entity_ids, sqlstate, error)
      values ('rematch_all', '{}', sqlstate, sqlerrm);
    end;
  end if;
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
set search_path = pg_catalog, pg_temp
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
revoke all on function matching.activate_model(text, text) from public;
revoke all on function matching.rollback_model() from public;
-- The registry functions are reached through the public wrappers
-- (public.activate_model, public.rollback_model); an API role has no USAGE
-- on `matching` anyway, so EXECUTE there would only make an internal
-- function look callable.
grant execute on function matching.activate_model(text, text) to service_role;
grant execute on function matching.rollback_model() to service_role;

comment on function matching.activate_model(text, text) is
  'Activate a model version (admins only). Errors: 42501, MT001, MT006, MT404.';
comment on function matching.rollback_model() is
  'Re-activate the previously active model version (admins only). Errors: 42501, MT404.';

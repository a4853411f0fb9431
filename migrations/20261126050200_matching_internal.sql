-- Internal state of the engine: text embeddings (pgvector, HNSW), the model
-- registry and the log of training runs. Only service_role and the worker's
-- connection (the database owner) touch these tables.

create table matching.talent_embeddings (
  talent_id uuid primary key references public.talents (id) on delete cascade,
  embedding extensions.vector(384) not null,
  model_name text not null
    constraint talent_embeddings_model_name_length check (char_length(model_name) between 1 and 200),
  -- sha256 of the exact text that was embedded: re-embed only when it changes
  text_sha256 text not null
    constraint talent_embeddings_text_sha256_format check (text_sha256 ~ '^[0-9a-f]{64}$'),
  -- false once the talent is no longer open to work: such rows leave the ANN index
  matchable boolean not null default true,
  embedded_at timestamptz not null default now()
);
-- Partial HNSW index: only entities that may be matched are searched.
-- Queries must say `where matchable` for the planner to use it.
create index talent_embeddings_hnsw_idx on matching.talent_embeddings
  using hnsw (embedding extensions.vector_cosine_ops) where matchable;

create table matching.job_embeddings (
  job_id uuid primary key references public.jobs (id) on delete cascade,
  embedding extensions.vector(384) not null,
  model_name text not null
    constraint job_embeddings_model_name_length check (char_length(model_name) between 1 and 200),
  text_sha256 text not null
    constraint job_embeddings_text_sha256_format check (text_sha256 ~ '^[0-9a-f]{64}$'),
  -- false once the job is no longer open
  matchable boolean not null default true,
  embedded_at timestamptz not null default now()
);
create index job_embeddings_hnsw_idx on matching.job_embeddings
  using hnsw (embedding extensions.vector_cosine_ops) where matchable;

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

alter table matching.talent_embeddings enable row level security;
alter table matching.job_embeddings enable row level security;
alter table matching.model_versions enable row level security;
alter table matching.training_runs enable row level security;

revoke all on matching.talent_embeddings, matching.job_embeddings,
  matching.model_versions, matching.training_runs
  from public, anon, authenticated;
grant all on matching.talent_embeddings, matching.job_embeddings,
  matching.model_versions, matching.training_runs
  to service_role;

comment on table matching.model_versions is
  'LightGBM models in their own text format, with metrics; at most one is_active.';
comment on table matching.training_runs is
  'Every retrain attempt with its inputs, metrics, decision and reason, whatever the outcome.';

-- Text embeddings (pgvector, HNSW). Internal: only service_role and the
-- worker's connection (the database owner) touch these tables.

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

alter table matching.talent_embeddings enable row level security;
alter table matching.job_embeddings enable row level security;
revoke all on matching.talent_embeddings from public, anon, authenticated;
grant all on matching.talent_embeddings to service_role;
revoke all on matching.job_embeddings from public, anon, authenticated;
grant all on matching.job_embeddings to service_role;

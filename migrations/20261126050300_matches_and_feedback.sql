-- Scored pairs and the feedback users give on them.

create table public.matches (
  talent_id uuid not null references public.talents (id) on delete cascade,
  job_id uuid not null references public.jobs (id) on delete cascade,
  score real not null
    constraint matches_score_range check (score between 0 and 100),
  source public.match_source not null,
  -- the model that produced the score; null exactly when the fallback did
  model_version text references matching.model_versions (version),
  -- sub-scores, top reasons, base value: see matching/scoring/explain.py
  explanation jsonb not null default '{}'::jsonb
    constraint matches_explanation_object check (jsonb_typeof(explanation) = 'object'),
  -- feature vector the score was computed from, in the model's feature order
  features real[]
    constraint matches_features_count check (cardinality(features) <= 500),
  computed_at timestamptz not null default now(),
  primary key (talent_id, job_id),
  constraint matches_source_model_version check ((source = 'ml') = (model_version is not null))
);
create index matches_talent_score_idx on public.matches (talent_id, score desc);
create index matches_job_score_idx on public.matches (job_id, score desc);
create index matches_model_version_idx on public.matches (model_version);

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

alter table public.matches enable row level security;
alter table public.match_feedback enable row level security;

revoke all on public.matches, public.match_feedback from public, anon, authenticated;
grant all on public.matches, public.match_feedback to service_role;

comment on table public.matches is
  'One row per (talent, job) pair, whichever side triggered the scoring.';
comment on table public.match_feedback is
  'User feedback on matches; feeds retraining. Unique per pair and feedback type.';

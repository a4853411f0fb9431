-- Scored pairs, and the lists the read functions served last.

-- Ties: every list is ordered by score, then text similarity, then a
-- stable hash of the pair (matching.pair_tiebreak), never by id, so no
-- talent or job is favoured for its uuid. matches stores both.

-- A stable, uniformly spread order for pairs that tie on score and text:
-- the first 64 bits of md5(talent_id || job_id), as a signed bigint.
-- matching/pipeline/ranking.py computes the same value (tests bind the two).
create function matching.pair_tiebreak(p_talent_id uuid, p_job_id uuid)
returns bigint
language sql
immutable
parallel safe
-- no `set search_path`: the body names pg_catalog objects only, and the
-- planner inlines it into the ordering of the read functions
as $$
  select ('x' || pg_catalog.left(pg_catalog.md5(p_talent_id::text || p_job_id::text), 16))::bit(64)::bigint
$$;
revoke all on function matching.pair_tiebreak(uuid, uuid) from public;
grant execute on function matching.pair_tiebreak(uuid, uuid) to service_role;

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
  -- what orders a list after the score: the text similarity the score used
  -- (null when an embedding was missing) and the pair's stable hash
  similarity real
    constraint matches_similarity_range check (similarity between -1 and 1),
  tiebreak bigint not null
    generated always as (matching.pair_tiebreak(talent_id, job_id)) stored,
  primary key (talent_id, job_id),
  constraint matches_source_model_version check ((source = 'ml') = (model_version is not null))
);
-- the read functions' order, served straight from the index
create index matches_talent_rank_idx
  on public.matches (talent_id, score desc, similarity desc nulls last, tiebreak);
create index matches_job_rank_idx
  on public.matches (job_id, score desc, similarity desc nulls last, tiebreak);
create index matches_model_version_idx on public.matches (model_version);

comment on table public.matches is
  'One row per (talent, job) pair, whichever side triggered the scoring.';
comment on column public.matches.similarity is
  'Cosine similarity of the talent''s and the job''s text embeddings; orders ties of score.';
comment on column public.matches.tiebreak is
  'Stable hash of the pair (matching.pair_tiebreak); orders ties of score and similarity.';

alter table public.matches enable row level security;
revoke all on public.matches from public, anon, authenticated;
grant all on public.matches to service_role;

-- Scores are served by the RPC functions only (at their precision); a
-- direct read gives the pairs, not the numbers (the feature snapshot would
-- locate a talent), and only pairs that could be shown: a talent's matches
-- with open jobs, a company's with talents open to work.
grant select (talent_id, job_id, source, computed_at) on public.matches to authenticated;

-- matches: a talent sees their own with open jobs; a member sees those of
-- the company's jobs with talents in the market
create policy matches_select on public.matches for select to authenticated
  using (
    (talent_id = (select matching.current_talent_id())
     and job_id in (select j.id from public.jobs j where j.status = 'open'))
    or (job_id in (
          select j.id from public.jobs j
          where j.company_id = any ((select matching.current_company_ids())::uuid[]))
        and (select matching.talent_in_market(talent_id)))
  );

-- ============================================================ served lists

-- matching.served_lists keeps, per viewer side and entity, the order of the
-- list the read functions served last; a feedback row copies the rank its
-- pair had there (match_feedback.shown_rank). Training and the activation
-- gate weight feedback by the inverse examination propensity of that rank
-- (matching/training/feedback_weights.py), so what users clicked at the top of a list
-- does not read as "better" merely for being on top.
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
-- read and written only by the owner's functions; RLS without policies
-- keeps every other role out even if a grant slips in later
alter table matching.served_lists enable row level security;

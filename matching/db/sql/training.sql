-- Queries of matching.training: the initial model, retraining from feedback,
-- and the record of every training run (matching.training_runs).

-- name: training_talent_ids
-- Every talent, in a stable order, so a seeded sample of them is reproducible.
select id from public.talents order by id

-- name: training_job_ids
-- Every job, in a stable order, so a seeded sample of them is reproducible.
select id from public.jobs order by id

-- name: record_synthetic_run
-- The initial model's run is recorded whole once it is decided (it holds no
-- row open while training on synthetic pairs).
insert into matching.training_runs (trigger, status, reason, sample_count,
    candidate_version, details, started_at, finished_at)
values ('synthetic', %(status)s, %(reason)s, %(sample_count)s, %(candidate_version)s,
    %(details)s, %(started_at)s, now())

-- name: feedback_labels
-- One pair, one label. Conflicts resolve by a fixed rule: a company signal
-- outranks a talent signal (it is the later, stronger step of the funnel), and
-- within the same side the latest feedback wins.
select distinct on (f.talent_id, f.job_id)
    f.talent_id, f.job_id, f.feedback_type::text as feedback_type, f.created_at,
    f.features, f.actor_user_id, f.shown_rank
from public.match_feedback f
order by f.talent_id, f.job_id, (f.actor = 'company') desc, f.created_at desc, f.id desc

-- name: start_training_run
-- A retraining run is recorded before it starts, so a crash leaves a trace.
insert into matching.training_runs (trigger) values (%(trigger)s) returning id

-- name: last_feedback_training
-- When feedback last decided a model (the schedule counts from there);
-- skipped and failed runs and the synthetic model don't count.
select max(finished_at) from matching.training_runs
where status in ('activated', 'rejected') and trigger <> 'synthetic'

-- name: reference_pair_features
-- A fixed sample of current pairs (stored matches in `tiebreak` order, a
-- pseudo-random but stable order) for the drift guard.
select m.features from public.matches m
where m.features is not null and pg_catalog.cardinality(m.features) = %(n_features)s
order by m.tiebreak limit %(limit)s

-- name: finish_training_run
-- A run's outcome, written once when it ends.
update matching.training_runs set status = %(status)s, reason = %(reason)s,
    sample_count = %(sample_count)s, candidate_version = %(candidate_version)s,
    previous_version = %(previous_version)s, details = %(details)s,
    finished_at = clock_timestamp()
where id = %(run_id)s

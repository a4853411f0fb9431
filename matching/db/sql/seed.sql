-- Queries of matching.synthetic.seed: loading a synthetic marketplace.

-- name: marketplace_counts
-- What the marketplace already holds: seeding never mixes into real data.
select (select count(*) from public.talents) as talents,
    (select count(*) from public.jobs) as jobs,
    (select count(*) from public.companies) as companies,
    (select count(*) from public.skills) as skills

-- name: seed_skip_enqueue
-- For this transaction only: no rematch job per loaded row (one backfill
-- job follows the load instead).
select set_config('matching.skip_enqueue', 'on', true)

-- name: seed_truncate
-- Empties the marketplace tables; `tables` is their identifiers, comma-joined.
truncate {tables} cascade

-- name: seed_copy
-- Bulk load of one table; `table` and `columns` are identifiers.
copy {table} ({columns}) from stdin

-- name: seed_skills_sequence
-- Ids were brought along; later inserts must not collide with them.
select setval(pg_get_serial_sequence('public.skills', 'id'),
    greatest((select max(id) from public.skills), 1))

-- name: seed_enqueue_backfill
-- The worker embeds everything, then rematches everyone, in batches.
select matching.enqueue_task('backfill', 'maintenance', 'backfill', %(args)s, null, -10)

-- name: seed_analyze
-- Fresh statistics, so the first matching queries plan for the loaded sizes.
analyze

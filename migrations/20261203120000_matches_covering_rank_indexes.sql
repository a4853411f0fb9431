-- The rank indexes carry the pair's other id, so walking a list needs no heap.
--
-- Keeping lists bounded (matching/db/sql/pipeline.sql: prune_own,
-- prune_pushed) walks each written counterpart's list to its (n + 1)-th row
-- and counts the rows above a candidate in its own list. With only the
-- ordering columns in the index, every step of those walks fetched the heap
-- row for its talent_id or job_id: ~50 heap pages per counterpart, the
-- largest single cost of a re-rank's write. With the other id included, the
-- walks are index-only scans wherever the visibility map allows.
--
-- Measured on a re-rank of 240 talents (3,000 talents / 600 jobs, every pair
-- rescored): prune_pushed 8.1 -> 3.4 ms per talent (shared buffers touched
-- 3,300 -> 2,000 per talent). The read functions use the same key order, so
-- their plans are unchanged; each index grows by 16 bytes per row.
--
-- The new indexes are built beside the old ones (CREATE INDEX blocks writes
-- to public.matches, not reads: minutes at a million talents), then swapped
-- in by name; only the final drops take the lock that blocks reads, for the
-- rest of this migration's transaction. Apply it while no worker runs, as
-- any migration here.
create index matches_talent_rank_idx_new
  on public.matches (talent_id, score desc, similarity desc nulls last, tiebreak)
  include (job_id);
create index matches_job_rank_idx_new
  on public.matches (job_id, score desc, similarity desc nulls last, tiebreak)
  include (talent_id);

drop index public.matches_talent_rank_idx;
drop index public.matches_job_rank_idx;
alter index public.matches_talent_rank_idx_new rename to matches_talent_rank_idx;
alter index public.matches_job_rank_idx_new rename to matches_job_rank_idx;

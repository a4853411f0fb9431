-- Every feature's SHAP contribution moves out of the explanation into its own
-- column, an array in the model's feature order like `features`.
--
-- The explanation kept them as a map keyed by feature name: 0.61 kB of a
-- 1.66 kB row, written with every pair and read by no API (the reads serve
-- sub-scores and reasons). As real[] they take 0.17 kB and still let anyone
-- check a stored score from the row alone: base_value + sum(contributions)
-- = raw_score (to float4 precision), and the feature names are the model's
-- (matching.model_versions.metadata -> 'feature_names').
--
-- Rows written before this migration keep the map inside the explanation
-- and have no contributions here; the next rematch of either side rewrites
-- them (query stored_pairs_of does not count them as unchanged).
--
-- The check is added NOT VALID: every existing row is null, and validating
-- would scan the whole table under this statement's exclusive lock. It
-- holds for every row written from now on.
alter table public.matches
  add column contributions real[],
  add constraint matches_contributions_count
    check (cardinality(contributions) <= 500) not valid;

comment on column public.matches.contributions is
  'SHAP contribution of every feature, in the model''s feature order (null for fallback scores).';

-- get_job_matches plans its statements once per session, not once per call.
--
-- PL/pgSQL plans a statement with the call's values for its first five
-- executions and then keeps those custom plans whenever a generic plan does
-- not look clearly cheaper. get_job_matches' statements (the CTE that joins
-- the served rows, skills and feedback; the fallback's scoring) take longer
-- to plan than to run on the stored path: planning was most of a call. Their
-- generic plans are as good for every job, sort and filter (the indexes
-- lead with job_id), so plan them once.
--
-- Measured at 100,000 talents / 20,000 jobs, the function alone, one session,
-- interleaved per call (the default / generic / custom plans):
--   stored, by score:                    p50 2.29 / 1.60 / 5.51 ms, p95 3.91 / 2.34 / 7.23
--   stored, by skills with a filter:     p50 4.83 / 3.66 / 6.97 ms, p95 13.04 / 5.02 / 14.28
--   fallback:                            p50 66.4 / 58.4 / 77.8 ms, p95 118.7 / 73.5 / 128.7
-- get_talent_matches is left alone: its stored path gained nothing and a
-- generic plan of its fallback branch had a slow tail (p95 58 -> 127 ms).
alter function public.get_job_matches(uuid, integer, numeric, text, jsonb)
  set plan_cache_mode = force_generic_plan;

-- Bulk re-rank batches have a queue of their own, `rematch_bulk`
-- (matching/queues.py), so a worker started on the `rematch` queue alone (an
-- edit lane) never runs one and edits never wait behind a batch.
--
-- Batches enqueued before this change sit on `rematch`, and procrastinate
-- runs a job by its task name whatever queue it is on: an edit lane would
-- take them. Move the ones still waiting. Running batches (`doing`) end on
-- their own; their rests, retries and every new batch are enqueued on
-- `rematch_bulk` by the worker.
update procrastinate.procrastinate_jobs
set queue_name = 'rematch_bulk'
where task_name = 'matching:rematch_batch'
  and queue_name = 'rematch'
  and status = 'todo';

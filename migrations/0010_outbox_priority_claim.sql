-- 0010_outbox_priority_claim.sql -- the dispatcher claims high-priority rows first.
--
-- Risk alerts and the new-device warning (priority 'high') must not wait
-- behind a backlog of information alerts, such as the rows held back by
-- quiet hours that all fall due at 07:00. The claim reads pending rows
-- "ORDER BY priority, due_at, id" ('high' sorts before 'normal', the only
-- two values the column admits), and this index keeps that an index scan
-- that stops after the batch. Measured (EXPLAIN ANALYZE) with 100,000 due
-- normal rows and 5 high ones, a claim of 50: an index scan reading 50
-- entries, 0.15 ms, with this index; a sequential scan and an external sort
-- of all 100,005 rows, 74 ms, with only push_outbox_claim_idx.
--
-- The index replaces push_outbox_claim_idx (0008), which no claim uses any
-- more: the /metrics depth sample (count and min(due_at) of due rows) stays
-- an index-only scan on this one.
--
-- Applied by the alertd migration runner inside its transaction.

CREATE INDEX push_outbox_priority_claim_idx ON push_outbox (priority, due_at, id) WHERE state = 'pending';
DROP INDEX push_outbox_claim_idx;

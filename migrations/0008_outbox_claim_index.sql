-- 0008_outbox_claim_index.sql -- the dispatcher's claim in index order.
--
-- The claim reads pending rows "ORDER BY due_at, id LIMIT n". With an index
-- on due_at alone, rows sharing one due_at (a burst written in one
-- transaction, or every row held back by quiet hours ending at the same
-- minute) had to be sorted in full on every claim: about 70 ms per claim of
-- 200 with 100,000 rows pending, against about 8 ms with this index
-- (make bench-push). The index replaces push_outbox_due_idx.
--
-- Applied by the alertd migration runner inside its transaction.

CREATE INDEX push_outbox_claim_idx ON push_outbox (due_at, id) WHERE state = 'pending';
DROP INDEX push_outbox_due_idx;

-- 0021_outbox_notice_lane.sql -- a claim lane of its own for security notices.
--
-- A treasury-wide security notice ("change your DVCTT password every 42
-- days") is one outbox row per device of every targeted user: 100,000 rows
-- or more at once. Those rows take priority 'notice'. The claim orders by
-- priority, due_at, id, and the text order puts 'high' (risk alerts, the
-- new-device warning) before 'normal' (balance and voucher alerts) before
-- 'notice', so neither a risk alert nor a money-movement alert ever waits
-- behind a broadcast; a notice waits only while alerts are due, which at
-- the dispatch rate is seconds even on year-end days. On the phone a notice
-- is still sent high priority, like a warning (dispatch_pipe.c).
--
-- push_outbox_priority_claim_idx (0010) serves the new value as it is.
-- Applied by the alertd migration runner inside its transaction; the check
-- is validated against the rows present (the outbox is bounded by retention).

ALTER TABLE push_outbox DROP CONSTRAINT push_outbox_priority,
  ADD CONSTRAINT push_outbox_priority CHECK (priority IN ('high', 'normal', 'notice'));

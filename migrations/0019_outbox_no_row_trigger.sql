-- 0019_outbox_no_row_trigger.sql -- no per-row trigger on the push hot path.
--
-- push_outbox is updated twice per push (the claim, the recording), and the
-- BEFORE UPDATE trigger alertd_set_updated_at ran a PL/pgSQL function for
-- each of those row versions. The dispatcher is the only writer of
-- push_outbox updates (server/push/dispatch.c: the claim and the record
-- statements); the recording now sets updated_at = now() itself; anything
-- else that updates the table must do the same (retention reads updated_at
-- to find old failed rows). The claim leaves updated_at alone: the column is
-- indexed (retention), and an update that changes an indexed column can
-- never be heap-only.
--
-- Applied by the alertd migration runner inside its transaction.

DROP TRIGGER push_outbox_set_updated_at ON push_outbox;

-- Room in every page for the claim's new row version: the claim changes no
-- indexed column (the lease, attempts), so with free space on its
-- page PostgreSQL writes it as a heap-only tuple, with no new index entries.
-- Pages written from now on keep 30 % free; a bulk fill (a 07:00 release, a
-- national notice) is exactly what fills them.
ALTER TABLE push_outbox SET (fillfactor = 70);

-- The same for alerts: the recording's delivery_state and the read receipt
-- change no indexed column of an alert, so with room on the page neither
-- adds an entry to any of the table's five indexes.
ALTER TABLE alerts SET (fillfactor = 80);

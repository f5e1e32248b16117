-- 0007_fanout_history.sql - the index behind the history-based risk rules.
--
-- new_beneficiary ("first payment of this unit to this beneficiary account")
-- and rapid_repeat ("same amount to the same beneficiary within minutes")
-- look up earlier voucher events of the same unit by beneficiary account,
-- inside the ingest transaction; this keeps that lookup an index probe.
-- A voucher's later status changes must not repeat the alerts about how it
-- was signed; "seen before" looks the voucher up by number.
CREATE INDEX events_voucher_number_idx
    ON events (unit_code, ((payload -> 'data' -> 'voucher' ->> 'number')), id)
    WHERE type = 'voucher.status_changed';

CREATE INDEX events_voucher_beneficiary_idx
    ON events (unit_code, ((payload -> 'data' -> 'voucher' -> 'beneficiary' ->> 'account')), occurred_at)
    WHERE type = 'voucher.status_changed';

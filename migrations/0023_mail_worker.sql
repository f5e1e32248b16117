-- 0023_mail_worker.sql -- what the mail worker and the reminder limits need
-- beside 0022's mail_outbox (issue 14).
--
-- A row inserted by anyone (fan-out, a notice, an escalation, a staff
-- action) wakes the listening mail workers when its transaction commits,
-- so no writer has to remember to NOTIFY; the workers poll as well.
CREATE FUNCTION alertd_mail_outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('alertd_mail', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER mail_outbox_notify AFTER INSERT ON mail_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION alertd_mail_outbox_notify();

-- the per-office reminder limit counts an office's reminders of the day
CREATE INDEX mail_outbox_office_reminder_idx ON mail_outbox (office_code, created_at) WHERE purpose = 'reminder';

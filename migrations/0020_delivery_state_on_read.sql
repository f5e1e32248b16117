-- 0020_delivery_state_on_read.sql -- an alert's delivery state is computed
-- when it is read, not rewritten at every push.
--
-- The dispatcher used to lock each recorded alert and recompute its
-- delivery_state from all its push_outbox rows, writing a new version of
-- the alert row: about 27 µs of PostgreSQL time per push (make bench-push,
-- 2026-12-02), more than recording the push itself. Now the recording
-- touches only push_outbox, and alertd_delivery_state() gives the state
-- from the alert's outbox rows:
--   pending while any row is pending, else sent (all sent), failed (all
--   failed) or partial.
-- alerts.delivery_state keeps the state once it is final: retention writes
-- it there (server/db/retention.c) in the statement that deletes the
-- alert's first outbox rows, so an alert older than its pushes still says
-- whether it was delivered. Until then it stays 'pending' and the function
-- reads the outbox; once it is not 'pending' the function returns it. An
-- alert with no outbox rows at all (a user with no active device) stays
-- 'pending', as before. As before too, finished rows that retention deletes
-- while a sibling row is still pending (a provider not configured, rows
-- that wait for it) no longer count in the state their alert ends with.
--
-- Applied by the alertd migration runner inside its transaction.

CREATE FUNCTION alertd_delivery_state(alert bigint, stored text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    -- an aggregate without GROUP BY gives one row even for no rows: count(*) = 0 says so
    SELECT CASE WHEN stored <> 'pending' THEN stored
                ELSE (SELECT CASE WHEN count(*) = 0 THEN stored
                                  WHEN bool_or(o.state = 'pending') THEN 'pending'
                                  WHEN bool_and(o.state = 'sent') THEN 'sent'
                                  WHEN bool_and(o.state = 'failed') THEN 'failed'
                                  ELSE 'partial' END
                        FROM push_outbox o WHERE o.alert_id = alert) END
$$;

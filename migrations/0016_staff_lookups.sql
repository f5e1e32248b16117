-- 0016_staff_lookups.sql -- step-up re-authentication of staff sessions and
-- the meter of personal-data look-ups (docs/staff.md).
--
-- A session that gave its password and a second factor again records when
-- (reauth_at); exports and role changes need it within auth.reauth_seconds.
--
-- staff_lookup_counts holds one counter per principal and window (the
-- current minute, the current Vietnam day): how many people's names,
-- phones and e-mails that principal was shown. Several instances share it:
-- a look-up locks its two rows, checks both quotas and adds to both in one
-- transaction. The maintenance job deletes windows that have ended.
--
-- Applied by the alertd migration runner inside its transaction.

ALTER TABLE staff_sessions ADD COLUMN reauth_at timestamptz;

CREATE TABLE staff_lookup_counts (
    -- 'staff:<login>' or 'admin_key:<name>'
    principal     text        NOT NULL
                              CONSTRAINT staff_lookup_counts_principal_format
                              CHECK (principal ~ '^(staff|admin_key):[a-z0-9][a-z0-9._-]{0,63}$'),
    window_kind   text        NOT NULL CONSTRAINT staff_lookup_counts_window_kind CHECK (window_kind IN ('minute', 'day')),
    -- the minute (UTC) or the Vietnam day's midnight the window began
    window_start  timestamptz NOT NULL,
    looked_up     bigint      NOT NULL DEFAULT 0 CONSTRAINT staff_lookup_counts_nonneg CHECK (looked_up >= 0),
    PRIMARY KEY (principal, window_kind, window_start)
);
-- the maintenance job's clean-up of ended windows
CREATE INDEX staff_lookup_counts_window_idx ON staff_lookup_counts (window_start);

-- GET /v1/staff/risk-alerts: the newest events first, one group per event and rule
CREATE INDEX alerts_risk_event_idx ON alerts (event_id DESC, risk_rule) WHERE severity = 'risk';

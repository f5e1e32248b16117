-- 0003_alerts_outbox.sql -- what users are told, and the push delivery queue.
--
-- alerts: one row per (user, thing to tell them) -- the app inbox. Created by
-- routing an event (balance change, voucher status change, risk rule hit) or
-- by the service itself (e.g. a new device signed in: kind 'device.new',
-- no event). Rendered once, in the user's language, at creation.
--
-- alerts.event_id / event_occurred_at point at events(id, occurred_at) but
-- are deliberately NOT a foreign key: events is partitioned and retention
-- drops whole partitions, which a FK would block (and alerts are kept on
-- their own schedule). Carrying occurred_at lets a lookup prune to one
-- partition.
--
-- push_outbox: one row per (alert, device) to push via FCM or APNs, claimed
-- by workers with SELECT ... FOR UPDATE SKIP LOCKED plus a time-boxed lease.
--
-- Applied by the alertd migration runner with PQexec inside a transaction the
-- runner opens; the runner maintains schema_migrations itself.

CREATE TYPE alert_severity AS ENUM ('info', 'risk');

CREATE TABLE alerts (
    id                 bigint         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id           bigint,
    event_occurred_at  timestamptz,
    user_id            bigint         NOT NULL REFERENCES users (id),
    unit_code          text           NOT NULL REFERENCES budget_units (code),
    -- Owning office of the unit when the alert was created (staff scoping;
    -- stays correct if the unit later moves to another office).
    office_code        text           NOT NULL REFERENCES offices (code),
    kind               text           NOT NULL
                                      CONSTRAINT alerts_kind_format CHECK (kind ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$'
                                                                           AND length(kind) <= 64),
    severity           alert_severity NOT NULL DEFAULT 'info',
    risk_rule          text
                                      CONSTRAINT alerts_risk_rule_format CHECK (risk_rule ~ '^[a-z][a-z0-9_.]{0,63}$'),
    lang               text           NOT NULL
                                      CONSTRAINT alerts_lang CHECK (lang IN ('vi', 'en')),
    title              text           NOT NULL
                                      CONSTRAINT alerts_title_len CHECK (length(title) BETWEEN 1 AND 200),
    body               text           NOT NULL
                                      CONSTRAINT alerts_body_len CHECK (length(body) <= 4000),
    details            jsonb          NOT NULL DEFAULT '{}'
                                      CONSTRAINT alerts_details_object CHECK (jsonb_typeof(details) = 'object'),
    created_at         timestamptz    NOT NULL DEFAULT now(),
    read_at            timestamptz,
    -- Roll-up of this alert's push_outbox rows: pending until all are done,
    -- then sent (all), failed (none) or partial (some).
    delivery_state     text           NOT NULL DEFAULT 'pending'
                                      CONSTRAINT alerts_delivery_state
                                      CHECK (delivery_state IN ('pending', 'sent', 'failed', 'partial')),
    CONSTRAINT alerts_event_ref_complete CHECK ((event_id IS NULL) = (event_occurred_at IS NULL)),
    CONSTRAINT alerts_risk_rule_iff_risk CHECK ((severity = 'risk') = (risk_rule IS NOT NULL))
);

-- App inbox: keyset pagination "WHERE user_id = $1 AND id < $2 ORDER BY id DESC".
CREATE INDEX alerts_inbox_idx ON alerts (user_id, id DESC);
-- Staff: risk alerts of a unit / of an office (office subtree = a few codes).
CREATE INDEX alerts_risk_by_unit_idx   ON alerts (unit_code, id DESC)   WHERE severity = 'risk';
CREATE INDEX alerts_risk_by_office_idx ON alerts (office_code, id DESC) WHERE severity = 'risk';
-- Routing is idempotent: an event yields at most one alert of a given
-- kind/rule per user (re-routing uses ON CONFLICT DO NOTHING).
CREATE UNIQUE INDEX alerts_event_user_kind_key
    ON alerts (event_id, user_id, kind, risk_rule) NULLS NOT DISTINCT
    WHERE event_id IS NOT NULL;

COMMENT ON COLUMN alerts.event_id IS
    'events.id of the source event; no FK (events partitions are dropped by retention). NULL for service-originated alerts.';

-- ---------------------------------------------------------------------------
-- Push outbox.
-- ---------------------------------------------------------------------------
CREATE TYPE outbox_state AS ENUM ('pending', 'sent', 'failed');

CREATE TABLE push_outbox (
    id                   bigint       GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id             bigint       NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    device_id            bigint       NOT NULL REFERENCES devices (id),
    provider             text         NOT NULL
                                      CONSTRAINT push_outbox_provider CHECK (provider IN ('fcm', 'apns')),
    state                outbox_state NOT NULL DEFAULT 'pending',
    due_at               timestamptz  NOT NULL DEFAULT now(),
    leased_until         timestamptz,
    leased_by            text
                                      CONSTRAINT push_outbox_leased_by_len CHECK (length(leased_by) BETWEEN 1 AND 128),
    attempts             integer      NOT NULL DEFAULT 0
                                      CONSTRAINT push_outbox_attempts_nonneg CHECK (attempts >= 0),
    last_error           text
                                      CONSTRAINT push_outbox_last_error_len CHECK (length(last_error) <= 2000),
    provider_message_id  text
                                      CONSTRAINT push_outbox_provider_message_id_len CHECK (length(provider_message_id) <= 256),
    collapse_key         text
                                      CONSTRAINT push_outbox_collapse_key_len CHECK (length(collapse_key) BETWEEN 1 AND 64),
    priority             text         NOT NULL DEFAULT 'high'
                                      CONSTRAINT push_outbox_priority CHECK (priority IN ('high', 'normal')),
    created_at           timestamptz  NOT NULL DEFAULT now(),
    updated_at           timestamptz  NOT NULL DEFAULT now(),
    sent_at              timestamptz,
    CONSTRAINT push_outbox_one_per_alert_device UNIQUE (alert_id, device_id),
    CONSTRAINT push_outbox_lease_complete CHECK ((leased_until IS NULL) = (leased_by IS NULL)),
    CONSTRAINT push_outbox_sent_at_iff_sent CHECK ((state = 'sent') = (sent_at IS NOT NULL))
);
-- Claim due work:
--   SELECT id FROM push_outbox
--    WHERE state = 'pending' AND due_at <= now()
--      AND (leased_until IS NULL OR leased_until < now())
--    ORDER BY due_at LIMIT $n FOR UPDATE SKIP LOCKED;
-- (alert_id lookups for the delivery_state roll-up use the UNIQUE above.)
CREATE INDEX push_outbox_due_idx ON push_outbox (due_at) WHERE state = 'pending';
CREATE TRIGGER push_outbox_set_updated_at BEFORE UPDATE ON push_outbox
    FOR EACH ROW EXECUTE FUNCTION alertd_set_updated_at();

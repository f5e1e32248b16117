-- 0011_retention.sql -- personal-data retention (docs/privacy.md) and
-- aggregated activation failures.
--
-- The maintenance job (server/db/retention.c) deletes or pseudonymises
-- personal data once its period in the retention.* options has passed, in
-- bounded batches. The indexes below keep each batch an index range scan
-- however large the tables grow.
--
-- audit_log stays append-only with one exception: the maintenance job may
-- replace the personal fields of a row (actor_id, target, ip) by keyed-hash
-- pseudonyms, once per row, and only on a row older than 30 days (the
-- smallest retention.audit_personal_days but 0, config.c). The guard trigger
-- allows exactly that and only while the transaction has set
-- alertd.audit_pseudonymise = on; every other UPDATE, every DELETE and
-- TRUNCATE are still refused. Any session can set that setting, so the guard
-- stops mistakes and bounds what a session as the app's role can do (no
-- fresh row loses its attribution), but it is not access control: that needs
-- migrations run as an owner role and alertd as a role without UPDATE on
-- audit_log (docs/operator-guide.md), which is not enforced yet.
--
-- activation_failures gathers failed app activations per (hour, user,
-- client address), so repeated failures cost one row, not one audit row
-- each; the maintenance job turns each closed hour into one audit row with
-- its counts.
--
-- Applied by the alertd migration runner inside its transaction.

-- Alerts older than retention.alerts_months.
CREATE INDEX alerts_created_at_idx ON alerts (created_at);
-- Finished (sent or failed) outbox rows older than retention.outbox_days.
CREATE INDEX push_outbox_finished_idx ON push_outbox (updated_at) WHERE state <> 'pending';
-- Push tokens of revoked and retired devices, erased after retention.device_token_days.
CREATE INDEX devices_stale_push_token_idx ON devices (state_changed_at)
    WHERE push_token IS NOT NULL AND state <> 'active';

-- Deactivated users are pseudonymised after retention.deactivated_user_days:
-- the login becomes the pseudonym of "user:<id>:<login>" (one per row, so a
-- returning person's second row cannot collide with the first on the unique
-- login), the name the login's own pseudonym (as in the audit rows), e-mail
-- and phone are erased.
-- Such a row can never be active again (a returning person gets a new row
-- from the roster import).
ALTER TABLE users ADD COLUMN pseudonymised_at timestamptz;
ALTER TABLE users ADD CONSTRAINT users_pseudonymised_inactive CHECK (pseudonymised_at IS NULL OR NOT active);
CREATE INDEX users_to_pseudonymise_idx ON users (deactivated_at) WHERE NOT active AND pseudonymised_at IS NULL;

-- ---------------------------------------------------------------------------
-- Audit log: pseudonymisation of personal fields, nothing else.
-- ---------------------------------------------------------------------------
ALTER TABLE audit_log ADD COLUMN pseudonymised_at timestamptz;
CREATE INDEX audit_log_to_pseudonymise_idx ON audit_log (at) WHERE pseudonymised_at IS NULL;

-- A personal field may stay as it is, or go from a value to a pseudonym:
-- '~' and 32 lower-case hex digits (128 bits of an HMAC-SHA256).
CREATE FUNCTION alertd_audit_pseudonym_ok(p_old text, p_new text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT p_new IS NOT DISTINCT FROM p_old OR (p_old IS NOT NULL AND p_new ~ '^~[0-9a-f]{32}$')
$$;

CREATE FUNCTION alertd_audit_log_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND current_setting('alertd.audit_pseudonymise', true) = 'on'
       AND OLD.pseudonymised_at IS NULL AND NEW.pseudonymised_at IS NOT NULL
       -- the floor: retention.audit_personal_days is 0 or at least 30 (config.c)
       AND OLD.at < now() - interval '30 days'
       AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.actor_kind = OLD.actor_kind
       AND NEW.action = OLD.action AND NEW.outcome = OLD.outcome
       AND NEW.request_id IS NOT DISTINCT FROM OLD.request_id AND NEW.details = OLD.details
       AND alertd_audit_pseudonym_ok(OLD.actor_id, NEW.actor_id)
       AND alertd_audit_pseudonym_ok(OLD.target, NEW.target)
       AND alertd_audit_pseudonym_ok(OLD.ip, NEW.ip) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only (% rejected)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

DROP TRIGGER audit_log_no_update_delete ON audit_log;
CREATE TRIGGER audit_log_guard BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION alertd_audit_log_guard();

-- ---------------------------------------------------------------------------
-- Failed activations, aggregated per hour, user and client address.
-- ---------------------------------------------------------------------------
CREATE TABLE activation_failures (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    window_start     timestamptz NOT NULL,
    -- NULL: the login named no active user (the typed text is not kept)
    user_id          bigint      REFERENCES users (id),
    ip               text        CONSTRAINT activation_failures_ip_len CHECK (length(ip) <= 64),
    attempts         integer     NOT NULL DEFAULT 1
                                 CONSTRAINT activation_failures_attempts_positive CHECK (attempts > 0),
    -- attempts per reason, e.g. {"wrong_code": 4, "locked": 1}
    reasons          jsonb       NOT NULL DEFAULT '{}'
                                 CONSTRAINT activation_failures_reasons_object CHECK (jsonb_typeof(reasons) = 'object'),
    first_at         timestamptz NOT NULL DEFAULT now(),
    last_at          timestamptz NOT NULL DEFAULT now(),
    last_request_id  text        CONSTRAINT activation_failures_request_id_len CHECK (length(last_request_id) <= 128)
);
CREATE UNIQUE INDEX activation_failures_key
    ON activation_failures (window_start, user_id, ip) NULLS NOT DISTINCT;

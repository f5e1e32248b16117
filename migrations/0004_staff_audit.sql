-- 0004_staff_audit.sql -- treasury staff, admin API keys and the audit log.
--
-- staff: treasury employees using the web console, scoped to an office
-- subtree (office_code NULL = whole country). Passwords are stored only as
-- libsodium crypto_pwhash_str() Argon2id strings; session tokens and admin
-- API keys only as hashes -- a database dump grants no access.
--
-- audit_log is append-only: a trigger rejects UPDATE, DELETE and TRUNCATE.
-- (Deployments should additionally grant the service role only
-- INSERT/SELECT on it.)
--
-- Applied by the alertd migration runner with PQexec inside a transaction the
-- runner opens; the runner maintains schema_migrations itself.

CREATE TYPE staff_role AS ENUM ('viewer', 'office_admin', 'admin');

CREATE TABLE staff (
    id                   bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username             text        NOT NULL
                                     CONSTRAINT staff_username_key UNIQUE
                                     CONSTRAINT staff_username_format CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,63}$'),
    full_name            text        NOT NULL
                                     CONSTRAINT staff_full_name_len CHECK (length(btrim(full_name)) BETWEEN 1 AND 255),
    email                text
                                     CONSTRAINT staff_email_format
                                     CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'
                                            AND length(email) <= 254),
    -- crypto_pwhash_str() output, e.g. '$argon2id$v=19$m=...,t=...,p=...$salt$hash'.
    password_hash        text        NOT NULL
                                     CONSTRAINT staff_password_hash_argon2id
                                     CHECK (password_hash ~ '^\$argon2id\$v=[0-9]+\$m=[0-9]+,t=[0-9]+,p=[0-9]+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$'
                                            AND length(password_hash) < 128),
    role                 staff_role  NOT NULL DEFAULT 'viewer',
    office_code          text        REFERENCES offices (code),   -- NULL = whole country
    active               boolean     NOT NULL DEFAULT true,
    failed_logins        integer     NOT NULL DEFAULT 0
                                     CONSTRAINT staff_failed_logins_nonneg CHECK (failed_logins >= 0),
    locked_until         timestamptz,
    password_changed_at  timestamptz NOT NULL DEFAULT now(),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT staff_office_admin_has_office CHECK (role <> 'office_admin' OR office_code IS NOT NULL)
);
CREATE TRIGGER staff_set_updated_at BEFORE UPDATE ON staff
    FOR EACH ROW EXECUTE FUNCTION alertd_set_updated_at();

-- Console sessions; the PK is a hash of the bearer token, never the token.
CREATE TABLE staff_sessions (
    token_hash    bytea       PRIMARY KEY
                              CONSTRAINT staff_sessions_token_hash_len CHECK (octet_length(token_hash) BETWEEN 16 AND 64),
    staff_id      bigint      NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz,
    ip            text        CONSTRAINT staff_sessions_ip_len CHECK (length(ip) <= 64),
    user_agent    text        CONSTRAINT staff_sessions_user_agent_len CHECK (length(user_agent) <= 512),
    CONSTRAINT staff_sessions_expiry_after_creation CHECK (expires_at > created_at)
);
-- Revoke all sessions of a staff member (password change, lock, deactivation).
CREATE INDEX staff_sessions_staff_id_idx ON staff_sessions (staff_id);

-- Admin API keys (automation / provisioning); hash of the key only.
CREATE TABLE admin_api_keys (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text        NOT NULL
                              CONSTRAINT admin_api_keys_name_key UNIQUE
                              CONSTRAINT admin_api_keys_name_format CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
    key_hash      bytea       NOT NULL
                              CONSTRAINT admin_api_keys_key_hash_key UNIQUE
                              CONSTRAINT admin_api_keys_key_hash_len CHECK (octet_length(key_hash) BETWEEN 16 AND 64),
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz,
    last_used_at  timestamptz
);

-- ---------------------------------------------------------------------------
-- Audit log (append-only).
-- ---------------------------------------------------------------------------
CREATE TABLE audit_log (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_kind  text        NOT NULL
                            CONSTRAINT audit_log_actor_kind
                            CHECK (actor_kind IN ('admin_key', 'staff', 'app', 'system', 'cli', 'ingest')),
    actor_id    text        CONSTRAINT audit_log_actor_id_len CHECK (length(actor_id) <= 128),
    action      text        NOT NULL
                            CONSTRAINT audit_log_action_format CHECK (action ~ '^[a-z][a-z0-9_.]{0,63}$'),
    target      text        CONSTRAINT audit_log_target_len CHECK (length(target) <= 256),
    outcome     text        NOT NULL
                            CONSTRAINT audit_log_outcome CHECK (outcome IN ('ok', 'denied', 'error')),
    ip          text        CONSTRAINT audit_log_ip_len CHECK (length(ip) <= 64),
    request_id  text        CONSTRAINT audit_log_request_id_len CHECK (length(request_id) <= 128),
    details     jsonb       NOT NULL DEFAULT '{}'
                            CONSTRAINT audit_log_details_object CHECK (jsonb_typeof(details) = 'object')
);
-- Time-range browsing / export.
CREATE INDEX audit_log_at_idx ON audit_log (at);
-- "What did this actor do" (staff member, API key, device/app user, source).
CREATE INDEX audit_log_actor_idx ON audit_log (actor_kind, actor_id, at);

CREATE FUNCTION alertd_audit_log_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only (% rejected)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION alertd_audit_log_immutable();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION alertd_audit_log_immutable();

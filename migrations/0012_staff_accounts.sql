-- 0012_staff_accounts.sql -- staff sign-in: roles, temporary and expiring
-- passwords, password history, TOTP secrets, recovery codes, sessions.
--
-- Extends 0004's staff and staff_sessions rather than duplicating them.
-- Every account belongs to an office (the central office sees everything);
-- the roles are viewer, operator and admin (0004's office_admin is renamed).
-- Secrets are stored only as Argon2id strings (passwords), SHA-256 hashes
-- (session tokens, CSRF tokens), HMAC-SHA256 under a key derived from the
-- KEK (recovery codes) or secretbox ciphertext under the KEK (TOTP
-- secrets): a database dump grants no access.
--
-- Applied by the alertd migration runner inside its transaction.

ALTER TYPE staff_role RENAME VALUE 'office_admin' TO 'operator';
ALTER TABLE staff RENAME CONSTRAINT staff_office_admin_has_office TO staff_operator_has_office;

ALTER TABLE staff
    -- the first password and every one set by `staff reset` must be changed at the next sign-in
    ADD COLUMN password_temporary boolean     NOT NULL DEFAULT true,
    -- a temporary password is refused after this (auth.temporary_password_hours); NULL once changed
    ADD COLUMN temporary_until    timestamptz,
    ADD COLUMN last_login_at      timestamptz,
    -- why active is false: deactivated (CLI) or inactive (maintenance job)
    ADD COLUMN disabled_reason    text
                                  CONSTRAINT staff_disabled_reason CHECK (disabled_reason IN ('deactivated', 'inactive')),
    ADD CONSTRAINT staff_disabled_has_reason CHECK (active OR disabled_reason IS NOT NULL);

-- The last passwords of each account (the current one included), for the
-- no-reuse rule; verified against these Argon2id strings, never compared as text.
CREATE TABLE staff_password_history (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    staff_id       bigint      NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    password_hash  text        NOT NULL
                               CONSTRAINT staff_password_history_argon2id
                               CHECK (password_hash LIKE '$argon2id$%' AND length(password_hash) < 128),
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staff_password_history_staff_idx ON staff_password_history (staff_id, id DESC);

-- One TOTP secret per account: pending until confirmed with a code.
CREATE TABLE staff_totp (
    staff_id      bigint      PRIMARY KEY REFERENCES staff (id) ON DELETE CASCADE,
    secret_ct     bytea       NOT NULL CONSTRAINT staff_totp_secret_ct_len CHECK (octet_length(secret_ct) BETWEEN 17 AND 128),
    secret_nonce  bytea       NOT NULL CONSTRAINT staff_totp_secret_nonce_len CHECK (octet_length(secret_nonce) = 24),
    confirmed_at  timestamptz,
    -- the RFC 6238 time step of the last code accepted: a code is good once
    last_step     bigint      NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Ten one-time recovery codes per confirmed enrolment: HMAC-SHA256 of the
-- account id and the code under a key derived from the KEK (staff/totp.c).
CREATE TABLE staff_recovery_codes (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    staff_id    bigint      NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    code_hash   bytea       NOT NULL CONSTRAINT staff_recovery_codes_hash_len CHECK (octet_length(code_hash) = 32),
    used_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT staff_recovery_codes_unique UNIQUE (staff_id, code_hash)
);

-- Sessions: the CSRF token is stored as a hash too; ended_reason says why a session ended.
ALTER TABLE staff_sessions
    ADD COLUMN csrf_hash     bytea CONSTRAINT staff_sessions_csrf_hash_len CHECK (octet_length(csrf_hash) = 32),
    ADD COLUMN ended_reason  text
                             CONSTRAINT staff_sessions_ended_reason
                             CHECK (ended_reason IN ('logout', 'deactivated', 'reset', 'password_changed', 'inactive', 'locked', 'renewed'));

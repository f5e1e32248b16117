-- 0001_roster.sql -- who receives alerts.
--
-- The roster: treasury offices (central -> regional -> transaction office),
-- the budget units (đơn vị sử dụng ngân sách, mã ĐVQHNS) they serve and the
-- units' treasury accounts, the people of each unit who use the mobile app
-- (users, their roles, one-time activation codes, per-user preferences) and
-- the phones those people have installed the app on (devices and the history
-- of device state changes, for install-coverage reporting).
--
-- Applied by the alertd migration runner with PQexec inside a transaction the
-- runner opens; the runner maintains schema_migrations itself.
-- Secrets are never stored in clear: activation codes and device access
-- tokens are stored as hashes only.

-- Shared helper: keep updated_at current on every UPDATE.
CREATE FUNCTION alertd_set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

-- ---------------------------------------------------------------------------
-- Treasury offices. level: 1 = central (KBNN trung ương), 2 = regional
-- treasury (KBNN khu vực), 3 = transaction office (phòng giao dịch).
-- The parent must be exactly one level up: enforced declaratively with a
-- composite FK (parent_code, parent_level) -> (code, level), where
-- parent_level is generated as level - 1.
-- ---------------------------------------------------------------------------
CREATE TABLE offices (
    code          text        PRIMARY KEY
                              CONSTRAINT offices_code_format CHECK (code ~ '^[0-9A-Z]{4}$'),
    name          text        NOT NULL
                              CONSTRAINT offices_name_len CHECK (length(btrim(name)) BETWEEN 1 AND 255),
    level         smallint    NOT NULL
                              CONSTRAINT offices_level_range CHECK (level BETWEEN 1 AND 3),
    parent_code   text,
    parent_level  smallint    GENERATED ALWAYS AS (level - 1) STORED,
    active        boolean     NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT offices_code_level_key UNIQUE (code, level),
    CONSTRAINT offices_parent_iff_not_central CHECK ((level = 1) = (parent_code IS NULL)),
    CONSTRAINT offices_parent_fkey FOREIGN KEY (parent_code, parent_level)
        REFERENCES offices (code, level)
);
-- Children of an office (subtree scoping of staff and reports).
CREATE INDEX offices_parent_code_idx ON offices (parent_code);
CREATE TRIGGER offices_set_updated_at BEFORE UPDATE ON offices
    FOR EACH ROW EXECUTE FUNCTION alertd_set_updated_at();

COMMENT ON TABLE offices IS
    'Treasury offices: level 1 central, 2 regional (KBNN khu vực), 3 transaction office; parent is exactly one level up.';

-- ---------------------------------------------------------------------------
-- Budget units, keyed by their 7-digit mã ĐVQHNS.
-- ---------------------------------------------------------------------------
CREATE TABLE budget_units (
    code                    text        PRIMARY KEY
                                        CONSTRAINT budget_units_code_format CHECK (code ~ '^[0-9]{7}$'),
    name                    text        NOT NULL
                                        CONSTRAINT budget_units_name_len CHECK (length(btrim(name)) BETWEEN 1 AND 255),
    office_code             text        NOT NULL REFERENCES offices (code),
    contact_email           text
                                        CONSTRAINT budget_units_email_format
                                        CHECK (contact_email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'
                                               AND length(contact_email) <= 254),
    contact_phone           text
                                        CONSTRAINT budget_units_phone_format CHECK (contact_phone ~ '^\+?[0-9]{8,15}$'),
    active                  boolean     NOT NULL DEFAULT true,
    -- Push notifications for this unit carry no amounts/balances/counterparties.
    privacy_mode            boolean     NOT NULL DEFAULT false,
    -- Per-unit override of the "large amount" risk threshold, in VND; NULL = global default.
    large_amount_threshold  bigint
                                        CONSTRAINT budget_units_threshold_positive CHECK (large_amount_threshold > 0),
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);
-- Units of an office (staff scoping, coverage reports).
CREATE INDEX budget_units_office_code_idx ON budget_units (office_code);
CREATE TRIGGER budget_units_set_updated_at BEFORE UPDATE ON budget_units
    FOR EACH ROW EXECUTE FUNCTION alertd_set_updated_at();

-- A unit's treasury accounts, e.g. '9523.1.1012345'.
CREATE TABLE unit_accounts (
    unit_code   text        NOT NULL REFERENCES budget_units (code),
    account     text        NOT NULL
                            CONSTRAINT unit_accounts_account_format
                            CHECK (account ~ '^[0-9A-Za-z][0-9A-Za-z.-]{0,31}$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (unit_code, account)
);

-- ---------------------------------------------------------------------------
-- App users (people of a budget unit, logging in via DVCTT).
-- ---------------------------------------------------------------------------
CREATE TYPE user_role AS ENUM ('account_holder', 'chief_accountant', 'accountant');

CREATE TABLE users (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dvctt_login     text        NOT NULL
                                CONSTRAINT users_dvctt_login_key UNIQUE
                                CONSTRAINT users_dvctt_login_format
                                CHECK (dvctt_login ~ '^[^[:space:][:cntrl:]]{1,128}$'),
    unit_code       text        NOT NULL REFERENCES budget_units (code),
    full_name       text        NOT NULL
                                CONSTRAINT users_full_name_len CHECK (length(btrim(full_name)) BETWEEN 1 AND 255),
    email           text
                                CONSTRAINT users_email_format
                                CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'
                                       AND length(email) <= 254),
    phone           text
                                CONSTRAINT users_phone_format CHECK (phone ~ '^\+?[0-9]{8,15}$'),
    active          boolean     NOT NULL DEFAULT true,
    deactivated_at  timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_deactivated_consistent CHECK (active = (deactivated_at IS NULL))
);
-- Fan-out: all users of a unit.
CREATE INDEX users_unit_code_idx ON users (unit_code);
CREATE TRIGGER users_set_updated_at BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION alertd_set_updated_at();

-- One person may hold several roles.
CREATE TABLE user_roles (
    user_id  bigint    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role     user_role NOT NULL,
    PRIMARY KEY (user_id, role)
);

-- One-time activation codes; only a hash of the code is stored.
CREATE TABLE activation_codes (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id          bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash        bytea       NOT NULL
                                 CONSTRAINT activation_codes_hash_len CHECK (octet_length(code_hash) BETWEEN 16 AND 64),
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    used_at          timestamptz,
    voided_at        timestamptz,
    failed_attempts  integer     NOT NULL DEFAULT 0
                                 CONSTRAINT activation_codes_attempts_nonneg CHECK (failed_attempts >= 0),
    created_by       text        NOT NULL
                                 CONSTRAINT activation_codes_created_by_len CHECK (length(created_by) BETWEEN 1 AND 128),
    CONSTRAINT activation_codes_expiry_after_creation CHECK (expires_at > created_at),
    CONSTRAINT activation_codes_used_or_voided CHECK (used_at IS NULL OR voided_at IS NULL)
);
-- At most one live (unused, not voided) code per user; also the redeem lookup.
-- Expiry is checked by the code at redeem time (now() is not immutable).
CREATE UNIQUE INDEX activation_codes_one_live_per_user
    ON activation_codes (user_id) WHERE used_at IS NULL AND voided_at IS NULL;

-- Per-user preferences. Quiet hours may wrap midnight (quiet_from > quiet_to).
CREATE TABLE user_preferences (
    user_id     bigint      PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    lang        text        NOT NULL DEFAULT 'vi'
                            CONSTRAINT user_preferences_lang CHECK (lang IN ('vi', 'en')),
    min_amount  bigint      NOT NULL DEFAULT 0
                            CONSTRAINT user_preferences_min_amount_nonneg CHECK (min_amount >= 0),
    quiet_from  time,
    quiet_to    time,
    toggles     jsonb       NOT NULL DEFAULT '{}'
                            CONSTRAINT user_preferences_toggles_object CHECK (jsonb_typeof(toggles) = 'object'),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_preferences_quiet_both_or_neither CHECK ((quiet_from IS NULL) = (quiet_to IS NULL)),
    CONSTRAINT user_preferences_quiet_nonempty CHECK (quiet_from IS NULL OR quiet_from <> quiet_to)
);
CREATE TRIGGER user_preferences_set_updated_at BEFORE UPDATE ON user_preferences
    FOR EACH ROW EXECUTE FUNCTION alertd_set_updated_at();

-- ---------------------------------------------------------------------------
-- Devices (app installs). Only a hash of the device access token is stored.
-- ---------------------------------------------------------------------------
CREATE TYPE device_platform AS ENUM ('android', 'ios');
CREATE TYPE device_state    AS ENUM ('active', 'revoked', 'token_invalid');

CREATE TABLE devices (
    id                       bigint          GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id                  bigint          NOT NULL REFERENCES users (id),
    platform                 device_platform NOT NULL,
    -- FCM registration token (android) or APNs device token (ios).
    -- NULL until the OS hands one out / if notifications are denied.
    push_token               text
                                             CONSTRAINT devices_push_token_format
                                             CHECK (push_token ~ '^[[:graph:]]+$' AND length(push_token) <= 4096),
    app_version              text            CONSTRAINT devices_app_version_len CHECK (length(app_version) <= 32),
    os_version               text            CONSTRAINT devices_os_version_len  CHECK (length(os_version)  <= 64),
    model                    text            CONSTRAINT devices_model_len       CHECK (length(model)       <= 128),
    locale                   text            CONSTRAINT devices_locale_format
                                             CHECK (locale ~ '^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$'),
    state                    device_state    NOT NULL DEFAULT 'active',
    state_changed_at         timestamptz     NOT NULL DEFAULT now(),
    state_reason             text            CONSTRAINT devices_state_reason_len CHECK (length(state_reason) <= 500),
    first_seen_at            timestamptz     NOT NULL DEFAULT now(),
    last_seen_at             timestamptz     NOT NULL DEFAULT now(),
    access_token_hash        bytea
                                             CONSTRAINT devices_access_token_hash_key UNIQUE
                                             CONSTRAINT devices_access_token_hash_len
                                             CHECK (octet_length(access_token_hash) BETWEEN 16 AND 64),
    access_token_expires_at  timestamptz,
    CONSTRAINT devices_token_expiry_with_token
        CHECK ((access_token_hash IS NULL) = (access_token_expires_at IS NULL))
);
-- Active devices of a user (fan-out of pushes, "my devices" screen).
CREATE INDEX devices_active_by_user_idx ON devices (user_id) WHERE state = 'active';
-- A push token belongs to one active device at a time; registering a token
-- already held by another active device must first move that one out of 'active'.
CREATE UNIQUE INDEX devices_active_push_token_key
    ON devices (platform, push_token) WHERE state = 'active';

-- History of device states, written only by the trigger below, so install
-- coverage per unit/office can be reconstructed for any point in time.
CREATE TABLE device_state_changes (
    id          bigint       GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id   bigint       NOT NULL REFERENCES devices (id),
    from_state  device_state,            -- NULL for the initial registration
    to_state    device_state NOT NULL,
    reason      text,
    at          timestamptz  NOT NULL DEFAULT now()
);
CREATE INDEX device_state_changes_device_at_idx ON device_state_changes (device_id, at);

CREATE FUNCTION alertd_devices_state_stamp() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state IS DISTINCT FROM OLD.state THEN
        NEW.state_changed_at := now();
    END IF;
    RETURN NEW;
END;
$$;

CREATE FUNCTION alertd_devices_state_log() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO device_state_changes (device_id, from_state, to_state, reason, at)
        VALUES (NEW.id, NULL, NEW.state, NEW.state_reason, NEW.state_changed_at);
    ELSIF NEW.state IS DISTINCT FROM OLD.state THEN
        INSERT INTO device_state_changes (device_id, from_state, to_state, reason, at)
        VALUES (NEW.id, OLD.state, NEW.state, NEW.state_reason, NEW.state_changed_at);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER devices_state_stamp BEFORE UPDATE OF state ON devices
    FOR EACH ROW EXECUTE FUNCTION alertd_devices_state_stamp();
CREATE TRIGGER devices_state_log AFTER INSERT OR UPDATE OF state ON devices
    FOR EACH ROW EXECUTE FUNCTION alertd_devices_state_log();

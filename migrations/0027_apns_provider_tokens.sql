-- 0027_apns_provider_tokens.sql - the APNs provider token that every
-- instance on the database shares (docs/scaling.md §3).
--
-- Apple refuses a provider token renewed more often than every 20 minutes
-- (TooManyProviderTokenUpdates); with one token per instance, N instances
-- renew N times per apns.token_refresh_minutes. One row per (team, key):
-- the ES256 JWT sealed under the KEK (libsodium secretbox, like the other
-- sealed secrets: a database reader without the KEK cannot send pushes)
-- and its iat. An instance reuses a token younger than the refresh age and
-- signs a new one under the row's lock only when it is older, or when Apple
-- refused it. A row whose issued_at is NULL is a placeholder inserted to
-- have a row to lock.
CREATE TABLE apns_provider_tokens (
    team_id      text        NOT NULL CHECK (team_id ~ '^[A-Za-z0-9]{1,64}$'),
    key_id       text        NOT NULL CHECK (key_id ~ '^[A-Za-z0-9]{1,64}$'),
    issued_at    timestamptz,
    nonce        bytea,
    token_sealed bytea,
    renewals     bigint      NOT NULL DEFAULT 0 CHECK (renewals >= 0),
    PRIMARY KEY (team_id, key_id),
    CONSTRAINT apns_provider_tokens_complete
        CHECK ((issued_at IS NULL) = (token_sealed IS NULL) AND (nonce IS NULL) = (token_sealed IS NULL))
);

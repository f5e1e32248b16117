-- 0002_ingest_events.sql -- what arrives from the ledger systems.
--
-- Ingest sources (the ledger systems allowed to push signed events), their
-- HMAC signing secrets (encrypted at rest with libsodium crypto_secretbox; the
-- key lives outside the database), and the events themselves.
--
-- events is range-partitioned by occurred_at, one partition per calendar
-- month in Vietnam time (Asia/Ho_Chi_Minh, UTC+7, no DST), so retention is a
-- cheap DROP of whole partitions. Because a unique constraint on a
-- partitioned table must contain the partition key, idempotency on
-- (source_id, external_id) lives in the non-partitioned table event_keys.
-- A DEFAULT partition guarantees no event is ever refused for lack of a
-- partition; alertd_ensure_event_partitions() must still be run ahead of time
-- (it moves any rows that landed in the default partition into the new
-- monthly partition when it creates it).
--
-- Applied by the alertd migration runner with PQexec inside a transaction the
-- runner opens; the runner maintains schema_migrations itself.

-- ---------------------------------------------------------------------------
-- Ingest sources and their signing secrets.
-- ---------------------------------------------------------------------------
CREATE TABLE ingest_sources (
    id                     bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                   text        NOT NULL
                                       CONSTRAINT ingest_sources_name_key UNIQUE
                                       CONSTRAINT ingest_sources_name_format
                                       CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    active                 boolean     NOT NULL DEFAULT true,
    -- Requests per minute; NULL = service-wide default.
    rate_limit_per_minute  integer
                                       CONSTRAINT ingest_sources_rate_limit_positive
                                       CHECK (rate_limit_per_minute > 0),
    created_at             timestamptz NOT NULL DEFAULT now()
);

-- crypto_secretbox_easy(): nonce is crypto_secretbox_NONCEBYTES (24) bytes,
-- ciphertext is plaintext + crypto_secretbox_MACBYTES (16) bytes.
-- Several unrevoked secrets per source are allowed (rotation overlap).
CREATE TABLE ingest_secrets (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id   bigint      NOT NULL REFERENCES ingest_sources (id),
    ciphertext  bytea       NOT NULL
                            CONSTRAINT ingest_secrets_ciphertext_len
                            CHECK (octet_length(ciphertext) BETWEEN 17 AND 1040),
    nonce       bytea       NOT NULL
                            CONSTRAINT ingest_secrets_nonce_len CHECK (octet_length(nonce) = 24),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
-- Active secrets of a source (signature verification).
CREATE INDEX ingest_secrets_active_by_source_idx
    ON ingest_secrets (source_id) WHERE revoked_at IS NULL;

-- ---------------------------------------------------------------------------
-- Events (partitioned).
-- ---------------------------------------------------------------------------
CREATE TABLE events (
    id              bigint      GENERATED ALWAYS AS IDENTITY,
    source_id       bigint      NOT NULL REFERENCES ingest_sources (id),
    external_id     text        NOT NULL
                                CONSTRAINT events_external_id_format
                                CHECK (external_id ~ '^[A-Za-z0-9._:-]{1,128}$'),
    type            text        NOT NULL
                                CONSTRAINT events_type_known
                                CHECK (type IN ('balance.changed', 'voucher.status_changed')),
    occurred_at     timestamptz NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    -- Deliberately not FKs: events for unknown units/offices are stored
    -- anyway and stay unrouted (routed_at IS NULL).
    unit_code       text        NOT NULL
                                CONSTRAINT events_unit_code_format CHECK (unit_code ~ '^[0-9]{7}$'),
    office_code     text
                                CONSTRAINT events_office_code_format CHECK (office_code ~ '^[0-9A-Z]{4}$'),
    payload         jsonb       NOT NULL
                                CONSTRAINT events_payload_object CHECK (jsonb_typeof(payload) = 'object'),
    content_sha256  bytea       NOT NULL
                                CONSTRAINT events_content_sha256_len CHECK (octet_length(content_sha256) = 32),
    routed_at       timestamptz,
    PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);

-- Unrouted events of a unit (re-route when the unit is registered; backlog).
CREATE INDEX events_unrouted_by_unit_idx
    ON events (unit_code, occurred_at) WHERE routed_at IS NULL;

-- Catch-all so an insert never fails for lack of a monthly partition.
CREATE TABLE events_default PARTITION OF events DEFAULT;

COMMENT ON TABLE events IS
    'Ledger events, partitioned monthly by occurred_at (Vietnam time) as events_yYYYYmMM plus events_default. '
    'Insert through the parent only (the identity lives on the parent). Idempotency is in event_keys.';

-- Idempotency of (source_id, external_id), outside the partitioned table.
-- Insert here first (ON CONFLICT DO NOTHING) in the same transaction as the
-- events row; on conflict compare content_sha256 to tell a harmless replay
-- from a conflicting re-use of the external id.
CREATE TABLE event_keys (
    source_id       bigint      NOT NULL REFERENCES ingest_sources (id),
    external_id     text        NOT NULL
                                CONSTRAINT event_keys_external_id_format
                                CHECK (external_id ~ '^[A-Za-z0-9._:-]{1,128}$'),
    event_id        bigint      NOT NULL,
    occurred_at     timestamptz NOT NULL,
    content_sha256  bytea       NOT NULL
                                CONSTRAINT event_keys_content_sha256_len CHECK (octet_length(content_sha256) = 32),
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source_id, external_id)
);
-- Retention: alertd_drop_event_partitions_before() purges keys by occurred_at.
CREATE INDEX event_keys_occurred_at_idx ON event_keys (occurred_at);

-- ---------------------------------------------------------------------------
-- Partition maintenance.
-- ---------------------------------------------------------------------------

-- Creates the monthly partitions events_yYYYYmMM for p_months months starting
-- with the month containing p_from, skipping those that already exist.
-- Month boundaries are midnight Asia/Ho_Chi_Minh on the 1st.
-- If events_default already holds rows for a month being created, they are
-- moved into the new partition (otherwise CREATE would fail).
-- Returns the number of partitions created. Idempotent.
CREATE FUNCTION alertd_ensure_event_partitions(p_from date, p_months int)
RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    v_schema   text;
    v_month    date;
    v_lo       timestamptz;
    v_hi       timestamptz;
    v_lo_lit   text;
    v_hi_lit   text;
    v_name     text;
    v_rel      regclass;
    v_created  int := 0;
    v_moved    bigint;
BEGIN
    IF p_from IS NULL OR p_months IS NULL OR p_months < 0 OR p_months > 240 THEN
        RAISE EXCEPTION 'alertd_ensure_event_partitions: bad arguments (p_from=%, p_months=%)', p_from, p_months
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    SELECT n.nspname INTO v_schema
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = 'events'::regclass;

    FOR i IN 0 .. p_months - 1 LOOP
        v_month := (date_trunc('month', p_from::timestamp) + make_interval(months => i))::date;
        v_name  := format('events_y%sm%s', to_char(v_month, 'YYYY'), to_char(v_month, 'MM'));
        v_lo    := v_month::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh';
        v_hi    := (v_month + interval '1 month')::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh';
        -- Bound literals independent of the session's TimeZone/DateStyle.
        v_lo_lit := to_char(v_month, 'YYYY-MM-DD') || ' 00:00:00+07';
        v_hi_lit := to_char(v_month + interval '1 month', 'YYYY-MM-DD') || ' 00:00:00+07';

        v_rel := to_regclass(format('%I.%I', v_schema, v_name));
        IF v_rel IS NOT NULL THEN
            IF NOT EXISTS (SELECT 1 FROM pg_inherits
                            WHERE inhrelid = v_rel AND inhparent = 'events'::regclass) THEN
                RAISE EXCEPTION 'alertd_ensure_event_partitions: % exists but is not a partition of events', v_name
                    USING ERRCODE = 'duplicate_table';
            END IF;
            CONTINUE;
        END IF;

        IF EXISTS (SELECT 1 FROM events_default WHERE occurred_at >= v_lo AND occurred_at < v_hi) THEN
            -- Park the rows, create the partition (the default partition no
            -- longer holds rows of its range), then route them back in.
            -- Writers are blocked (parent locked first, like an INSERT would)
            -- so no new row can slip into that range of events_default.
            -- (Dynamic SQL: the temp table is recreated per month.)
            LOCK TABLE events IN EXCLUSIVE MODE;
            EXECUTE 'CREATE TEMP TABLE alertd_events_moving (LIKE events) ON COMMIT DROP';
            EXECUTE 'WITH moved AS (
                         DELETE FROM events_default
                          WHERE occurred_at >= $1 AND occurred_at < $2
                         RETURNING *)
                     INSERT INTO alertd_events_moving SELECT * FROM moved'
                USING v_lo, v_hi;
            GET DIAGNOSTICS v_moved = ROW_COUNT;

            EXECUTE format('CREATE TABLE %I.%I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
                           v_schema, v_name, v_lo_lit, v_hi_lit);

            EXECUTE 'INSERT INTO events OVERRIDING SYSTEM VALUE SELECT * FROM alertd_events_moving';
            EXECUTE 'DROP TABLE alertd_events_moving';
            RAISE NOTICE 'alertd_ensure_event_partitions: created %, moved % row(s) from events_default',
                v_name, v_moved;
        ELSE
            EXECUTE format('CREATE TABLE %I.%I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
                           v_schema, v_name, v_lo_lit, v_hi_lit);
        END IF;
        v_created := v_created + 1;
    END LOOP;

    RETURN v_created;
END;
$$;

-- Drops the monthly partitions whose whole month lies before the month
-- containing p_before, and purges the same range from events_default and
-- event_keys. Refuses a p_before in the future. Returns the number of
-- partitions dropped.
CREATE FUNCTION alertd_drop_event_partitions_before(p_before date)
RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    v_cutoff_month  date;
    v_cutoff        timestamptz;
    v_part          record;
    v_month         date;
    v_dropped       int := 0;
BEGIN
    IF p_before IS NULL THEN
        RAISE EXCEPTION 'alertd_drop_event_partitions_before: p_before is NULL'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_before > (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date THEN
        RAISE EXCEPTION 'alertd_drop_event_partitions_before: p_before % is in the future', p_before
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    v_cutoff_month := date_trunc('month', p_before::timestamp)::date;
    v_cutoff       := v_cutoff_month::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh';

    FOR v_part IN
        SELECT c.oid::regclass AS rel, c.relname
          FROM pg_inherits i
          JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'events'::regclass
           AND c.relname ~ '^events_y[0-9]{4}m(0[1-9]|1[0-2])$'
         ORDER BY c.relname
    LOOP
        v_month := make_date(substr(v_part.relname, 9, 4)::int, substr(v_part.relname, 14, 2)::int, 1);
        IF v_month < v_cutoff_month THEN
            EXECUTE format('DROP TABLE %s', v_part.rel);
            v_dropped := v_dropped + 1;
        END IF;
    END LOOP;

    DELETE FROM events_default WHERE occurred_at < v_cutoff;
    DELETE FROM event_keys     WHERE occurred_at < v_cutoff;

    RETURN v_dropped;
END;
$$;

-- Partitions for last month, this month and the next three months.
SELECT alertd_ensure_event_partitions(
    (date_trunc('month', now() AT TIME ZONE 'Asia/Ho_Chi_Minh') - interval '1 month')::date, 5);

-- 0014_coverage.sql - install coverage the way the treasury needs it
-- (docs/coverage.md): which budget units are protected, that is, their
-- account holders and chief accountants will really receive an alert.
--
-- Maintained, not computed per request:
--   coverage_units     one row per active unit, recomputed set-based by
--                      alertd_coverage_refresh() (the maintenance thread, every
--                      coverage.refresh_seconds, one instance at a time);
--   coverage_offices   one row per office with its whole subtree's figures,
--                      recomputed by the same refresh (the API reads it);
--   coverage_daily     one row per office and Vietnam day, written once by
--                      alertd_coverage_snapshot() (history survives unit moves:
--                      a day's row keeps the figures the office had that day);
--   coverage_volume_daily  VND volume per unit and Vietnam day, incremented by
--                      a trigger on events for newly stored events only (in the
--                      ingest transaction), so a refresh never scans events;
--   device_token_takeovers a push token taken over by another user's
--                      activation (the shared-phone signal), recorded by a
--                      trigger when the taking device is inserted.
--
-- "Seen" also means a successful push: push/dispatch.c bumps
-- devices.last_seen_at (at most once an hour per device) when it records a
-- sent outcome.
--
-- Applied by the alertd migration runner inside its transaction.

-- ---------------------------------------------------------------------------
-- Names searched without case or Vietnamese accents: decomposed (NFD), the
-- combining marks removed, đ/Đ made d, lower case. Our own function rather
-- than contrib's unaccent: unaccent is an extension that may not be
-- installed, and its dictionary makes it STABLE, not IMMUTABLE.
-- ---------------------------------------------------------------------------
CREATE FUNCTION alertd_fold(p_text text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT lower(translate(regexp_replace(normalize(p_text, NFD), '[\u0300-\u036f]', '', 'g'), 'đĐ', 'dD'))
$$;

-- folded once when a name is written, not at every refresh
ALTER TABLE budget_units ADD COLUMN search_name text GENERATED ALWAYS AS (alertd_fold(name)) STORED;

CREATE TYPE coverage_status AS ENUM ('protected', 'partial', 'unprotected');

CREATE TABLE coverage_units (
    unit_code            text PRIMARY KEY REFERENCES budget_units (code) ON DELETE CASCADE,
    office_code          text NOT NULL,
    status               coverage_status NOT NULL,
    users                int  NOT NULL,
    covered_users        int  NOT NULL,
    holders              int  NOT NULL,
    holders_covered      int  NOT NULL,
    chiefs               int  NOT NULL,
    chiefs_covered       int  NOT NULL,
    reachable_devices    int  NOT NULL,
    unreachable_devices  int  NOT NULL,
    ever_installed       boolean NOT NULL,
    shared_phone         boolean NOT NULL,
    missing_roles        text[] NOT NULL,
    volume_30d           numeric NOT NULL,
    -- when these figures last changed (an unchanged row is not rewritten;
    -- coverage_refresh_state.computed_at says when they were last confirmed)
    computed_at          timestamptz NOT NULL,
    -- users not covered who never registered a device / who did (all its
    -- devices unreachable now): users = covered_users + never_installed_users + unreachable_users
    never_installed_users int NOT NULL,
    unreachable_users    int NOT NULL,
    search_name          text NOT NULL  -- budget_units.search_name, for q=
);
CREATE INDEX coverage_units_office_idx ON coverage_units (office_code);
-- sort=worst (status desc, volume desc, code desc) and sort=name keysets
CREATE INDEX coverage_units_worst_idx ON coverage_units (status, volume_30d, unit_code);
CREATE INDEX coverage_units_name_idx ON coverage_units (search_name, unit_code);

COMMENT ON TABLE coverage_units IS
    'Per active budget unit coverage, maintained by alertd_coverage_refresh(); see docs/coverage.md.';

-- The figures of an office's whole subtree, as of the last refresh.
CREATE TABLE coverage_offices (
    office_code text PRIMARY KEY REFERENCES offices (code) ON DELETE CASCADE,
    units int NOT NULL, protected int NOT NULL, partial int NOT NULL, unprotected int NOT NULL,
    never_installed int NOT NULL, installed_unreachable int NOT NULL,
    users int NOT NULL, covered_users int NOT NULL, reachable_devices int NOT NULL,
    shared_phone_units int NOT NULL,
    volume_30d numeric NOT NULL, volume_at_risk numeric NOT NULL
);

CREATE TABLE coverage_daily (
    office_code text NOT NULL REFERENCES offices (code), day date NOT NULL,
    units int NOT NULL, protected int NOT NULL, partial int NOT NULL, unprotected int NOT NULL,
    never_installed int NOT NULL, installed_unreachable int NOT NULL,
    users int NOT NULL, covered_users int NOT NULL, reachable_devices int NOT NULL,
    volume_30d numeric NOT NULL, volume_at_risk numeric NOT NULL,
    shared_phone_units int NOT NULL DEFAULT 0,
    PRIMARY KEY (office_code, day)
);

CREATE TABLE coverage_targets (
    office_code text PRIMARY KEY REFERENCES offices (code),
    target_pct numeric(5,2) NOT NULL CHECK (target_pct > 0 AND target_pct <= 100),
    target_date date NOT NULL, set_by text NOT NULL, set_at timestamptz NOT NULL DEFAULT now()
);

-- One row: when the last refresh ran, with which window, and for which
-- Vietnam day coverage_volume_past holds the sums.
CREATE TABLE coverage_refresh_state (
    id           boolean PRIMARY KEY DEFAULT true CHECK (id),
    computed_at  timestamptz NOT NULL,
    active_days  int NOT NULL,
    past_day     date
);

-- ---------------------------------------------------------------------------
-- Volume. day is the Vietnam day the event was stored (ledgers send events
-- as they happen; an event that occurred more than 30 days before it arrived
-- is not counted). slot spreads one unit's day over the writers' connections
-- (pg_backend_pid() % 16), so two ingest writers never wait for each other's
-- COMMIT on a busy unit's row.
-- ---------------------------------------------------------------------------
CREATE TABLE coverage_volume_daily (
    day        date     NOT NULL,
    unit_code  text     NOT NULL,
    slot       smallint NOT NULL,
    volume     numeric  NOT NULL,
    events     int      NOT NULL,
    PRIMARY KEY (day, unit_code, slot)
);

-- The 29 complete days before coverage_refresh_state.past_day, per unit:
-- recomputed once a day by the refresh, which then adds only today's rows.
CREATE TABLE coverage_volume_past (
    unit_code  text    PRIMARY KEY,
    volume     numeric NOT NULL
);

-- The VND an event counts for: |amount| of a balance change, the voucher's
-- amount once, when it is submitted (its later status changes are the same
-- money). NULL: it counts for nothing.
CREATE FUNCTION alertd_event_volume(p_type text, p_event jsonb) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
           WHEN p_type = 'balance.changed' THEN abs((p_event -> 'data' ->> 'amount')::numeric)
           WHEN p_type = 'voucher.status_changed' AND p_event -> 'data' ->> 'status' = 'submitted'
           THEN (p_event -> 'data' -> 'voucher' ->> 'amount')::numeric
           END
$$;

-- Newly stored events add to today's volume rows. A statement-level
-- trigger on events sees exactly the rows a statement inserted (the ingest
-- batch's INSERT runs only for keys new to event_keys: duplicates,
-- conflicts and refused events never reach events), so one upsert per group
-- commit, grouped and written in (day, unit_code, slot) order: concurrent
-- writers lock shared rows in one order and cannot deadlock, and with their
-- own slot they do not share rows at all.
CREATE FUNCTION alertd_events_volume() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO coverage_volume_daily AS v (day, unit_code, slot, volume, events)
    SELECT (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, n.unit_code, (pg_backend_pid() % 16)::smallint,
           sum(alertd_event_volume(n.type, n.payload)), count(*)
      FROM stored n
     WHERE alertd_event_volume(n.type, n.payload) > 0 AND n.occurred_at > now() - interval '30 days'
     GROUP BY n.unit_code
     ORDER BY n.unit_code
    ON CONFLICT (day, unit_code, slot) DO UPDATE
       SET volume = v.volume + EXCLUDED.volume, events = v.events + EXCLUDED.events;
    RETURN NULL;
END;
$$;

CREATE TRIGGER events_volume AFTER INSERT ON events REFERENCING NEW TABLE AS stored
    FOR EACH STATEMENT EXECUTE FUNCTION alertd_events_volume();

-- ---------------------------------------------------------------------------
-- Shared phone. An activation that registers a push token held by another
-- user's active device revokes that device (state_reason push_token_reused,
-- people/activation.c) in the same transaction, then inserts the new device.
-- The trigger below records that pair when the new device is inserted: the
-- devices revoked for push_token_reused in this very transaction
-- (state_changed_at = now(), the transaction's time) that held the same
-- token on the same platform for another user. The pair stays recorded
-- whatever the devices do later (a new token, retention clearing old
-- tokens). The heartbeat never moves a token between users (it refuses:
-- device.push_token_conflict), so the insert is the only place to watch.
-- ---------------------------------------------------------------------------
CREATE TABLE device_token_takeovers (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    from_device_id  bigint      NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    from_user_id    bigint      NOT NULL REFERENCES users (id),
    to_device_id    bigint      NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    to_user_id      bigint      NOT NULL REFERENCES users (id),
    at              timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT device_token_takeovers_two_users CHECK (from_user_id <> to_user_id)
);
CREATE INDEX device_token_takeovers_from_user_idx ON device_token_takeovers (from_user_id);

-- finds the devices a token was just taken from
CREATE INDEX devices_token_reused_idx ON devices (platform, push_token) WHERE state_reason = 'push_token_reused';

CREATE FUNCTION alertd_devices_record_takeover() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO device_token_takeovers (from_device_id, from_user_id, to_device_id, to_user_id)
    SELECT o.id, o.user_id, NEW.id, NEW.user_id
      FROM devices o
     WHERE o.platform = NEW.platform AND o.push_token = NEW.push_token
       AND o.state_reason = 'push_token_reused' AND o.state = 'revoked'
       AND o.state_changed_at = now() AND o.user_id <> NEW.user_id
     ORDER BY o.id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER devices_record_takeover AFTER INSERT ON devices
    FOR EACH ROW WHEN (NEW.push_token IS NOT NULL) EXECUTE FUNCTION alertd_devices_record_takeover();

-- What the history already shows: a device revoked for push_token_reused
-- whose token a device of another user, registered at that moment or later,
-- still holds (tokens cleared by retention are lost to this look-back).
INSERT INTO device_token_takeovers (from_device_id, from_user_id, to_device_id, to_user_id, at)
SELECT o.id, o.user_id, n.id, n.user_id, o.state_changed_at
  FROM devices o
  JOIN devices n ON n.platform = o.platform AND n.push_token = o.push_token AND n.user_id <> o.user_id
                AND n.first_seen_at >= o.state_changed_at - interval '1 minute'
 WHERE o.state = 'revoked' AND o.state_reason = 'push_token_reused'
 ORDER BY o.id, n.id;

-- ---------------------------------------------------------------------------
-- The refresh. Reachable device: state active, a push token, seen within
-- p_active_days. Covered user: at least one reachable device. Unit:
-- protected when it has an account holder and a chief accountant and every
-- one of them is covered; partial when not, but some active user is covered;
-- unprotected otherwise. A unit without a rostered holder or chief is never
-- protected (missing_roles names the role).
--
-- Takes the coverage advisory lock for its transaction (the maintenance
-- thread try-locks it first and skips when another instance holds it; a
-- direct call waits). Returns the number of coverage_units rows written or
-- deleted (unchanged rows are not rewritten).
-- ---------------------------------------------------------------------------
CREATE FUNCTION alertd_coverage_refresh(p_active_days int) RETURNS int
LANGUAGE plpgsql VOLATILE
-- a few hash aggregates over every user and device: in memory, and not worth JIT-compiling
SET work_mem = '64MB' SET jit = off
AS $$
DECLARE
    v_today date := (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date;
    v_past  date;
    v_written int;
    v_deleted int;
BEGIN
    IF p_active_days IS NULL OR p_active_days < 1 THEN
        RAISE EXCEPTION 'alertd_coverage_refresh: p_active_days must be 1 or more';
    END IF;
    PERFORM pg_advisory_xact_lock(107356483593318);

    -- the sums of the 29 complete days before today, once a day
    SELECT past_day INTO v_past FROM coverage_refresh_state;
    IF v_past IS DISTINCT FROM v_today THEN
        DELETE FROM coverage_volume_past;
        INSERT INTO coverage_volume_past (unit_code, volume)
        SELECT unit_code, sum(volume) FROM coverage_volume_daily
         WHERE day >= v_today - 29 AND day < v_today
         GROUP BY unit_code;
        DELETE FROM coverage_volume_daily WHERE day < v_today - 40;
    END IF;

    WITH dev AS (
        SELECT d.user_id,
               count(*) FILTER (WHERE d.state = 'active' AND d.push_token IS NOT NULL
                                  AND d.last_seen_at > now() - make_interval(days => p_active_days)) AS reachable,
               count(*) FILTER (WHERE d.state IN ('active', 'token_invalid')) AS installed
          FROM devices d
         GROUP BY d.user_id
    ), rol AS (
        SELECT user_id, bool_or(role = 'account_holder') AS holder, bool_or(role = 'chief_accountant') AS chief
          FROM user_roles GROUP BY user_id
    ), per_unit AS (
        -- a user without devices has no dev row: d.reachable NULL counts as not covered, d.user_id NULL as never installed
        SELECT u.unit_code,
               count(*) AS users,
               count(*) FILTER (WHERE d.reachable > 0) AS covered_users,
               count(*) FILTER (WHERE r.holder) AS holders,
               count(*) FILTER (WHERE r.holder AND d.reachable > 0) AS holders_covered,
               count(*) FILTER (WHERE r.chief) AS chiefs,
               count(*) FILTER (WHERE r.chief AND d.reachable > 0) AS chiefs_covered,
               sum(d.reachable) AS reachable_devices,
               sum(d.installed - d.reachable) AS unreachable_devices,
               bool_or(d.user_id IS NOT NULL) AS ever_installed,
               count(*) FILTER (WHERE d.user_id IS NULL) AS never_users,
               count(*) FILTER (WHERE d.reachable = 0) AS unreachable_users
          FROM users u
          LEFT JOIN rol r ON r.user_id = u.id
          LEFT JOIN dev d ON d.user_id = u.id
         WHERE u.active
         GROUP BY u.unit_code
    ), shared AS (
        -- the takeovers are few: their users are looked up, not the whole usr set
        SELECT DISTINCT f.unit_code
          FROM device_token_takeovers t
          JOIN users f ON f.id = t.from_user_id AND f.active
          JOIN users n ON n.id = t.to_user_id AND n.active AND n.unit_code = f.unit_code
         WHERE EXISTS (SELECT 1 FROM user_roles a JOIN user_roles b ON b.user_id = n.id
                        WHERE a.user_id = f.id
                          AND ((a.role = 'account_holder' AND b.role = 'chief_accountant')
                               OR (a.role = 'chief_accountant' AND b.role = 'account_holder')))
    ), vol AS (
        SELECT unit_code, sum(volume) AS volume
          FROM (SELECT unit_code, volume FROM coverage_volume_past
                UNION ALL
                SELECT unit_code, volume FROM coverage_volume_daily WHERE day = v_today) x
         GROUP BY unit_code
    ), fresh AS (
        SELECT b.code, b.office_code, b.search_name,
               COALESCE(p.users, 0) AS users, COALESCE(p.covered_users, 0) AS covered_users,
               COALESCE(p.holders, 0) AS holders, COALESCE(p.holders_covered, 0) AS holders_covered,
               COALESCE(p.chiefs, 0) AS chiefs, COALESCE(p.chiefs_covered, 0) AS chiefs_covered,
               COALESCE(p.reachable_devices, 0) AS reachable_devices,
               COALESCE(p.unreachable_devices, 0) AS unreachable_devices,
               COALESCE(p.ever_installed, false) AS ever_installed,
               s.unit_code IS NOT NULL AS shared_phone,
               COALESCE(v.volume, 0) AS volume_30d,
               COALESCE(p.never_users, 0) AS never_users, COALESCE(p.unreachable_users, 0) AS unreachable_users
          FROM budget_units b
          LEFT JOIN per_unit p ON p.unit_code = b.code
          LEFT JOIN shared s ON s.unit_code = b.code
          LEFT JOIN vol v ON v.unit_code = b.code
         WHERE b.active
    )
    INSERT INTO coverage_units AS c (unit_code, office_code, status, users, covered_users, holders, holders_covered,
                                     chiefs, chiefs_covered, reachable_devices, unreachable_devices, ever_installed,
                                     shared_phone, missing_roles, volume_30d, computed_at, never_installed_users,
                                     unreachable_users, search_name)
    SELECT f.code, f.office_code,
           CASE WHEN f.holders > 0 AND f.chiefs > 0 AND f.holders_covered = f.holders AND f.chiefs_covered = f.chiefs
                THEN 'protected'
                WHEN f.covered_users > 0 THEN 'partial'
                ELSE 'unprotected' END::coverage_status,
           f.users, f.covered_users, f.holders, f.holders_covered, f.chiefs, f.chiefs_covered,
           f.reachable_devices, f.unreachable_devices, f.ever_installed, f.shared_phone,
           array_remove(ARRAY[CASE WHEN f.holders = 0 OR f.holders_covered < f.holders THEN 'account_holder' END,
                              CASE WHEN f.chiefs = 0 OR f.chiefs_covered < f.chiefs THEN 'chief_accountant' END],
                        NULL),
           f.volume_30d, now(), f.never_users, f.unreachable_users, f.search_name
      FROM fresh f
     ORDER BY f.code
    ON CONFLICT (unit_code) DO UPDATE SET
           office_code = EXCLUDED.office_code, status = EXCLUDED.status, users = EXCLUDED.users,
           covered_users = EXCLUDED.covered_users, holders = EXCLUDED.holders,
           holders_covered = EXCLUDED.holders_covered, chiefs = EXCLUDED.chiefs,
           chiefs_covered = EXCLUDED.chiefs_covered, reachable_devices = EXCLUDED.reachable_devices,
           unreachable_devices = EXCLUDED.unreachable_devices, ever_installed = EXCLUDED.ever_installed,
           shared_phone = EXCLUDED.shared_phone, missing_roles = EXCLUDED.missing_roles,
           volume_30d = EXCLUDED.volume_30d, computed_at = EXCLUDED.computed_at,
           never_installed_users = EXCLUDED.never_installed_users, unreachable_users = EXCLUDED.unreachable_users,
           search_name = EXCLUDED.search_name
     WHERE (c.office_code, c.status, c.users, c.covered_users, c.holders, c.holders_covered, c.chiefs,
            c.chiefs_covered, c.reachable_devices, c.unreachable_devices, c.ever_installed, c.shared_phone,
            c.missing_roles, c.volume_30d, c.never_installed_users, c.unreachable_users, c.search_name)
           IS DISTINCT FROM
           (EXCLUDED.office_code, EXCLUDED.status, EXCLUDED.users, EXCLUDED.covered_users, EXCLUDED.holders,
            EXCLUDED.holders_covered, EXCLUDED.chiefs, EXCLUDED.chiefs_covered, EXCLUDED.reachable_devices,
            EXCLUDED.unreachable_devices, EXCLUDED.ever_installed, EXCLUDED.shared_phone, EXCLUDED.missing_roles,
            EXCLUDED.volume_30d, EXCLUDED.never_installed_users, EXCLUDED.unreachable_users, EXCLUDED.search_name);
    GET DIAGNOSTICS v_written = ROW_COUNT;

    DELETE FROM coverage_units c
     WHERE NOT EXISTS (SELECT 1 FROM budget_units b WHERE b.code = c.unit_code AND b.active);
    GET DIAGNOSTICS v_deleted = ROW_COUNT;

    -- every office's subtree: a unit counts for its office and the (at most
    -- two) offices above it
    INSERT INTO coverage_offices AS o (office_code, units, protected, partial, unprotected, never_installed,
                                       installed_unreachable, users, covered_users, reachable_devices,
                                       shared_phone_units, volume_30d, volume_at_risk)
    SELECT f.code, COALESCE(sum(d.units), 0), COALESCE(sum(d.protected), 0), COALESCE(sum(d.partial), 0),
           COALESCE(sum(d.unprotected), 0), COALESCE(sum(d.never_installed), 0),
           COALESCE(sum(d.installed_unreachable), 0), COALESCE(sum(d.users), 0), COALESCE(sum(d.covered_users), 0),
           COALESCE(sum(d.reachable_devices), 0), COALESCE(sum(d.shared_phone_units), 0),
           COALESCE(sum(d.volume_30d), 0), COALESCE(sum(d.volume_at_risk), 0)
      FROM offices f
      LEFT JOIN (SELECT o.code AS office, o.code AS anc FROM offices o
                 UNION ALL SELECT o.code, o.parent_code FROM offices o WHERE o.parent_code IS NOT NULL
                 UNION ALL SELECT o.code, p.parent_code FROM offices o JOIN offices p ON p.code = o.parent_code
                            WHERE p.parent_code IS NOT NULL) a ON a.anc = f.code
      LEFT JOIN (SELECT office_code, count(*) AS units,
                        count(*) FILTER (WHERE status = 'protected') AS protected,
                        count(*) FILTER (WHERE status = 'partial') AS partial,
                        count(*) FILTER (WHERE status = 'unprotected') AS unprotected,
                        count(*) FILTER (WHERE NOT ever_installed) AS never_installed,
                        count(*) FILTER (WHERE status <> 'protected' AND unreachable_users > 0) AS installed_unreachable,
                        sum(users) AS users, sum(covered_users) AS covered_users,
                        sum(reachable_devices) AS reachable_devices,
                        count(*) FILTER (WHERE shared_phone) AS shared_phone_units,
                        sum(volume_30d) AS volume_30d,
                        COALESCE(sum(volume_30d) FILTER (WHERE status <> 'protected'), 0) AS volume_at_risk
                   FROM coverage_units GROUP BY office_code) d ON d.office_code = a.office
     GROUP BY f.code
     ORDER BY f.code
    ON CONFLICT (office_code) DO UPDATE SET
           units = EXCLUDED.units, protected = EXCLUDED.protected, partial = EXCLUDED.partial,
           unprotected = EXCLUDED.unprotected, never_installed = EXCLUDED.never_installed,
           installed_unreachable = EXCLUDED.installed_unreachable, users = EXCLUDED.users,
           covered_users = EXCLUDED.covered_users, reachable_devices = EXCLUDED.reachable_devices,
           shared_phone_units = EXCLUDED.shared_phone_units, volume_30d = EXCLUDED.volume_30d,
           volume_at_risk = EXCLUDED.volume_at_risk
     WHERE (o.units, o.protected, o.partial, o.unprotected, o.never_installed, o.installed_unreachable, o.users,
            o.covered_users, o.reachable_devices, o.shared_phone_units, o.volume_30d, o.volume_at_risk)
           IS DISTINCT FROM
           (EXCLUDED.units, EXCLUDED.protected, EXCLUDED.partial, EXCLUDED.unprotected, EXCLUDED.never_installed,
            EXCLUDED.installed_unreachable, EXCLUDED.users, EXCLUDED.covered_users, EXCLUDED.reachable_devices,
            EXCLUDED.shared_phone_units, EXCLUDED.volume_30d, EXCLUDED.volume_at_risk);

    INSERT INTO coverage_refresh_state (id, computed_at, active_days, past_day)
    VALUES (true, now(), p_active_days, v_today)
    ON CONFLICT (id) DO UPDATE SET computed_at = EXCLUDED.computed_at, active_days = EXCLUDED.active_days,
                                   past_day = EXCLUDED.past_day;
    RETURN v_written + v_deleted;
END;
$$;

-- Today's (or p_day's) figures of every office, from the last refresh;
-- written once per office and day (ON CONFLICT DO NOTHING: several
-- instances may call it). Returns the rows written.
CREATE FUNCTION alertd_coverage_snapshot(p_day date) RETURNS int
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_rows int;
BEGIN
    INSERT INTO coverage_daily (office_code, day, units, protected, partial, unprotected, never_installed,
                                installed_unreachable, users, covered_users, reachable_devices, volume_30d,
                                volume_at_risk, shared_phone_units)
    SELECT office_code, p_day, units, protected, partial, unprotected, never_installed, installed_unreachable,
           users, covered_users, reachable_devices, volume_30d, volume_at_risk, shared_phone_units
      FROM coverage_offices
     ORDER BY office_code
    ON CONFLICT (office_code, day) DO NOTHING;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RETURN v_rows;
END;
$$;

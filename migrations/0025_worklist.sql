-- 0025_worklist.sql -- the follow-up worklist of units that are not
-- protected, and the escalation of risk alerts that reached nobody
-- (issue 14; docs/staff.md "Worklist" and "Escalations", docs/alerts.md
-- "Escalation").
--
-- worklist_items     one row per unit episode: opened when the unit's
--                    coverage status is not protected, kept in step by
--                    alertd_worklist_sync() right after every coverage
--                    refresh (same transaction, same advisory lock), closed
--                    by the system when the unit becomes protected; a hand
--                    close keeps the episode, and the item reopens when the
--                    unit regresses (worse status, or a reason not there at
--                    the close).
-- worklist_contacts  the contact attempts recorded on an item.
-- escalations        one per (event, rule, unit): a risk alert that no user
--                    of the unit read within escalation.after_minutes
--                    ("call this unit now"), until a staff member
--                    acknowledges it with a note.
-- offices.duty_email the transaction office's duty address for escalation
--                    e-mails (alertd office duty-email).
--
-- Applied by the alertd migration runner inside its transaction.

ALTER TABLE offices ADD COLUMN duty_email text
    CONSTRAINT offices_duty_email CHECK (duty_email IS NULL OR (length(duty_email) BETWEEN 3 AND 254
                                         AND duty_email ~ '^[^@\s<>",;]+@[^@\s<>",;]+$'));

CREATE TABLE worklist_items (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_code       text NOT NULL REFERENCES budget_units (code),
    -- the unit's office (kept in step with budget_units by the sync and by
    -- the move trigger below): the item's scope
    office_code     text NOT NULL REFERENCES offices (code),
    state           text NOT NULL DEFAULT 'open' CONSTRAINT worklist_items_state CHECK (state IN ('open', 'closed')),
    -- true while the episode lasts: until the unit is protected again (or
    -- leaves the roster). A hand-closed item stays in its episode and may
    -- reopen; one whose episode ended is history.
    episode_open    boolean NOT NULL DEFAULT true,
    status          coverage_status NOT NULL,          -- the unit's, as of the last sync
    -- [{"code": "...", ...parameters}], docs/staff.md "Reasons"
    reasons         jsonb NOT NULL CONSTRAINT worklist_items_reasons CHECK (jsonb_typeof(reasons) = 'array'),
    opened_at       timestamptz NOT NULL DEFAULT now(),
    due_at          timestamptz NOT NULL,
    assignee_id     bigint REFERENCES staff (id),
    assigned_at     timestamptz,
    closed_at       timestamptz,
    closed_by       text CONSTRAINT worklist_items_closed_by CHECK (length(closed_by) BETWEEN 1 AND 128),
    close_reason    text CONSTRAINT worklist_items_close_reason CHECK (close_reason IN ('protected', 'unit_inactive', 'hand')),
    close_note      text CONSTRAINT worklist_items_close_note CHECK (length(close_note) BETWEEN 1 AND 1000),
    -- at a hand close: what a regression is measured against
    closed_status   coverage_status,
    closed_reasons  text[],
    reopened_at     timestamptz,
    reopen_count    int NOT NULL DEFAULT 0,
    last_contact_at timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT worklist_items_closed CHECK ((state = 'closed') = (closed_at IS NOT NULL AND close_reason IS NOT NULL)),
    CONSTRAINT worklist_items_episode CHECK (episode_open OR state = 'closed'),
    CONSTRAINT worklist_items_assigned CHECK ((assignee_id IS NULL) = (assigned_at IS NULL))
);
-- one current item per unit
CREATE UNIQUE INDEX worklist_items_unit_episode_key ON worklist_items (unit_code) WHERE episode_open;
-- an office's list, in due order (the keyset), and the overdue filter
CREATE INDEX worklist_items_office_idx ON worklist_items (office_code, state, due_at, id);
CREATE INDEX worklist_items_assignee_idx ON worklist_items (assignee_id) WHERE assignee_id IS NOT NULL;
CREATE INDEX worklist_items_unit_idx ON worklist_items (unit_code, id DESC);
CREATE TRIGGER worklist_items_set_updated_at BEFORE UPDATE ON worklist_items
    FOR EACH ROW EXECUTE FUNCTION alertd_set_updated_at();

CREATE TABLE worklist_contacts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item_id     bigint NOT NULL REFERENCES worklist_items (id) ON DELETE CASCADE,
    channel     text NOT NULL CONSTRAINT worklist_contacts_channel CHECK (channel IN ('phone', 'email', 'visit', 'counter')),
    outcome     text NOT NULL
                CONSTRAINT worklist_contacts_outcome
                CHECK (outcome IN ('reached', 'no_answer', 'wrong_number', 'promised', 'refused', 'other')),
    note        text CONSTRAINT worklist_contacts_note CHECK (length(note) <= 1000),
    staff_id    bigint NOT NULL REFERENCES staff (id),
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX worklist_contacts_item_idx ON worklist_contacts (item_id, id);

-- when the last sync ran: units whose coverage row changed since are looked at again
CREATE TABLE worklist_sync_state (
    id        boolean PRIMARY KEY DEFAULT true CONSTRAINT worklist_sync_state_one CHECK (id),
    synced_at timestamptz NOT NULL
);

-- ---------------------------------------------------------------------------
-- The sync, called by maintenance_coverage_refresh() right after
-- alertd_coverage_refresh() in its transaction (under the coverage lock).
-- Looks only at units whose coverage row changed since the last sync, plus
-- units not protected that have no current item (the first run: all of
-- them), plus current items whose unit left the roster. Set-based.
-- Reasons (stable codes, in this order; docs/staff.md):
--   no_users                       the unit has no active user
--   holder_missing / chief_missing no account holder / chief accountant on the roster
--   no_holder_install {users}      account holders who never registered a device
--   holder_unreachable {users, last_seen_at}  installed, no reachable device;
--                                  last_seen_at: the most recent sighting of
--                                  the longest-unreachable one (days at read)
--   no_chief_install, chief_unreachable        the same for chief accountants
--   shared_phone                   one phone for the holder and the chief
--   never_installed {users}        users (any role) who never installed
-- Returns the items opened, changed, reopened or closed.
-- ---------------------------------------------------------------------------
CREATE FUNCTION alertd_worklist_sync(p_active_days int, p_due_days int) RETURNS int
LANGUAGE plpgsql VOLATILE
SET work_mem = '64MB' SET jit = off
AS $$
DECLARE
    v_since timestamptz;
    v_total int := 0;
    v_n int;
BEGIN
    SELECT synced_at INTO v_since FROM worklist_sync_state;
    v_since := COALESCE(v_since, '-infinity');

    CREATE TEMP TABLE wl_cand ON COMMIT DROP AS
    SELECT c.unit_code, c.office_code, c.status, c.users, c.holders, c.chiefs, c.shared_phone
      FROM coverage_units c
     WHERE c.computed_at > v_since
        OR (c.status <> 'protected'
            AND NOT EXISTS (SELECT 1 FROM worklist_items w WHERE w.unit_code = c.unit_code AND w.episode_open));

    CREATE TEMP TABLE wl_fresh ON COMMIT DROP AS
    WITH usr AS (
        SELECT u.unit_code, u.id, bool_or(r.role = 'account_holder') AS holder,
               bool_or(r.role = 'chief_accountant') AS chief
          FROM wl_cand k
          JOIN users u ON u.unit_code = k.unit_code AND u.active
          LEFT JOIN user_roles r ON r.user_id = u.id
         WHERE k.status <> 'protected'
         GROUP BY u.unit_code, u.id
    ), dev AS (
        SELECT d.user_id,
               count(*) FILTER (WHERE d.state = 'active' AND d.push_token IS NOT NULL
                                  AND d.last_seen_at > now() - make_interval(days => p_active_days)) AS reachable,
               max(d.last_seen_at) AS last_seen
          FROM usr JOIN devices d ON d.user_id = usr.id
         GROUP BY d.user_id
    ), per AS (
        -- no dev row: never registered a device (docs/coverage.md's "never installed")
        SELECT usr.unit_code,
               count(*) FILTER (WHERE usr.holder AND dev.user_id IS NULL) AS holders_never,
               count(*) FILTER (WHERE usr.holder AND dev.reachable = 0) AS holders_unreach,
               min(dev.last_seen) FILTER (WHERE usr.holder AND dev.reachable = 0) AS holder_seen,
               count(*) FILTER (WHERE usr.chief AND dev.user_id IS NULL) AS chiefs_never,
               count(*) FILTER (WHERE usr.chief AND dev.reachable = 0) AS chiefs_unreach,
               min(dev.last_seen) FILTER (WHERE usr.chief AND dev.reachable = 0) AS chief_seen,
               count(*) FILTER (WHERE dev.user_id IS NULL) AS never_users
          FROM usr LEFT JOIN dev ON dev.user_id = usr.id
         GROUP BY usr.unit_code
    )
    SELECT k.unit_code, k.office_code, k.status,
           to_jsonb(array_remove(ARRAY[
               CASE WHEN k.users = 0 THEN jsonb_build_object('code', 'no_users') END,
               CASE WHEN k.holders = 0 THEN jsonb_build_object('code', 'holder_missing') END,
               CASE WHEN k.chiefs = 0 THEN jsonb_build_object('code', 'chief_missing') END,
               CASE WHEN p.holders_never > 0 THEN jsonb_build_object('code', 'no_holder_install', 'users', p.holders_never) END,
               CASE WHEN p.holders_unreach > 0 THEN jsonb_build_object('code', 'holder_unreachable', 'users', p.holders_unreach,
                   'last_seen_at', to_char(p.holder_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')) END,
               CASE WHEN p.chiefs_never > 0 THEN jsonb_build_object('code', 'no_chief_install', 'users', p.chiefs_never) END,
               CASE WHEN p.chiefs_unreach > 0 THEN jsonb_build_object('code', 'chief_unreachable', 'users', p.chiefs_unreach,
                   'last_seen_at', to_char(p.chief_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')) END,
               CASE WHEN k.shared_phone THEN jsonb_build_object('code', 'shared_phone') END,
               CASE WHEN p.never_users > 0 THEN jsonb_build_object('code', 'never_installed', 'users', p.never_users) END
           ], NULL)) AS reasons
      FROM wl_cand k
      LEFT JOIN per p ON p.unit_code = k.unit_code
     WHERE k.status <> 'protected';

    -- a new episode
    INSERT INTO worklist_items (unit_code, office_code, status, reasons, due_at)
    SELECT f.unit_code, f.office_code, f.status, f.reasons, now() + make_interval(days => p_due_days)
      FROM wl_fresh f
     WHERE NOT EXISTS (SELECT 1 FROM worklist_items w WHERE w.unit_code = f.unit_code AND w.episode_open)
     ORDER BY f.unit_code
    ON CONFLICT (unit_code) WHERE episode_open DO NOTHING;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    v_total := v_total + v_n;

    -- a hand-closed item of a unit that regressed: a worse status than at
    -- the close, or a reason that was not there then
    WITH re AS (
        UPDATE worklist_items w
           SET state = 'open', closed_at = NULL, closed_by = NULL, close_reason = NULL, close_note = NULL,
               reopened_at = now(), reopen_count = w.reopen_count + 1, status = f.status, reasons = f.reasons,
               office_code = f.office_code,
               due_at = GREATEST(w.due_at, now() + make_interval(days => p_due_days)),
               closed_status = NULL, closed_reasons = NULL
          FROM wl_fresh f
         WHERE w.unit_code = f.unit_code AND w.episode_open AND w.state = 'closed'
           AND (f.status > w.closed_status
                OR EXISTS (SELECT 1 FROM jsonb_array_elements(f.reasons) e
                            WHERE NOT (e->>'code' = ANY (w.closed_reasons))))
        RETURNING w.id, w.unit_code, w.office_code, w.status, w.reasons
    )
    INSERT INTO audit_log (actor_kind, action, target, outcome, details)
    SELECT 'system', 'worklist.reopen', re.unit_code, 'ok',
           jsonb_build_object('item', re.id, 'office', re.office_code, 'status', re.status, 'reasons', re.reasons)
      FROM re ORDER BY re.id;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    v_total := v_total + v_n;

    -- the figures of current items that changed
    UPDATE worklist_items w
       SET status = f.status, reasons = f.reasons, office_code = f.office_code
      FROM wl_fresh f
     WHERE w.unit_code = f.unit_code AND w.episode_open
       AND (w.status, w.reasons, w.office_code) IS DISTINCT FROM (f.status, f.reasons, f.office_code);
    GET DIAGNOSTICS v_n = ROW_COUNT;
    v_total := v_total + v_n;

    -- protected again: the episode ends (an open item is closed by the system)
    WITH done AS (
        UPDATE worklist_items w
           SET episode_open = false, status = 'protected',
               closed_by = CASE WHEN w.state = 'open' THEN 'system' ELSE w.closed_by END,
               close_reason = CASE WHEN w.state = 'open' THEN 'protected' ELSE w.close_reason END,
               closed_at = COALESCE(w.closed_at, now()), state = 'closed'
          FROM wl_cand k
         WHERE k.unit_code = w.unit_code AND w.episode_open AND k.status = 'protected'
        RETURNING w.id, w.unit_code, w.office_code, w.close_reason
    )
    INSERT INTO audit_log (actor_kind, action, target, outcome, details)
    SELECT 'system', 'worklist.close', done.unit_code, 'ok',
           jsonb_build_object('item', done.id, 'office', done.office_code, 'reason', 'protected')
      FROM done ORDER BY done.id;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    v_total := v_total + v_n;

    -- the unit left the roster (no coverage row any more)
    UPDATE worklist_items w
       SET episode_open = false,
           closed_by = CASE WHEN w.state = 'open' THEN 'system' ELSE w.closed_by END,
           close_reason = CASE WHEN w.state = 'open' THEN 'unit_inactive' ELSE w.close_reason END,
           closed_at = COALESCE(w.closed_at, now()), state = 'closed'
     WHERE w.episode_open AND NOT EXISTS (SELECT 1 FROM coverage_units c WHERE c.unit_code = w.unit_code);
    GET DIAGNOSTICS v_n = ROW_COUNT;
    v_total := v_total + v_n;

    INSERT INTO worklist_sync_state (id, synced_at) VALUES (true, now())
    ON CONFLICT (id) DO UPDATE SET synced_at = EXCLUDED.synced_at;
    DROP TABLE wl_cand;
    DROP TABLE wl_fresh;
    RETURN v_total;
END;
$$;

-- The reasons with "days" added to those carrying last_seen_at: whole days
-- since that sighting, as of now (the stored reasons do not change daily).
CREATE FUNCTION alertd_worklist_reasons_now(p_reasons jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(jsonb_agg(CASE WHEN e ? 'last_seen_at'
                                   THEN e || jsonb_build_object('days',
                                        floor(extract(epoch FROM now() - (e->>'last_seen_at')::timestamptz) / 86400)::int)
                                   ELSE e END ORDER BY n), '[]'::jsonb)
      FROM jsonb_array_elements(p_reasons) WITH ORDINALITY AS x(e, n)
$$;

-- a unit moved to another office: its current item and open escalations
-- move with it, as coverage_units does (0018), since they are scoped by it
CREATE FUNCTION alertd_worklist_unit_moved() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE worklist_items SET office_code = NEW.office_code WHERE unit_code = NEW.code AND episode_open;
    UPDATE escalations SET office_code = NEW.office_code WHERE unit_code = NEW.code AND acknowledged_at IS NULL;
    RETURN NULL;
END
$$;

-- ---------------------------------------------------------------------------
-- Escalations (docs/alerts.md "Escalation").
-- ---------------------------------------------------------------------------
CREATE TABLE escalations (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id         bigint NOT NULL,
    risk_rule        text NOT NULL,
    unit_code        text NOT NULL REFERENCES budget_units (code),
    office_code      text NOT NULL REFERENCES offices (code),
    -- no_reachable_device: no push was queued for any device of the unit;
    -- all_failed: none of its pushes was sent (failed, or still not sent);
    -- unread: pushes were sent but no user read the alert
    reason           text NOT NULL CONSTRAINT escalations_reason CHECK (reason IN ('no_reachable_device', 'all_failed', 'unread')),
    alert_created_at timestamptz NOT NULL,
    users_alerted    int NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    acknowledged_at  timestamptz,
    acknowledged_by  text CONSTRAINT escalations_ack_by CHECK (length(acknowledged_by) BETWEEN 1 AND 128),
    ack_note         text CONSTRAINT escalations_ack_note CHECK (length(ack_note) BETWEEN 1 AND 1000),
    -- acknowledged_at - created_at, kept for the time-to-acknowledgement metric
    ack_seconds      double precision,
    CONSTRAINT escalations_once UNIQUE (event_id, risk_rule, unit_code),
    CONSTRAINT escalations_ack CHECK ((acknowledged_at IS NULL) = (acknowledged_by IS NULL)
                                      AND (acknowledged_at IS NULL) = (ack_note IS NULL)
                                      AND (acknowledged_at IS NULL) = (ack_seconds IS NULL))
);
-- the open list and the metric (count, oldest)
CREATE INDEX escalations_open_idx ON escalations (created_at) WHERE acknowledged_at IS NULL;
CREATE INDEX escalations_office_idx ON escalations (office_code, id DESC);
CREATE INDEX escalations_unit_idx ON escalations (unit_code) WHERE acknowledged_at IS NULL;
-- the pass scans the risk alerts of a recent window only
CREATE INDEX alerts_risk_created_idx ON alerts (created_at) WHERE severity = 'risk';

CREATE TRIGGER budget_units_moved_worklist
    AFTER UPDATE OF office_code ON budget_units
    FOR EACH ROW WHEN (OLD.office_code IS DISTINCT FROM NEW.office_code)
    EXECUTE FUNCTION alertd_worklist_unit_moved();

-- ---------------------------------------------------------------------------
-- The escalation pass: risk alerts created between p_lookback_hours and
-- p_after_minutes ago, grouped per (event, rule, unit), none of whose
-- alerts was read, not escalated yet. Inserts them and returns the new
-- rows (the caller writes the duty e-mails in the same transaction).
-- ---------------------------------------------------------------------------
CREATE FUNCTION alertd_escalate(p_after_minutes int, p_lookback_hours int)
RETURNS TABLE (id bigint, event_id bigint, risk_rule text, unit_code text, unit_name text, office_code text,
               duty_email text, reason text, alert_created_at timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN QUERY
    WITH grp AS (
        SELECT a.event_id, a.risk_rule, a.unit_code, min(a.created_at) AS created, count(DISTINCT a.user_id) AS users,
               array_agg(a.id) AS ids
          FROM alerts a
         WHERE a.severity = 'risk' AND a.event_id IS NOT NULL
           AND a.created_at > now() - make_interval(hours => p_lookback_hours)
           AND a.created_at <= now() - make_interval(mins => p_after_minutes)
         GROUP BY a.event_id, a.risk_rule, a.unit_code
        HAVING NOT bool_or(a.read_at IS NOT NULL)
    ), todo AS (
        SELECT g.*, (SELECT count(*) FROM push_outbox o WHERE o.alert_id = ANY (g.ids)) AS pushes,
               (SELECT count(*) FROM push_outbox o WHERE o.alert_id = ANY (g.ids) AND o.state = 'sent') AS sent
          FROM grp g
         WHERE NOT EXISTS (SELECT 1 FROM escalations e
                            WHERE e.event_id = g.event_id AND e.risk_rule = g.risk_rule AND e.unit_code = g.unit_code)
    ), ins AS (
        INSERT INTO escalations AS e (event_id, risk_rule, unit_code, office_code, reason, alert_created_at, users_alerted)
        SELECT t.event_id, t.risk_rule, t.unit_code, b.office_code,
               CASE WHEN t.pushes = 0 THEN 'no_reachable_device' WHEN t.sent = 0 THEN 'all_failed' ELSE 'unread' END,
               t.created, t.users
          FROM todo t JOIN budget_units b ON b.code = t.unit_code
         ORDER BY t.event_id, t.risk_rule, t.unit_code
        ON CONFLICT ON CONSTRAINT escalations_once DO NOTHING
        RETURNING e.id, e.event_id, e.risk_rule, e.unit_code, e.office_code, e.reason, e.alert_created_at
    )
    SELECT i.id, i.event_id, i.risk_rule, i.unit_code, b.name, i.office_code, o.duty_email, i.reason, i.alert_created_at
      FROM ins i JOIN budget_units b ON b.code = i.unit_code JOIN offices o ON o.code = i.office_code
     ORDER BY i.id;
END;
$$;

-- A user's activation status as the staff pages show it: the newest code's
-- (used, pending while live, else none); the printable list reads it per user.
CREATE FUNCTION alertd_activation_state(p_user bigint) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT CASE WHEN a.used_at IS NOT NULL THEN 'used'
                                 WHEN a.voided_at IS NULL AND a.expires_at > now() THEN 'pending' ELSE 'none' END
                       FROM activation_codes a WHERE a.user_id = p_user ORDER BY a.id DESC LIMIT 1), 'none')
$$;

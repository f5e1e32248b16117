-- 0024_notices.sql -- security notices with two-person approval (issue 14).
--
-- A notice ("change your DVCTT password every 42 days") is written by one
-- staff member (operator or admin) and approved by another who holds the
-- approver permission in the same or a parent office, after giving their
-- password and a TOTP code again. What the approver approves is exactly
-- what the author wrote: the text and the target are immutable from the
-- INSERT on (a trigger refuses any change), and their SHA-256 is stored
-- and written into both audit rows.
--
-- Once approved and due (send_at: now, the next office-hours window, or a
-- chosen time), one instance materialises it in bounded chunks
-- (alertd_notice_send_chunk): one alert per targeted user (kind 'notice',
-- never muted), one push_outbox row per active device in the 'notice' lane
-- (0021: claimed after every risk and balance alert), and one mail_outbox
-- 'fallback' row per address for users with no reachable device. The
-- progress (the last user id done) is stored on the notice in the same
-- transaction as the chunk, so a crash resumes where it stopped; a unique
-- key on alerts (notice_id, user_id) makes a repeated chunk insert nothing.
--
-- Applied by the alertd migration runner inside its transaction.

-- The permission to approve notices (`alertd staff approver LOGIN on|off`).
ALTER TABLE staff ADD COLUMN approver boolean NOT NULL DEFAULT false;

CREATE TABLE notices (
    id                bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- the root of the targeted subtree, within the author's scope
    office_code       text        NOT NULL REFERENCES offices (code),
    author_id         bigint      NOT NULL REFERENCES staff (id),
    author            text        NOT NULL,
    template          text        CONSTRAINT notices_template CHECK (template ~ '^[a-z][a-z0-9_]{0,31}$'),
    title_vi          text        NOT NULL CONSTRAINT notices_title_vi CHECK (length(title_vi) BETWEEN 1 AND 200),
    body_vi           text        NOT NULL CONSTRAINT notices_body_vi CHECK (length(body_vi) BETWEEN 1 AND 4000),
    title_en          text        CONSTRAINT notices_title_en CHECK (length(title_en) BETWEEN 1 AND 200),
    body_en           text        CONSTRAINT notices_body_en CHECK (length(body_en) BETWEEN 1 AND 4000),
    -- the target: every active user of an active unit of the subtree, narrowed
    -- by the unit codes (empty: all), the roles (empty: all) and to units not
    -- protected (coverage_units, as of its last refresh)
    target_units      text[]      NOT NULL DEFAULT '{}'
                                  CONSTRAINT notices_target_units CHECK (cardinality(target_units) <= 1000),
    target_roles      user_role[] NOT NULL DEFAULT '{}',
    only_unprotected  boolean     NOT NULL DEFAULT false,
    send_mode         text        NOT NULL
                                  CONSTRAINT notices_send_mode CHECK (send_mode IN ('office_hours', 'immediate', 'at')),
    send_after        timestamptz,
    -- SHA-256 of the canonical text and target (set by the insert trigger)
    text_sha256       text        NOT NULL DEFAULT '',
    state             text        NOT NULL DEFAULT 'pending_approval'
                                  CONSTRAINT notices_state
                                  CHECK (state IN ('pending_approval', 'approved', 'sending', 'sent', 'withdrawn')),
    approved_by_id    bigint      REFERENCES staff (id),
    approved_by       text,
    approved_at       timestamptz,
    send_at           timestamptz,
    withdrawn_at      timestamptz,
    -- delivery: the last user id materialised, and what was written
    progress_user_id  bigint      NOT NULL DEFAULT 0,
    users_done        bigint      NOT NULL DEFAULT 0,
    pushes_written    bigint      NOT NULL DEFAULT 0,
    mails_written     bigint      NOT NULL DEFAULT 0,
    started_at        timestamptz,
    finished_at       timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT notices_en_pair CHECK ((title_en IS NULL) = (body_en IS NULL)),
    CONSTRAINT notices_send_after CHECK ((send_mode = 'at') = (send_after IS NOT NULL)),
    -- two persons, in the schema too
    CONSTRAINT notices_two_persons CHECK (approved_by_id IS DISTINCT FROM author_id),
    CONSTRAINT notices_approved CHECK ((state IN ('approved', 'sending', 'sent'))
                                       = (approved_at IS NOT NULL AND approved_by_id IS NOT NULL AND send_at IS NOT NULL)),
    CONSTRAINT notices_withdrawn CHECK ((state = 'withdrawn') = (withdrawn_at IS NOT NULL))
);
-- the staff list (scoped by office, newest first) and the delivery tick
CREATE INDEX notices_office_idx ON notices (office_code, id DESC);
CREATE INDEX notices_due_idx ON notices (send_at, id) WHERE state IN ('approved', 'sending');

-- The canonical text and target whose SHA-256 both audit rows carry: jsonb
-- text has its keys in a fixed order, so the same notice always hashes the same.
CREATE FUNCTION alertd_notice_hash(n notices) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(convert_to(jsonb_build_object(
        'office', n.office_code, 'title_vi', n.title_vi, 'body_vi', n.body_vi, 'title_en', n.title_en,
        'body_en', n.body_en, 'units', to_jsonb(n.target_units), 'roles', to_jsonb(n.target_roles),
        'only_unprotected', n.only_unprotected, 'send_mode', n.send_mode, 'send_after', n.send_after)::text, 'UTF8')), 'hex')
$$;

CREATE FUNCTION alertd_notices_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.state <> 'pending_approval' THEN
            RAISE EXCEPTION 'a notice starts pending approval' USING ERRCODE = 'check_violation';
        END IF;
        NEW.text_sha256 := alertd_notice_hash(NEW);
        RETURN NEW;
    END IF;
    IF TG_OP IN ('DELETE', 'TRUNCATE') THEN
        RAISE EXCEPTION 'notices are kept: withdraw instead' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (NEW.office_code, NEW.author_id, NEW.author, NEW.template, NEW.title_vi, NEW.body_vi, NEW.title_en, NEW.body_en,
        NEW.target_units, NEW.target_roles, NEW.only_unprotected, NEW.send_mode, NEW.send_after, NEW.text_sha256,
        NEW.created_at)
       IS DISTINCT FROM
       (OLD.office_code, OLD.author_id, OLD.author, OLD.template, OLD.title_vi, OLD.body_vi, OLD.title_en, OLD.body_en,
        OLD.target_units, OLD.target_roles, OLD.only_unprotected, OLD.send_mode, OLD.send_after, OLD.text_sha256,
        OLD.created_at) THEN
        RAISE EXCEPTION 'the text and target of notice % are immutable', OLD.id USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.state <> OLD.state AND NOT (
        (OLD.state = 'pending_approval' AND NEW.state IN ('approved', 'withdrawn'))
        OR (OLD.state = 'approved' AND NEW.state IN ('sending', 'sent'))
        OR (OLD.state = 'sending' AND NEW.state = 'sent')) THEN
        RAISE EXCEPTION 'notice % cannot go from % to %', OLD.id, OLD.state, NEW.state USING ERRCODE = 'check_violation';
    END IF;
    IF OLD.approved_at IS NOT NULL AND (NEW.approved_at, NEW.approved_by_id, NEW.approved_by)
       IS DISTINCT FROM (OLD.approved_at, OLD.approved_by_id, OLD.approved_by) THEN
        RAISE EXCEPTION 'the approval of notice % is immutable', OLD.id USING ERRCODE = 'insufficient_privilege';
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;
CREATE TRIGGER notices_guard BEFORE INSERT OR UPDATE OR DELETE ON notices
    FOR EACH ROW EXECUTE FUNCTION alertd_notices_guard();
CREATE TRIGGER notices_no_truncate BEFORE TRUNCATE ON notices
    FOR EACH STATEMENT EXECUTE FUNCTION alertd_notices_guard();

-- The inbox entry of each recipient: one per user and notice.
ALTER TABLE alerts ADD COLUMN notice_id bigint REFERENCES notices (id);
CREATE UNIQUE INDEX alerts_notice_user_key ON alerts (notice_id, user_id) WHERE notice_id IS NOT NULL;

-- A notice's fallback mail: one per notice and address (several users of a
-- unit without their own address share the unit's contact address).
ALTER TABLE mail_outbox ADD COLUMN notice_id bigint REFERENCES notices (id);
CREATE UNIQUE INDEX mail_outbox_notice_key ON mail_outbox (notice_id, to_addr) WHERE notice_id IS NOT NULL;

-- The next moment within office hours at or after p_at: 07:30-17:00
-- Vietnam time (UTC+7, no daylight saving), Monday to Friday, not on one of
-- p_holidays (notices.holidays). p_at itself when it is inside a window.
CREATE FUNCTION alertd_notice_next_window(p_at timestamptz, p_holidays date[]) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    local  timestamp := (p_at AT TIME ZONE 'UTC') + interval '7 hours';
    d      date := local::date;
    t      time := local::time;
BEGIN
    FOR i IN 0..400 LOOP
        IF extract(isodow FROM d) < 6 AND NOT (d = ANY (coalesce(p_holidays, '{}'))) THEN
            IF i > 0 OR t < time '07:30' THEN
                RETURN ((d + time '07:30') - interval '7 hours') AT TIME ZONE 'UTC';
            ELSIF t < time '17:00' THEN
                RETURN p_at;
            END IF;
        END IF;
        d := d + 1;
    END LOOP;
    RAISE EXCEPTION 'no working day in the next 400 days: check notices.holidays';
END;
$$;

-- Everyone a target reaches: active users of active units of p_office's
-- subtree, narrowed by unit codes, roles and to units not protected.
CREATE FUNCTION alertd_notice_recipients(p_office text, p_units text[], p_roles user_role[], p_only_unprotected boolean)
RETURNS TABLE (user_id bigint, unit_code text, office_code text)
LANGUAGE sql STABLE AS $$
    SELECT u.id, u.unit_code, b.office_code
      FROM users u JOIN budget_units b ON b.code = u.unit_code
     WHERE u.active AND b.active
       AND b.office_code IN (SELECT alertd_office_subtree(p_office))
       AND (cardinality(p_units) = 0 OR u.unit_code = ANY (p_units))
       AND (cardinality(p_roles) = 0
            OR EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = ANY (p_roles)))
       AND (NOT p_only_unprotected
            OR NOT EXISTS (SELECT 1 FROM coverage_units c WHERE c.unit_code = u.unit_code AND c.status = 'protected'))
$$;

-- A device a notice is pushed to: what the fan-out pushes to (active, its
-- access token not lapsed), with a push token.
CREATE FUNCTION alertd_notice_pushable(d devices) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT d.state = 'active' AND d.push_token IS NOT NULL
       AND (d.access_token_expires_at IS NULL OR d.access_token_expires_at > now())
$$;

-- A reachable device (docs/coverage.md): pushable and seen within p_active_days.
CREATE FUNCTION alertd_notice_reachable(d devices, p_active_days int) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT alertd_notice_pushable(d) AND d.last_seen_at > now() - make_interval(days => p_active_days)
$$;

-- The fallback mail's text in lang: the notice itself, and a line saying it
-- is in the app too. Never a link that was not in the approved text.
CREATE FUNCTION alertd_notice_mail_subject(n notices, p_lang text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT left(CASE WHEN p_lang = 'en' AND n.title_en IS NOT NULL THEN '[State Treasury] ' || n.title_en
                     ELSE '[Kho bạc Nhà nước] ' || n.title_vi END, 200)
$$;
CREATE FUNCTION alertd_notice_mail_body(n notices, p_lang text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_lang = 'en' AND n.title_en IS NOT NULL
                THEN n.title_en || E'\n\n' || n.body_en || E'\n\n-- \nThis security notice of the State Treasury is also in the'
                     || E' inbox of the KBNN alerts app. The State Treasury never asks for your password or OTP code'
                     || E' by phone or e-mail.\n'
                ELSE n.title_vi || E'\n\n' || n.body_vi || E'\n\n-- \nThông báo bảo mật này của Kho bạc Nhà nước cũng có'
                     || E' trong hộp thư của ứng dụng cảnh báo KBNN. Kho bạc Nhà nước không bao giờ hỏi mật khẩu hay mã'
                     || E' OTP qua điện thoại hoặc e-mail.\n' END
$$;

-- One chunk of the next due notice, in the caller's transaction: the notice
-- row is locked FOR UPDATE SKIP LOCKED, so two instances never work on one
-- notice at once (the other takes the next due one, or nothing). Up to
-- p_chunk recipients after progress_user_id, in user id order: their
-- alerts, push rows and fallback mails, the progress, and 'sent' with an
-- audit row when the last chunk is done. No row when nothing is due.
CREATE FUNCTION alertd_notice_send_chunk(p_chunk int, p_active_days int)
RETURNS TABLE (notice_id bigint, users int, pushes int, mails int, done boolean)
LANGUAGE plpgsql AS $$
DECLARE
    n        notices;
    v_last   bigint;
    v_users  int;
    v_push   int;
    v_mail   int;
BEGIN
    SELECT * INTO n FROM notices x
     WHERE x.state IN ('approved', 'sending') AND x.send_at <= now()
     ORDER BY x.send_at, x.id LIMIT 1 FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    WITH r AS MATERIALIZED (
            SELECT t.user_id, t.unit_code, t.office_code,
                   CASE WHEN p.lang = 'en' AND n.title_en IS NOT NULL THEN 'en' ELSE 'vi' END AS lang
              FROM alertd_notice_recipients(n.office_code, n.target_units, n.target_roles, n.only_unprotected) t
              LEFT JOIN user_preferences p ON p.user_id = t.user_id
             WHERE t.user_id > n.progress_user_id
             ORDER BY t.user_id LIMIT p_chunk),
         a AS (INSERT INTO alerts (user_id, unit_code, office_code, kind, severity, lang, title, body, details, notice_id)
               SELECT r.user_id, r.unit_code, r.office_code, 'notice', 'info', r.lang,
                      CASE r.lang WHEN 'en' THEN n.title_en ELSE n.title_vi END,
                      CASE r.lang WHEN 'en' THEN n.body_en ELSE n.body_vi END,
                      jsonb_build_object('notice_id', n.id), n.id
                 FROM r ORDER BY r.user_id
               ON CONFLICT DO NOTHING
               RETURNING id, user_id, unit_code, office_code, lang),
         o AS (INSERT INTO push_outbox (alert_id, device_id, provider, priority)
               SELECT a.id, d.id, CASE d.platform WHEN 'ios' THEN 'apns' ELSE 'fcm' END, 'notice'
                 FROM a JOIN devices d ON d.user_id = a.user_id AND alertd_notice_pushable(d)
                ORDER BY a.id, d.id
               RETURNING 1),
         m AS (INSERT INTO mail_outbox (purpose, alert_id, user_id, unit_code, office_code, to_kind, to_addr, lang,
                                        subject, body, notice_id)
               SELECT DISTINCT ON (lower(x.addr)) 'fallback', x.id, x.user_id, x.unit_code, x.office_code, x.kind,
                      x.addr, x.lang, alertd_notice_mail_subject(n, x.lang), alertd_notice_mail_body(n, x.lang), n.id
                 FROM (SELECT a.id, a.user_id, a.unit_code, a.office_code, a.lang,
                              CASE WHEN u.email IS NOT NULL THEN 'user' ELSE 'unit_contact' END AS kind,
                              coalesce(u.email, b.contact_email) AS addr
                         FROM a JOIN users u ON u.id = a.user_id JOIN budget_units b ON b.code = a.unit_code
                        WHERE NOT EXISTS (SELECT 1 FROM devices d WHERE d.user_id = a.user_id
                                                                    AND alertd_notice_reachable(d, p_active_days))) x
                WHERE x.addr IS NOT NULL AND length(x.addr) BETWEEN 3 AND 254
                  AND x.addr ~ '^[^@\s<>",;]+@[^@\s<>",;]+$'
                ORDER BY lower(x.addr), x.id
               ON CONFLICT DO NOTHING
               RETURNING 1)
    SELECT (SELECT max(r.user_id) FROM r), (SELECT count(*) FROM r), (SELECT count(*) FROM o), (SELECT count(*) FROM m)
      INTO v_last, v_users, v_push, v_mail;
    UPDATE notices x SET state = CASE WHEN v_users < p_chunk THEN 'sent' ELSE 'sending' END,
                         progress_user_id = coalesce(v_last, x.progress_user_id),
                         users_done = x.users_done + v_users,
                         pushes_written = x.pushes_written + v_push,
                         mails_written = x.mails_written + v_mail,
                         started_at = coalesce(x.started_at, now()),
                         finished_at = CASE WHEN v_users < p_chunk THEN now() END
     WHERE x.id = n.id;
    IF v_users < p_chunk THEN
        INSERT INTO audit_log (actor_kind, action, target, outcome, details)
        VALUES ('system', 'notice.sent', n.id::text, 'ok',
                jsonb_build_object('users', n.users_done + v_users, 'pushes', n.pushes_written + v_push,
                                   'mails', n.mails_written + v_mail, 'text_sha256', n.text_sha256));
    END IF;
    IF v_push > 0 THEN
        PERFORM pg_notify('alertd_outbox', '');
    END IF;
    RETURN QUERY SELECT n.id, v_users, v_push, v_mail, v_users < p_chunk;
END;
$$;

COMMENT ON TABLE notices IS
    'Security notices (issue 14): written by one staff member, approved by another (approver), text immutable, sent in chunks.';

-- What the staff API shows of a notice (no personal data: logins of staff only).
CREATE FUNCTION alertd_notice_json(n notices) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', n.id, 'office', n.office_code, 'office_name', (SELECT o.name FROM offices o WHERE o.code = n.office_code),
        'author', n.author, 'template', n.template, 'title_vi', n.title_vi, 'body_vi', n.body_vi,
        'title_en', n.title_en, 'body_en', n.body_en,
        'target', jsonb_build_object('office', n.office_code, 'units', to_jsonb(n.target_units),
                                     'roles', to_jsonb(n.target_roles), 'only_unprotected', n.only_unprotected),
        'send', jsonb_build_object('mode', n.send_mode, 'at', n.send_after),
        'text_sha256', n.text_sha256, 'state', n.state, 'approved_by', n.approved_by, 'approved_at', n.approved_at,
        'send_at', n.send_at, 'withdrawn_at', n.withdrawn_at, 'started_at', n.started_at,
        'finished_at', n.finished_at, 'created_at', n.created_at)
$$;

-- The reach of a target now: units, users, devices a push goes to, reachable
-- devices, users without a reachable device (the e-mail fallback) and the
-- addresses that fallback would be sent to. Counts only.
CREATE FUNCTION alertd_notice_reach(p_office text, p_units text[], p_roles user_role[], p_only_unprotected boolean,
                                    p_active_days int) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    WITH r AS MATERIALIZED (SELECT * FROM alertd_notice_recipients(p_office, p_units, p_roles, p_only_unprotected)),
         d AS (SELECT r.user_id, count(*) FILTER (WHERE alertd_notice_pushable(dv)) AS pushable,
                      count(*) FILTER (WHERE alertd_notice_reachable(dv, p_active_days)) AS reachable
                 FROM r JOIN devices dv ON dv.user_id = r.user_id GROUP BY r.user_id),
         f AS (SELECT r.user_id, coalesce(u.email, b.contact_email) AS addr
                 FROM r JOIN users u ON u.id = r.user_id JOIN budget_units b ON b.code = r.unit_code
                 LEFT JOIN d ON d.user_id = r.user_id
                WHERE coalesce(d.reachable, 0) = 0)
    SELECT jsonb_build_object(
        'units', (SELECT count(DISTINCT unit_code) FROM r),
        'users', (SELECT count(*) FROM r),
        'devices', (SELECT coalesce(sum(pushable), 0) FROM d),
        'reachable_devices', (SELECT coalesce(sum(reachable), 0) FROM d),
        'users_reachable', (SELECT count(*) FROM d WHERE reachable > 0),
        'users_without_reachable_device', (SELECT count(*) FROM f),
        'users_without_address', (SELECT count(*) FROM f WHERE addr IS NULL),
        'fallback_addresses', (SELECT count(DISTINCT lower(addr)) FROM f WHERE addr IS NOT NULL))
$$;

-- A notice's delivery report: counts, no personal data.
CREATE FUNCTION alertd_notice_report(p_id bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    WITH a AS (SELECT id, read_at FROM alerts WHERE notice_id = p_id),
         o AS (SELECT o.state, o.last_error FROM push_outbox o JOIN a ON a.id = o.alert_id),
         m AS (SELECT state, last_error FROM mail_outbox WHERE notice_id = p_id)
    SELECT jsonb_build_object(
        'notice_id', p_id,
        'state', (SELECT state FROM notices WHERE id = p_id),
        'targeted', (SELECT users_done FROM notices WHERE id = p_id),
        'alerts', (SELECT count(*) FROM a),
        'read', (SELECT count(read_at) FROM a),
        'pushed', (SELECT count(*) FROM o),
        'delivered', (SELECT count(*) FROM o WHERE state = 'sent'),
        'pending', (SELECT count(*) FROM o WHERE state = 'pending'),
        'failed', (SELECT count(*) FROM o WHERE state = 'failed'),
        'failed_by_reason', (SELECT coalesce(jsonb_object_agg(reason, n), '{}')
                               FROM (SELECT coalesce(left(last_error, 64), 'unknown') AS reason, count(*) AS n
                                       FROM o WHERE state = 'failed' GROUP BY 1) x),
        'emailed', (SELECT count(*) FROM m),
        'emailed_by_state', (SELECT coalesce(jsonb_object_agg(state, n), '{}')
                               FROM (SELECT state::text, count(*) AS n FROM m GROUP BY 1) x))
$$;

-- 0022_mail_outbox.sql -- the durable outbox of e-mails (issue 14).
--
-- E-mail is the second channel: the fallback for a risk alert or a notice
-- that no phone of the user can receive, install reminders for units that
-- are not protected, activation instructions, and escalations to a
-- transaction office's duty address. Every mail is a row here, written in
-- the transaction that decides to send it (fan-out, a notice's send, a
-- staff action), and sent later by the mail worker through libcurl's SMTP
-- with the push outbox's design: a claim with a lease, FOR UPDATE SKIP
-- LOCKED, retries with backoff, the outcome recorded on the row. Several
-- instances share the table; nothing lives only in memory.
--
-- The text is rendered when the row is written (subject and plain-text
-- body, UTF-8, in the recipient's language), so the worker only builds the
-- MIME message and sends it, and what was sent is what the row says. A
-- fallback never carries amounts or counterparties (privacy mode): it says
-- "log in to see the details".

CREATE TABLE mail_outbox (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- why this mail exists
    purpose       text NOT NULL
                  CONSTRAINT mail_outbox_purpose CHECK (purpose IN ('fallback', 'reminder', 'instructions', 'escalation')),
    -- whom it is about: the alert it stands in for (fallback), the user and unit
    alert_id      bigint REFERENCES alerts (id) ON DELETE SET NULL,
    user_id       bigint REFERENCES users (id),
    unit_code     text REFERENCES budget_units (code),
    office_code   text REFERENCES offices (code),
    -- where it goes: the user's own address, the unit's contact address when
    -- the user has none, or an office's duty address (escalation)
    to_kind       text NOT NULL
                  CONSTRAINT mail_outbox_to_kind CHECK (to_kind IN ('user', 'unit_contact', 'office_duty')),
    to_addr       text NOT NULL CONSTRAINT mail_outbox_to_addr CHECK (length(to_addr) BETWEEN 3 AND 254 AND to_addr ~ '^[^@\s<>",;]+@[^@\s<>",;]+$'),
    lang          text NOT NULL CONSTRAINT mail_outbox_lang CHECK (lang IN ('vi', 'en')),
    subject       text NOT NULL CONSTRAINT mail_outbox_subject CHECK (length(subject) BETWEEN 1 AND 200),
    -- the plain-text body; or, when it holds a secret (the activation code
    -- of an instructions mail), body_sealed: the body sealed under the
    -- key-encryption key (crypto_secretbox, nonce first), and body NULL.
    -- The worker erases body_sealed once the row is done, so a code is
    -- never kept readable, and never kept at all after it was sent.
    body          text CONSTRAINT mail_outbox_body CHECK (length(body) BETWEEN 1 AND 20000),
    body_sealed   bytea CONSTRAINT mail_outbox_body_sealed CHECK (length(body_sealed) BETWEEN 41 AND 40000),
    -- true when a staff member sent it by hand (reminders: the weekly limit
    -- applies only to the automatic ones); created_by is the staff login or
    -- NULL for the system
    manual        boolean NOT NULL DEFAULT false,
    created_by    text,
    state         outbox_state NOT NULL DEFAULT 'pending',
    due_at        timestamptz NOT NULL DEFAULT now(),
    leased_until  timestamptz,
    leased_by     text,
    attempts      int NOT NULL DEFAULT 0,
    last_error    text,
    sent_at       timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT mail_outbox_lease CHECK ((leased_until IS NULL) = (leased_by IS NULL)),
    CONSTRAINT mail_outbox_sent CHECK ((state = 'sent') = (sent_at IS NOT NULL)),
    CONSTRAINT mail_outbox_one_body CHECK (body IS NULL OR body_sealed IS NULL),
    CONSTRAINT mail_outbox_has_body CHECK (state <> 'pending' OR body IS NOT NULL OR body_sealed IS NOT NULL)
);

-- the claim: due pending rows in order
CREATE INDEX mail_outbox_claim_idx ON mail_outbox (due_at, id) WHERE state = 'pending';
-- delivery outcomes per unit (the staff unit page) and the reminder limits
CREATE INDEX mail_outbox_unit_idx ON mail_outbox (unit_code, created_at);
CREATE INDEX mail_outbox_user_idx ON mail_outbox (user_id, purpose, created_at);
-- one fallback per alert and address
CREATE UNIQUE INDEX mail_outbox_fallback_key ON mail_outbox (alert_id, to_addr) WHERE purpose = 'fallback';
-- retention (rows that are done)
CREATE INDEX mail_outbox_done_idx ON mail_outbox (updated_at) WHERE state <> 'pending';

CREATE TRIGGER mail_outbox_updated_at BEFORE UPDATE ON mail_outbox
    FOR EACH ROW EXECUTE FUNCTION alertd_set_updated_at();

COMMENT ON TABLE mail_outbox IS
    'E-mails to send (issue 14): fallback, reminders, instructions, escalations; claimed with a lease like push_outbox.';

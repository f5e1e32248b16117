-- 0015_admin_key_scopes.sql -- admin API keys become office-scoped and
-- action-scoped, and a staff role change ends the account's sessions.
--
-- A key may touch only the subtree of its office (alertd_office_in_scope,
-- 0013) and only the routes of its actions:
--   roster     POST /v1/admin/roster
--   activation POST /v1/admin/users/{login}/activation-code
--   read       GET  /v1/admin/events/unrouted and the staff read API
--
-- Keys that exist when this runs keep what they could do before: the
-- central office (the one office of level 1) and every action, so running
-- integrations keep working across the upgrade; each gets an audit row
-- saying so, and docs/operator-guide.md asks operators to re-issue
-- narrower keys and revoke these. When there is no single central office
-- (no roster imported yet, or several roots) there is nothing sound to
-- scope a live key to, and it is revoked (audited): `alertd admin-key add`
-- issues a new one once the roster is loaded.
--
-- Applied by the alertd migration runner inside its transaction.

ALTER TABLE admin_api_keys
    ADD COLUMN office_code text REFERENCES offices (code),
    ADD COLUMN actions     text[] NOT NULL DEFAULT '{}'
                           CONSTRAINT admin_api_keys_actions_known
                           CHECK (actions <@ ARRAY['roster', 'activation', 'read']::text[]
                                  AND array_position(actions, NULL) IS NULL);

WITH central AS (
    SELECT min(code) AS code FROM offices WHERE level = 1 HAVING count(*) = 1
), k AS (
    UPDATE admin_api_keys SET office_code = central.code, actions = ARRAY['roster', 'activation', 'read']
      FROM central
     WHERE revoked_at IS NULL
    RETURNING name, office_code
)
INSERT INTO audit_log (actor_kind, action, target, outcome, details)
SELECT 'system', 'admin_key.scope', name, 'ok',
       jsonb_build_object('office', office_code, 'actions', ARRAY['roster', 'activation', 'read'],
                          'reason', 'migration 0015: a key issued before scopes keeps the central office and'
                                    ' every action; re-issue a narrower key')
  FROM k;

WITH k AS (
    UPDATE admin_api_keys SET revoked_at = now()
     WHERE revoked_at IS NULL AND office_code IS NULL
    RETURNING name
)
INSERT INTO audit_log (actor_kind, action, target, outcome, details)
SELECT 'system', 'admin_key.revoke', name, 'ok',
       jsonb_build_object('reason', 'migration 0015: no single central office to scope a key issued before scopes to')
  FROM k;

-- A live key always has an office and at least one action.
ALTER TABLE admin_api_keys
    ADD CONSTRAINT admin_api_keys_live_scoped
    CHECK (revoked_at IS NOT NULL OR (office_code IS NOT NULL AND cardinality(actions) > 0));

-- A role change (PUT /v1/staff/accounts/{login}/role, `alertd staff role`) ends the account's sessions.
ALTER TABLE staff_sessions DROP CONSTRAINT staff_sessions_ended_reason;
ALTER TABLE staff_sessions
    ADD CONSTRAINT staff_sessions_ended_reason
    CHECK (ended_reason IN ('logout', 'deactivated', 'reset', 'password_changed', 'inactive', 'locked', 'renewed',
                            'role_changed'));

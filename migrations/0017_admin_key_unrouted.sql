-- 0017_admin_key_unrouted.sql -- the admin-key action "read" is split in two:
--   unrouted  GET /v1/admin/events/unrouted (what "read" meant before 0015)
--   read      the staff read API: coverage, unit detail with its people's
--             names and phone numbers, risk alerts (personal data)
--
-- Why: 0015 gave every key issued before scopes the action "read", and with
-- it the new nationwide personal-data reads, which no such key was issued
-- for. A key that 0015 scoped (its system audit row says so) keeps roster,
-- activation and unrouted, and loses read; a key issued since with read
-- keeps read and gains unrouted, which read granted until now. Each change
-- is audited.
--
-- Applied by the alertd migration runner inside its transaction.

ALTER TABLE admin_api_keys DROP CONSTRAINT admin_api_keys_actions_known;
ALTER TABLE admin_api_keys
    ADD CONSTRAINT admin_api_keys_actions_known
    CHECK (actions <@ ARRAY['roster', 'activation', 'unrouted', 'read']::text[]
           AND array_position(actions, NULL) IS NULL);

WITH legacy AS (
    SELECT DISTINCT target AS name FROM audit_log
     WHERE actor_kind = 'system' AND action = 'admin_key.scope'
       AND details->>'reason' LIKE 'migration 0015:%'
), k AS (
    UPDATE admin_api_keys a
       SET actions = ARRAY(SELECT t.x FROM unnest(ARRAY['roster', 'activation', 'unrouted', 'read'])
                                        WITH ORDINALITY AS t(x, i)
                            WHERE (t.x = ANY (a.actions) OR t.x = 'unrouted')
                              AND NOT (t.x = 'read' AND a.name IN (SELECT name FROM legacy))
                            ORDER BY t.i)
     WHERE 'read' = ANY (a.actions) AND a.revoked_at IS NULL
    RETURNING a.name, a.actions, a.name IN (SELECT name FROM legacy) AS was_legacy
)
INSERT INTO audit_log (actor_kind, action, target, outcome, details)
SELECT 'system', 'admin_key.scope', name, 'ok',
       jsonb_build_object('actions', actions,
                          'reason', CASE WHEN was_legacy
                                         THEN 'migration 0017: a key issued before scopes keeps unrouted events and'
                                              ' loses the staff read API (personal data); issue a key with read for it'
                                         ELSE 'migration 0017: read is split; this key keeps read and gets unrouted' END)
  FROM k;

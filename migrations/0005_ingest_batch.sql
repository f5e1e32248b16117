-- 0005_ingest_batch.sql - store a group-commit batch of validated ledger
-- events in one set-based statement.
--
-- alertd's ingest writer gathers the events of many concurrent requests and
-- hands them over as one jsonb array, so a whole batch costs one round trip
-- and one commit (one WAL flush) instead of one per event. Validation has
-- already happened in C; this function only decides, per event, whether it
-- is new (accepted), a harmless re-delivery (duplicate: same source, same id,
-- same canonical content) or a conflicting re-use of an id (conflict), and
-- writes event_keys and events together.
--
-- Input elements: {"s": source_id, "x": external id, "t": type,
-- "o": occurred_at (RFC 3339), "u": unit_code, "f": office_code or null,
-- "p": the event object, "h": hex SHA-256 of its canonical form}.
-- The caller must not put the same (s, x) twice in one array (alertd sends
-- repeats in a later call). Output: one row per element, ordered by idx
-- (0-based input position):
--   accepted  - stored now; event_id is the new id; routed tells whether the
--               unit is known and active in the roster (unknown units are
--               stored all the same, with routed_at NULL);
--   duplicate - already stored with the same content; event_id is its id;
--   conflict  - already stored with other content; event_id is its id;
--   retry     - a concurrent transaction stored the key after this
--               statement's snapshot was taken: ask again.

CREATE FUNCTION alertd_ingest_batch(p_events jsonb)
RETURNS TABLE (idx int, status text, event_id bigint, routed boolean)
LANGUAGE sql AS $$
WITH input AS (
    SELECT (r.ord - 1)::int AS idx, r.s, r.x, r.t, r.o, r.u, r.f, r.p, decode(r.h, 'hex') AS h,
           nextval(pg_get_serial_sequence('events', 'id')) AS new_id
      FROM ROWS FROM (jsonb_to_recordset(p_events)
           AS (s bigint, x text, t text, o timestamptz, u text, f text, p jsonb, h text))
           WITH ORDINALITY AS r(s, x, t, o, u, f, p, h, ord)
), keys AS (
    INSERT INTO event_keys (source_id, external_id, event_id, occurred_at, content_sha256)
    SELECT s, x, new_id, o, h FROM input ORDER BY idx
    ON CONFLICT (source_id, external_id) DO NOTHING
    RETURNING event_keys.event_id
), stored AS (
    INSERT INTO events (id, source_id, external_id, type, occurred_at, unit_code, office_code,
                        payload, content_sha256, routed_at)
    OVERRIDING SYSTEM VALUE
    SELECT i.new_id, i.s, i.x, i.t, i.o, i.u, i.f, i.p, i.h,
           CASE WHEN EXISTS (SELECT 1 FROM budget_units b WHERE b.code = i.u AND b.active) THEN now() END
      FROM input i JOIN keys k ON k.event_id = i.new_id
    RETURNING events.id, events.routed_at IS NOT NULL AS routed
)
SELECT i.idx,
       CASE WHEN s.id IS NOT NULL THEN 'accepted'
            WHEN old.content_sha256 IS NULL THEN 'retry'
            WHEN old.content_sha256 = i.h THEN 'duplicate'
            ELSE 'conflict' END,
       COALESCE(s.id, old.event_id),
       s.routed
  FROM input i
  LEFT JOIN stored s ON s.id = i.new_id
  LEFT JOIN event_keys old ON s.id IS NULL AND old.source_id = i.s AND old.external_id = i.x
 ORDER BY i.idx
$$;

COMMENT ON FUNCTION alertd_ingest_batch(jsonb) IS
    'Group-commit insert of validated events; per element: accepted | duplicate | conflict | retry. See 0005_ingest_batch.sql.';

-- 0009_source_scopes.sql - each ingest source may write events only for the
-- units of the offices it is scoped to (docs/ingest.md §2).
--
-- A source's scope is a set of offices, each covering its whole subtree
-- (offices.parent_code). Where an event belongs is decided by the roster:
--   - a unit in the roster (active or not) belongs to its roster office;
--     the event's own office_code is not consulted;
--   - a unit not in the roster belongs to the office_code the event names,
--     if that office is in the roster;
--   - otherwise (unknown unit, and no or an unknown office_code) it belongs
--     nowhere, and only a scope containing a central office (level 1)
--     covers it.
-- An event that belongs to an office is covered when the scope holds that
-- office or one above it: the walk up the tree reaches the root, so a source
-- scoped to the real root covers every unit under it, while a second root
-- (the roster import makes every office without a parent level 1) covers
-- only its own subtree. Offices that are not active (offices.active) in the
-- scope count for nothing; `alertd source add/scope` refuses them.
--
-- Fail closed: a source without any scope row (every source created before
-- this migration) can write nothing until `alertd source scope NAME
-- --office CODE...` gives it one. Events already stored are not re-judged.
--
-- alertd_ingest_batch() is replaced: an element out of its source's scope
-- gets the status out_of_scope, touches neither event_keys nor events, and
-- is audited: one audit_log row per source and batch statement, with the
-- number of refused events and at most 20 of their ids, unit codes and
-- request ids (no payload), so a leaked secret sending out-of-scope events
-- costs one audit row per group commit, not one per event; the metric still
-- counts each event (ingest.c). The check runs in the same function, so in
-- the ingest transaction, against the roster and the scopes as committed
-- once the batch holds its sources' rows FOR SHARE (below): a scope or
-- roster change applies from the next group commit on, with no cache to go
-- stale, and a scope change cannot commit between the check and the batch's
-- COMMIT.
--
-- The history behind the risk rules (fanout.c) is now looked up per source:
-- the indexes of 0007 are replaced by the same ones led by source_id.
--
-- Applied by the alertd migration runner inside its transaction.

CREATE TABLE ingest_source_offices (
    source_id    bigint      NOT NULL REFERENCES ingest_sources (id),
    office_code  text        NOT NULL REFERENCES offices (code),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source_id, office_code)
);

COMMENT ON TABLE ingest_source_offices IS
    'The offices (with their subtrees) an ingest source may write events for; none = nothing. See 0009_source_scopes.sql.';

-- Does source p_source cover an event for unit p_unit that names office
-- p_office (NULL: none)? The rules are in the header above.
CREATE FUNCTION alertd_source_covers(p_source bigint, p_unit text, p_office text)
RETURNS boolean
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE home(code) AS (
        SELECT b.office_code FROM budget_units b WHERE b.code = p_unit
        UNION ALL
        SELECT p_office WHERE p_office IS NOT NULL
                          AND NOT EXISTS (SELECT 1 FROM budget_units b WHERE b.code = p_unit)
    ), up(code, parent, depth) AS (
        SELECT o.code, o.parent_code, 1 FROM offices o JOIN home ON o.code = home.code
        UNION ALL
        -- levels are 1..3, so three steps reach the top; the bound only guards the recursion
        SELECT o.code, o.parent_code, up.depth + 1 FROM up JOIN offices o ON o.code = up.parent WHERE up.depth < 3
    )
    SELECT CASE WHEN EXISTS (SELECT 1 FROM home JOIN offices o ON o.code = home.code)
           THEN EXISTS (SELECT 1 FROM up JOIN ingest_source_offices s
                                        ON s.source_id = p_source AND s.office_code = up.code
                                      JOIN offices o ON o.code = s.office_code AND o.active)
           -- belongs nowhere: only a central office in the scope covers it
           ELSE EXISTS (SELECT 1 FROM ingest_source_offices s JOIN offices o ON o.code = s.office_code
                         WHERE s.source_id = p_source AND o.level = 1 AND o.active)
           END
$$;

-- As in 0005_ingest_batch.sql, with the scope check. Input elements carry
-- two more members for the audit row: "q" the request id, "a" the client
-- address (either may be absent). Output status: accepted | duplicate |
-- conflict | retry (as before) | out_of_scope (not stored; event_id and
-- routed NULL). The scope is computed once per distinct (source, unit,
-- office) of the array.
--
-- The first statement locks the rows of the batch's sources FOR SHARE until
-- the ingest transaction ends (after fan-out, at COMMIT). `alertd source
-- scope` (and add, rotate, revoke) lock the row FOR UPDATE, so a scope change
-- waits for the batches judged under the old scope to commit, and a batch
-- waits for a scope change in progress. FOR SHARE does not conflict with
-- FOR SHARE: writers storing events for the same source do not wait for each
-- other. The function is VOLATILE, so in READ COMMITTED the second statement
-- takes a new snapshot after the lock and sees the scope as committed then.
CREATE OR REPLACE FUNCTION alertd_ingest_batch(p_events jsonb)
RETURNS TABLE (idx int, status text, event_id bigint, routed boolean)
LANGUAGE sql VOLATILE AS $$
SELECT 1 FROM ingest_sources
 WHERE id IN (SELECT DISTINCT (e ->> 's')::bigint FROM jsonb_array_elements(p_events) e)
 ORDER BY id FOR SHARE;
WITH parsed AS (
    SELECT (r.ord - 1)::int AS idx, r.s, r.x, r.t, r.o, r.u, r.f, r.p, decode(r.h, 'hex') AS h, r.q, r.a
      FROM ROWS FROM (jsonb_to_recordset(p_events)
           AS (s bigint, x text, t text, o timestamptz, u text, f text, p jsonb, h text, q text, a text))
           WITH ORDINALITY AS r(s, x, t, o, u, f, p, h, q, a, ord)
), scope AS (
    SELECT d.s, d.u, d.f, alertd_source_covers(d.s, d.u, d.f) AS ok
      FROM (SELECT DISTINCT s, u, f FROM parsed) d
), input AS (
    SELECT p.idx, p.s, p.x, p.t, p.o, p.u, p.f, p.p, p.h, p.q, p.a, sc.ok AS in_scope,
           CASE WHEN sc.ok THEN nextval(pg_get_serial_sequence('events', 'id')) END AS new_id
      FROM parsed p JOIN scope sc ON sc.s = p.s AND sc.u = p.u AND sc.f IS NOT DISTINCT FROM p.f
), denied AS (
    -- one row per source and statement, however many of its events were refused
    INSERT INTO audit_log (actor_kind, actor_id, action, target, outcome, ip, request_id, details)
    SELECT 'ingest', src.name, 'ingest.out_of_scope', CASE WHEN d.n_units = 1 THEN d.units[1] END, 'denied', d.ip, d.q,
           jsonb_strip_nulls(jsonb_build_object('source', src.name, 'events', d.n, 'ids', to_jsonb(d.ids[1:20]),
                                                'unit_codes', to_jsonb(d.units[1:20]),
                                                'request_ids', to_jsonb(d.qs[1:20]),
                                                'truncated', CASE WHEN d.n > 20 OR d.n_units > 20
                                                                   OR cardinality(d.qs) > 20 THEN true END))
      FROM (SELECT i.s, count(*) AS n, count(DISTINCT i.u) AS n_units,
                   (array_agg(i.a ORDER BY i.idx))[1] AS ip, (array_agg(i.q ORDER BY i.idx))[1] AS q,
                   array_agg(i.x ORDER BY i.idx) AS ids, array_agg(DISTINCT i.u ORDER BY i.u) AS units,
                   COALESCE(array_agg(DISTINCT i.q ORDER BY i.q) FILTER (WHERE i.q IS NOT NULL), '{}') AS qs
              FROM input i WHERE NOT i.in_scope GROUP BY i.s) d
      JOIN ingest_sources src ON src.id = d.s
     ORDER BY d.s
    RETURNING 1
), keys AS (
    INSERT INTO event_keys (source_id, external_id, event_id, occurred_at, content_sha256)
    SELECT s, x, new_id, o, h FROM input WHERE in_scope ORDER BY idx
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
       CASE WHEN NOT i.in_scope THEN 'out_of_scope'
            WHEN s.id IS NOT NULL THEN 'accepted'
            WHEN old.content_sha256 IS NULL THEN 'retry'
            WHEN old.content_sha256 = i.h THEN 'duplicate'
            ELSE 'conflict' END,
       COALESCE(s.id, old.event_id),
       s.routed
  FROM input i
  LEFT JOIN stored s ON s.id = i.new_id
  LEFT JOIN event_keys old ON i.in_scope AND s.id IS NULL AND old.source_id = i.s AND old.external_id = i.x
 ORDER BY i.idx
$$;

COMMENT ON FUNCTION alertd_ingest_batch(jsonb) IS
    'Group-commit insert of validated events; per element: accepted | duplicate | conflict | retry | out_of_scope. '
    'See 0005_ingest_batch.sql and 0009_source_scopes.sql.';

-- History of the same source (fanout.c load_history).
CREATE INDEX events_source_voucher_number_idx
    ON events (source_id, unit_code, ((payload -> 'data' -> 'voucher' ->> 'number')), id)
    WHERE type = 'voucher.status_changed';
CREATE INDEX events_source_voucher_beneficiary_idx
    ON events (source_id, unit_code, ((payload -> 'data' -> 'voucher' -> 'beneficiary' ->> 'account')), occurred_at)
    WHERE type = 'voucher.status_changed';
DROP INDEX events_voucher_number_idx;
DROP INDEX events_voucher_beneficiary_idx;

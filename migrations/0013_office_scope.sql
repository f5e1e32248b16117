-- 0013_office_scope.sql -- the one rule for "which offices may this caller
-- see": an office's scope is its whole subtree (central -> regional treasury
-- -> transaction office). Staff reads, exports and scoped admin keys all
-- filter through these two functions, so the rule cannot drift between
-- queries.
--
-- Applied by the alertd migration runner inside its transaction.

-- Is p_office inside the subtree rooted at p_root? The tree has three
-- levels (0001 enforces parent = one level up), so walking two parents up
-- is the whole check. NULL or unknown offices are outside every scope.
CREATE FUNCTION alertd_office_in_scope(p_root text, p_office text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1
          FROM offices o
          LEFT JOIN offices p ON p.code = o.parent_code
         WHERE o.code = p_office
           AND p_root IN (o.code, o.parent_code, p.parent_code))
$$;

-- Every office of the subtree rooted at p_root (p_root included; empty when
-- p_root is unknown), for "office_code IN (SELECT alertd_office_subtree($1))".
CREATE FUNCTION alertd_office_subtree(p_root text) RETURNS SETOF text
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE t(code) AS (
        SELECT code FROM offices WHERE code = p_root
        UNION ALL
        SELECT o.code FROM offices o JOIN t ON o.parent_code = t.code)
    SELECT code FROM t
$$;

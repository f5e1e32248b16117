-- 0018_coverage_unit_moves.sql -- a unit moved to another office (a roster
-- import changing budget_units.office_code) moves in coverage_units at once,
-- in the same transaction, instead of at the next coverage refresh.
--
-- Why: the staff units list is scoped by coverage_units.office_code. Until
-- the next refresh (coverage.refresh_seconds) a moved unit, with the names
-- and phone numbers of its people, stayed visible to its old office and
-- hidden from its new one. Checking budget_units' office in the list query
-- instead costs a join per candidate row (20x slower at national scale);
-- keeping the two in step costs one row update per move.
--
-- The office figures (coverage_offices, coverage_daily) name no person and
-- catch up at the next refresh, as before.
--
-- Applied by the alertd migration runner inside its transaction.

CREATE FUNCTION alertd_coverage_unit_moved() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE coverage_units SET office_code = NEW.office_code WHERE unit_code = NEW.code;
    RETURN NULL;
END
$$;

CREATE TRIGGER budget_units_moved_coverage
    AFTER UPDATE OF office_code ON budget_units
    FOR EACH ROW WHEN (OLD.office_code IS DISTINCT FROM NEW.office_code)
    EXECUTE FUNCTION alertd_coverage_unit_moved();

-- units moved before this migration, since the last refresh
UPDATE coverage_units c SET office_code = b.office_code
  FROM budget_units b
 WHERE b.code = c.unit_code AND c.office_code IS DISTINCT FROM b.office_code;

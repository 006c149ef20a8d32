-- Sluice schema, part 2: events and raw payloads are immutable, enforced by the database itself so
-- that no code path (ours, an operator's psql session, a buggy migration) can rewrite history.
-- Row triggers catch UPDATE and DELETE; TRUNCATE bypasses row triggers, so it gets a statement trigger.

CREATE FUNCTION sluice_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'sluice: % on % is not allowed: events and raw payloads are immutable', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER events_immutable BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION sluice_reject_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION sluice_reject_change();
CREATE TRIGGER raw_payloads_immutable BEFORE UPDATE OR DELETE ON raw_payloads
  FOR EACH ROW EXECUTE FUNCTION sluice_reject_change();
CREATE TRIGGER raw_payloads_no_truncate BEFORE TRUNCATE ON raw_payloads
  FOR EACH STATEMENT EXECUTE FUNCTION sluice_reject_change();

-- Sluice schema, part 7: the opt-in retention of raw payloads (`pruneRaw`, the runner's
-- `retention.raw`). Raw payloads stay immutable: UPDATE and TRUNCATE are refused as before, and so
-- is a DELETE, except in a transaction that set `sluice.prune_raw` to 'on' for itself
-- (`set_config('sluice.prune_raw', 'on', true)`), which only the store's retention does. Events
-- keep 0002's trigger unchanged: they are never deleted.
CREATE FUNCTION sluice_reject_raw_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('sluice.prune_raw', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'sluice: % on % is not allowed: events and raw payloads are immutable (raw payloads are deleted only by their retention policy)', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation';
END
$$;

DROP TRIGGER raw_payloads_immutable ON raw_payloads;
CREATE TRIGGER raw_payloads_immutable BEFORE UPDATE OR DELETE ON raw_payloads
  FOR EACH ROW EXECUTE FUNCTION sluice_reject_raw_change();

-- Sluice schema, part 4: what catch-up subscriptions need to read the log without skipping events.
--
-- A position alone is not a safe place to resume from: positions come from a sequence, taken when a
-- row is inserted, so a transaction that took position 10 can commit after one that took 11, and a
-- reader that has passed 11 never sees 10. So each event records the id of the transaction that wrote
-- it, and a reader takes only events of transactions below the oldest one still running
-- (pg_snapshot_xmin(pg_current_snapshot())): those are all finished, so nothing can appear among
-- them any more. It reads in (transaction_id, position) order and resumes after a (transaction_id,
-- position) pair, never after a position alone.
--
-- Events written before this migration get transaction id 0: before every new one, in position order
-- among themselves. A constant default makes ADD COLUMN a catalog change: no table rewrite, and no
-- UPDATE for the immutability triggers of 0002 to refuse.
ALTER TABLE events ADD COLUMN transaction_id xid8 NOT NULL DEFAULT '0';
ALTER TABLE events ALTER COLUMN transaction_id SET DEFAULT pg_current_xact_id();

-- The subscription read walks this index from the checkpoint on:
--   Limit -> Index Scan using events_transaction_position on events
--            Index Cond: ((ROW(transaction_id, "position") > ROW($1, $2)) AND (transaction_id < pg_snapshot_xmin(pg_current_snapshot())))
CREATE INDEX events_transaction_position ON events (transaction_id, position);

-- One row per named subscriber: the last (transaction_id, position) it has handled. A projection
-- updates it in the same transaction as its read model, so the two never disagree.
CREATE TABLE subscription_checkpoints (
  name           text PRIMARY KEY,
  transaction_id xid8        NOT NULL,
  position       bigint      NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Readers order events by transaction id, so a stream's events must take increasing transaction ids
-- as their revisions increase. A transaction that took its id early and appends to a stream after a
-- later-id transaction did (it waited for the stream's row lock, or simply ran long) would put
-- revision n+1 before revision n in the log's order. Each stream records the transaction that last
-- appended to it; an append from an earlier transaction is refused with serialization_failure, which
-- means "run the transaction again" (a new transaction takes a new, later id). The store does so
-- itself when the append is its own transaction. Streams appended before this migration get 0.
ALTER TABLE streams ADD COLUMN transaction_id xid8 NOT NULL DEFAULT '0';
ALTER TABLE streams ALTER COLUMN transaction_id SET DEFAULT pg_current_xact_id();

CREATE FUNCTION sluice_stream_in_transaction_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.transaction_id > pg_current_xact_id() THEN
    RAISE EXCEPTION 'sluice: stream %/% was appended to by a later transaction; run the transaction again',
      OLD.entity_type, OLD.entity_id
      USING ERRCODE = 'serialization_failure';
  END IF;
  NEW.transaction_id := pg_current_xact_id();
  RETURN NEW;
END
$$;

CREATE TRIGGER streams_in_transaction_order BEFORE UPDATE ON streams
  FOR EACH ROW EXECUTE FUNCTION sluice_stream_in_transaction_order();

-- Sluice schema, part 1: the three tables and the indexes the store's queries need.
-- The migrator runs this with search_path set to the target schema, so names are unqualified.
-- No foreign keys on purpose: they cost 20-25% on single-event ingest (measured), and the store
-- writes raw payload, events and outbox rows in one statement, so the references cannot dangle.

-- Exactly what a source returned, kept for audit. Never rewritten (see 0002).
CREATE TABLE raw_payloads (
  raw_id          uuid PRIMARY KEY,
  source          text        NOT NULL,
  content_type    text        NOT NULL,
  body            text        NOT NULL,
  request         jsonb       NOT NULL,
  received_at     timestamptz NOT NULL,
  trace_id        text        NOT NULL,
  content_hash    text        NOT NULL,
  transform_error text
);

-- The immutable event log. event_id is the identity (UUIDv7, or UUIDv5 of a natural key so that a
-- re-fetched quote is a duplicate); position is the global append order that replays follow.
CREATE TABLE events (
  event_id       uuid PRIMARY KEY,
  position       bigint GENERATED ALWAYS AS IDENTITY,
  event_type     text        NOT NULL,
  entity_type    text        NOT NULL,
  entity_id      text        NOT NULL,
  trace_id       text        NOT NULL,
  schema_version integer     NOT NULL,
  occurred_at    timestamptz NOT NULL,
  recorded_at    timestamptz NOT NULL DEFAULT now(),
  payload        jsonb       NOT NULL,
  raw_id         uuid
);
CREATE UNIQUE INDEX events_position ON events (position);

-- One row per (event, route): the delivery state machine of Outbox.ts.
-- fillfactor leaves room on each page so that the claim's lease update (no indexed column changes)
-- can be a HOT update, which writes no index entries.
CREATE TABLE outbox (
  outbox_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id         uuid        NOT NULL,
  route            text        NOT NULL,
  topic            text        NOT NULL,
  ordering_key     text,
  status           text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts         integer     NOT NULL DEFAULT 0,
  replays          integer     NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  lease_owner      text,
  lease_token      uuid,
  lease_expires_at timestamptz,
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  delivered_at     timestamptz
) WITH (fillfactor = 85, autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);

-- The claim query walks this index in (next_attempt_at, outbox_id) order. It holds pending rows
-- only, so its size follows the backlog, not the millions of delivered rows kept for audit:
--   Limit -> LockRows -> Index Scan using outbox_claim on outbox
--            Index Cond: (next_attempt_at <= now())
CREATE INDEX outbox_claim ON outbox (next_attempt_at, outbox_id) WHERE status = 'pending';

-- Ordered routes: "is an earlier row of this (route, ordering_key) still pending?" is one probe here.
CREATE INDEX outbox_ordering ON outbox (route, ordering_key, outbox_id)
  WHERE status = 'pending' AND ordering_key IS NOT NULL;

-- Dead letters are listed and replayed by operators; few rows, so a tiny index.
CREATE INDEX outbox_dead ON outbox (outbox_id) WHERE status = 'dead';

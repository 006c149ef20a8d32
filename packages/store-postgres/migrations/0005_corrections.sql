-- Sluice schema, part 5: corrections of restated source data, and re-derivation's bookkeeping.
--
-- An event id must never mean two payloads. When an append brings an id that is stored with other
-- content than that id's latest version, the store appends a correction: a new event under a new id
-- whose `supersedes` names the version it replaces, and whose `key_id` is the id the batch gave it
-- (the first version's id: the natural key's UUIDv5). Same content is a duplicate, as before.
--
-- Nothing to backfill: every event stored before this migration is its key's first version, and
-- its id is that key's id, so a re-fetch of identical content is still a duplicate and a changed one
-- a correction. Both columns are null on every other event; ADD COLUMN without a default changes the
-- catalog only (no rewrite, no UPDATE for 0002's immutability trigger to refuse).
ALTER TABLE events ADD COLUMN supersedes uuid;
ALTER TABLE events ADD COLUMN key_id uuid;

-- A version is superseded at most once: two appends correcting the same version concurrently cannot
-- fork the key. The loser fails on this index and runs again, now correcting the winner's version
-- (or finding it a duplicate). Partial, like the next one: only corrections have entries, so the
-- ingest path's inserts add none.
CREATE UNIQUE INDEX events_supersedes ON events (supersedes) WHERE supersedes IS NOT NULL;

-- A key's latest version: its newest correction, else the event stored under its id.
CREATE INDEX events_key ON events (key_id, position) WHERE key_id IS NOT NULL;

-- Raw payloads whose transform_error a re-derivation (`sluice rederive`) has resolved: the payload
-- now transforms without issue and its events are stored. raw_payloads stays immutable, and its
-- transform_error says what failed at the time: the audit keeps both.
CREATE TABLE transform_resolutions (
  raw_id      uuid PRIMARY KEY,
  resolved_at timestamptz NOT NULL DEFAULT now(),
  -- The trace id of the re-derivation that resolved it.
  trace_id    text        NOT NULL
);

-- DO NOT EDIT: the schema that migrations/*.sql build, read from the catalog of a migrated schema
-- (`node packages/store-postgres/scripts/build-migrations.ts`); test/schema.test.ts checks it is current.
-- Names are unqualified: the migrator creates everything in the schema it is given (default sluice).

CREATE TABLE events (
  event_id uuid NOT NULL,
  "position" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
  event_type text NOT NULL,
  entity_type text NOT NULL,
  entity_id text NOT NULL,
  trace_id text NOT NULL,
  schema_version integer NOT NULL,
  occurred_at timestamp with time zone NOT NULL,
  recorded_at timestamp with time zone NOT NULL DEFAULT now(),
  payload jsonb NOT NULL,
  raw_id uuid,
  revision bigint NOT NULL,
  transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
  supersedes uuid,
  key_id uuid,
  CONSTRAINT events_pkey PRIMARY KEY (event_id),
  CONSTRAINT events_revision_check CHECK ((revision >= 0))
);

CREATE TABLE outbox (
  outbox_id bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
  event_id uuid NOT NULL,
  route text NOT NULL,
  topic text NOT NULL,
  ordering_key text,
  status text NOT NULL DEFAULT 'pending'::text,
  attempts integer NOT NULL DEFAULT 0,
  replays integer NOT NULL DEFAULT 0,
  next_attempt_at timestamp with time zone NOT NULL DEFAULT now(),
  lease_owner text,
  lease_token uuid,
  lease_expires_at timestamp with time zone,
  last_error text,
  created_at timestamp with time zone NOT NULL DEFAULT now(),
  delivered_at timestamp with time zone,
  CONSTRAINT outbox_pkey PRIMARY KEY (outbox_id),
  CONSTRAINT outbox_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'delivered'::text, 'dead'::text])))
) WITH (fillfactor=85, autovacuum_vacuum_scale_factor=0.02, autovacuum_analyze_scale_factor=0.02);

CREATE TABLE raw_payloads (
  raw_id uuid NOT NULL,
  source text NOT NULL,
  content_type text NOT NULL,
  body text NOT NULL,
  request jsonb NOT NULL,
  received_at timestamp with time zone NOT NULL,
  trace_id text NOT NULL,
  content_hash text NOT NULL,
  transform_error text,
  CONSTRAINT raw_payloads_pkey PRIMARY KEY (raw_id)
);

CREATE TABLE route_pauses (
  route text NOT NULL,
  paused_at timestamp with time zone NOT NULL DEFAULT now(),
  reason text,
  CONSTRAINT route_pauses_pkey PRIMARY KEY (route)
);

CREATE TABLE sluice_migrations (
  id integer NOT NULL,
  name text NOT NULL,
  checksum text NOT NULL,
  applied_at timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT sluice_migrations_pkey PRIMARY KEY (id)
);

CREATE TABLE streams (
  entity_type text NOT NULL,
  entity_id text NOT NULL,
  revision bigint NOT NULL,
  transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
  CONSTRAINT streams_pkey PRIMARY KEY (entity_type, entity_id),
  CONSTRAINT streams_revision_check CHECK ((revision >= 0))
) WITH (fillfactor=70);

CREATE TABLE subscription_checkpoints (
  name text NOT NULL,
  transaction_id xid8 NOT NULL,
  "position" bigint NOT NULL,
  updated_at timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT subscription_checkpoints_pkey PRIMARY KEY (name)
);

CREATE TABLE transform_resolutions (
  raw_id uuid NOT NULL,
  resolved_at timestamp with time zone NOT NULL DEFAULT now(),
  trace_id text NOT NULL,
  CONSTRAINT transform_resolutions_pkey PRIMARY KEY (raw_id)
);

CREATE INDEX events_key ON events USING btree (key_id, "position") WHERE (key_id IS NOT NULL);
CREATE UNIQUE INDEX events_pkey ON events USING btree (event_id);
CREATE UNIQUE INDEX events_position ON events USING btree ("position");
CREATE UNIQUE INDEX events_stream ON events USING btree (entity_type, entity_id, revision);
CREATE UNIQUE INDEX events_supersedes ON events USING btree (supersedes) WHERE (supersedes IS NOT NULL);
CREATE INDEX events_transaction_position ON events USING btree (transaction_id, "position");
CREATE INDEX outbox_claim ON outbox USING btree (next_attempt_at, outbox_id) WHERE (status = 'pending'::text);
CREATE INDEX outbox_dead ON outbox USING btree (outbox_id) WHERE (status = 'dead'::text);
CREATE INDEX outbox_ordering ON outbox USING btree (route, ordering_key, outbox_id) WHERE ((status = 'pending'::text) AND (ordering_key IS NOT NULL));
CREATE UNIQUE INDEX outbox_pkey ON outbox USING btree (outbox_id);
CREATE UNIQUE INDEX raw_payloads_pkey ON raw_payloads USING btree (raw_id);
CREATE UNIQUE INDEX route_pauses_pkey ON route_pauses USING btree (route);
CREATE UNIQUE INDEX sluice_migrations_pkey ON sluice_migrations USING btree (id);
CREATE UNIQUE INDEX streams_pkey ON streams USING btree (entity_type, entity_id);
CREATE UNIQUE INDEX subscription_checkpoints_pkey ON subscription_checkpoints USING btree (name);
CREATE UNIQUE INDEX transform_resolutions_pkey ON transform_resolutions USING btree (raw_id);

CREATE OR REPLACE FUNCTION sluice_reject_change()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
  RAISE EXCEPTION 'sluice: % on % is not allowed: events and raw payloads are immutable', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation';
END
$function$;

CREATE OR REPLACE FUNCTION sluice_reject_raw_change()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('sluice.prune_raw', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'sluice: % on % is not allowed: events and raw payloads are immutable (raw payloads are deleted only by their retention policy)', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation';
END
$function$;

CREATE OR REPLACE FUNCTION sluice_stream_in_transaction_order()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
  IF OLD.transaction_id > pg_current_xact_id() THEN
    RAISE EXCEPTION 'sluice: stream %/% was appended to by a later transaction; run the transaction again',
      OLD.entity_type, OLD.entity_id
      USING ERRCODE = 'serialization_failure';
  END IF;
  NEW.transaction_id := pg_current_xact_id();
  RETURN NEW;
END
$function$;

CREATE TRIGGER events_immutable BEFORE DELETE OR UPDATE ON events FOR EACH ROW EXECUTE FUNCTION sluice_reject_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events FOR EACH STATEMENT EXECUTE FUNCTION sluice_reject_change();
CREATE TRIGGER raw_payloads_immutable BEFORE DELETE OR UPDATE ON raw_payloads FOR EACH ROW EXECUTE FUNCTION sluice_reject_raw_change();
CREATE TRIGGER raw_payloads_no_truncate BEFORE TRUNCATE ON raw_payloads FOR EACH STATEMENT EXECUTE FUNCTION sluice_reject_change();
CREATE TRIGGER streams_in_transaction_order BEFORE UPDATE ON streams FOR EACH ROW EXECUTE FUNCTION sluice_stream_in_transaction_order();

/**
 * The raw-SQL reference: the statements the store sends, as static text run straight through the
 * driver (postgres.js `unsafe`, PGlite `query`) with no Sluice or Effect code in the way; like the
 * store, claim and complete go unprepared (planned with their parameters). Tables are
 * unqualified: the reference's connections put the bench schema on their search_path.
 */
import type { AppendBatch } from "@sluice/core"
import * as Append from "../src/Append.ts"

/** What the reference needs from a driver: one statement with positional parameters. */
export type Query = (
  text: string,
  params: ReadonlyArray<unknown>,
  options?: { readonly prepare: boolean }
) => Promise<ReadonlyArray<Record<string, unknown>>>

// The store's append statements (Append.ts) with unqualified table names: their text is built by the
// store's code, once, so it cannot drift from what the store sends; running them involves none.
const appendStatements = Append.statements({
  raw: "raw_payloads",
  events: "events",
  outbox: "outbox",
  streams: "streams",
  routePauses: "route_pauses"
}).withRaw

// The lease-based claim as the store sent it before it trimmed its columns (every outbox column, the
// payload as jsonb, all decoded by the driver): kept as is, the fixed reference the relay's drain
// target is stated against, so the drain rows' ratio can exceed 1.
const CLAIM = `
WITH claimed AS (
  UPDATE outbox o
  SET lease_owner = $3, lease_token = gen_random_uuid(), lease_expires_at = now() + $4 * interval '1 millisecond'
  FROM events e
  WHERE e.event_id = o.event_id AND o.outbox_id = ANY(ARRAY(
    SELECT c.outbox_id FROM outbox c
    WHERE c.status = 'pending' AND c.next_attempt_at <= now()
      AND (c.lease_expires_at IS NULL OR c.lease_expires_at <= now())
      AND ($1::text[] IS NULL OR c.route = ANY($1::text[]))
      AND (c.ordering_key IS NULL OR NOT EXISTS (
        SELECT 1 FROM outbox p
        WHERE p.status = 'pending' AND p.ordering_key IS NOT NULL
          AND p.route = c.route AND p.ordering_key = c.ordering_key AND p.outbox_id < c.outbox_id))
    ORDER BY c.next_attempt_at, c.outbox_id
    LIMIT $2
    FOR UPDATE SKIP LOCKED))
  RETURNING o.*, e.event_type, e.entity_id, e.entity_type, e.trace_id, e.schema_version, e.occurred_at, e.payload
)
SELECT o.outbox_id::text AS outbox_id, o.event_id::text AS event_id, o.route, o.topic, o.status,
  o.attempts, o.next_attempt_at, o.lease_owner, o.lease_token::text AS lease_token, o.lease_expires_at,
  o.last_error, o.ordering_key, o.replays, o.created_at, o.delivered_at,
  o.event_type, o.entity_id, o.entity_type, o.trace_id, o.schema_version, o.occurred_at, o.payload,
  (SELECT set_config('synchronous_commit', 'off', true)) AS commit_mode
FROM claimed o
ORDER BY o.next_attempt_at, o.outbox_id`

const COMPLETE = `
WITH delivered AS (
  UPDATE outbox o
  SET status = 'delivered', attempts = o.attempts + 1, delivered_at = now(),
      lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
  WHERE o.outbox_id = ANY($1::bigint[])
    AND (o.outbox_id::text || '/' || o.lease_token::text) = ANY($2::text[])
    AND o.status = 'pending' AND o.lease_expires_at > now()
  RETURNING o.outbox_id, o.ordering_key IS NOT NULL AS frees
),
released AS (
  UPDATE outbox o
  SET lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
  WHERE o.outbox_id = ANY($3::bigint[])
    AND (o.outbox_id::text || '/' || o.lease_token::text) = ANY($4::text[])
    AND o.status = 'pending' AND o.lease_expires_at > now()
  RETURNING o.outbox_id, true AS frees
),
failed AS (
  UPDATE outbox o
  SET status = CASE i.kind WHEN 'dead' THEN 'dead' ELSE 'pending' END, attempts = o.attempts + 1,
      next_attempt_at = CASE i.kind WHEN 'retry' THEN now() + i.delay_ms * interval '1 millisecond' ELSE o.next_attempt_at END,
      last_error = i.error,
      lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
  FROM unnest($5::bigint[], $6::uuid[], $7::text[], $8::text[], $9::bigint[]) AS i(outbox_id, token, kind, error, delay_ms)
  WHERE o.outbox_id = ANY($5::bigint[]) AND o.outbox_id = i.outbox_id
    AND o.lease_token = i.token AND o.status = 'pending' AND o.lease_expires_at > now()
  RETURNING o.outbox_id, i.kind = 'retry' OR o.ordering_key IS NOT NULL AS frees
)
SELECT outbox_id::text AS outbox_id, frees FROM delivered
UNION ALL SELECT outbox_id::text, frees FROM released
UNION ALL SELECT outbox_id::text, frees FROM failed`

/**
 * Appends one batch with one statement (the store's variant for one event or many). Its values come
 * from the statement's own parameter readers, which only pick fields (as a hand-written list would),
 * so they cannot drift from its text.
 */
export const append = async (query: Query, batch: AppendBatch) => {
  const statement = appendStatements[batch.events.length === 1 ? "one" : "many"]
  const params = statement.params({ raw: batch.raw, unique: batch.events, outbox: batch.outbox })
  // Runs it again after the races the store runs it again after (AppendRaces.retryingRaces), as often.
  for (let retries = 3; ; retries--) {
    try {
      return await query(statement.text, params)
    } catch (error) {
      if (retries === 0 || !isRace(error)) throw error
    }
  }
}

/** The errors AppendRaces.isConcurrentDuplicate and AppendRaces.isStreamOutOfOrder name, as postgres.js or PGlite throw them. */
const isRace = (error: unknown): boolean => {
  const { code, constraint_name, constraint, message } = error as Record<string, string | undefined>
  return (
    (code === "40001" && /appended to by a later transaction/.test(message ?? "")) ||
    (code === "23505" && /events_pkey|events_supersedes/.test(`${constraint_name ?? constraint} ${message}`))
  )
}

/** Claims up to `limit` rows of `route` for 30 s. */
export const claim = (query: Query, route: string, limit: number, owner: string) =>
  query(CLAIM, [[route], limit, owner, 30_000], { prepare: false })

/** Marks claimed rows delivered. */
export const completeDelivered = (query: Query, rows: ReadonlyArray<Record<string, unknown>>) =>
  query(
    COMPLETE,
    [rows.map((r) => r.outbox_id), rows.map((r) => `${r.outbox_id}/${r.lease_token}`), [], [], [], [], [], [], []],
    { prepare: false }
  )

/** Delivers everything claimable (a no-op publish unless `onPublish` publishes); returns rows delivered. */
export const drainOnce = async (
  query: Query,
  route: string,
  limit: number,
  owner: string,
  onPublish?: (rows: ReadonlyArray<Record<string, unknown>>) => void | Promise<void>
) => {
  let total = 0
  while (true) {
    const rows = await claim(query, route, limit, owner)
    if (rows.length === 0) return total
    // Awaited only when it publishes asynchronously (a real broker): the no-op path stays as it was.
    const publishing = onPublish?.(rows)
    if (publishing !== undefined) await publishing
    await completeDelivered(query, rows)
    total += rows.length
  }
}

/**
 * The NOTIFY that tells relays in other processes there is work, as the store sends it after an
 * append with outbox rows commits (Wakeup.ts): at most one per `window` ms on average with a
 * burst of `burst`, signals in between covered by one trailing NOTIFY, none awaited, each its own
 * statement with an asynchronous commit. A reference that writes outbox rows and wakes no relay
 * does less than the store guarantees (relays learn of work at once, not at their next poll).
 */
export const notifier = (query: Query, channel: string, window = 4, burst = 4) => {
  const text = "SELECT pg_notify($1, $2), set_config('synchronous_commit', 'off', true)"
  let tokens = burst
  let refilledAt = performance.now()
  let trailing = false
  const send = () => {
    query(text, [channel, "raw:3"]).catch(() => {})
  }
  return () => {
    if (trailing) return
    const now = performance.now()
    tokens = Math.min(burst, tokens + (now - refilledAt) / window)
    refilledAt = now
    if (tokens >= 1) {
      tokens -= 1
      send()
      return
    }
    trailing = true
    setTimeout(
      () => {
        trailing = false
        const at = performance.now()
        tokens = Math.max(0, Math.min(burst, tokens + (at - refilledAt) / window) - 1)
        refilledAt = at
        send()
      },
      (1 - tokens) * window
    )
  }
}

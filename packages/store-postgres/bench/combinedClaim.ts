/**
 * Lever 2 of issue 16, on the raw reference (no Sluice code): a drain whose worker records the
 * previous batch's deliveries and claims the next batch in ONE statement, against the same claim
 * and completion as two statements (as the relay sends them). Data-modifying CTEs of one statement
 * share its snapshot, so the claim cannot see the rows the same statement records: it skips them
 * as leased (their lease is unexpired), and an ordered route's next row waits one batch more. One
 * statement that records results must commit synchronously, so the combined claim gives up the
 * claim's asynchronous commit (OutboxSql.claim).
 */
import { dropPg, migratePg, rawPg, schemaName } from "./harness.ts"
import * as Raw from "./rawSql.ts"
import { prefill, WARM } from "./scenarios.ts"

const CLAIM_CORE = (asyncCommit: boolean) => `
claimed AS (
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
  RETURNING o.outbox_id, o.event_id, o.route, o.topic, o.attempts, o.next_attempt_at, o.lease_token,
            o.lease_expires_at, o.last_error, o.ordering_key, o.replays, o.created_at,
            e.event_type, e.entity_id, e.entity_type, e.trace_id, e.schema_version, e.occurred_at, e.payload
)
SELECT o.outbox_id::text AS outbox_id, o.event_id::text AS event_id, o.route, o.topic, o.attempts,
       o.next_attempt_at, o.lease_token::text AS lease_token, o.lease_expires_at, o.last_error,
       o.ordering_key, o.replays, o.created_at, o.event_type, o.entity_id, o.entity_type, o.trace_id,
       o.schema_version, o.occurred_at, o.payload::text AS payload,
       (SELECT count(*) FROM delivered)::int AS recorded${asyncCommit ? ", (SELECT set_config('synchronous_commit', 'off', true)) AS commit_mode" : ""}
FROM claimed o
ORDER BY o.next_attempt_at, o.outbox_id`

const DELIVERED = `
delivered AS (
  UPDATE outbox o
  SET status = 'delivered', attempts = o.attempts + 1, delivered_at = now(),
      lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
  WHERE o.outbox_id = ANY($5::bigint[])
    AND (o.outbox_id::text || '/' || o.lease_token::text) = ANY($6::text[])
    AND o.status = 'pending' AND o.lease_expires_at > now()
  RETURNING o.outbox_id
)`
// Records the previous batch ($5, $6) and claims the next.
const COMBINED = `WITH ${DELIVERED},${CLAIM_CORE(false)}`
// The same claim alone (its `delivered` a no-op), committed asynchronously as the store's is.
const SPLIT_CLAIM = `WITH delivered AS (SELECT 1 WHERE $5::bigint[] IS NULL AND $6::text[] IS NULL), ${CLAIM_CORE(true)}`

/** Rows per second draining `rows` rows with `workers` workers claiming `batch`, in two statements or one. */
export const drainCombined = async (mode: "split" | "combined", rows: number, batch: number, workers: number) => {
  const schema = schemaName("combined")
  await migratePg(schema)
  try {
    await prefill("postgres", schema, rows)
    const { sql, query } = rawPg(schema, workers)
    await Promise.all(Array.from({ length: workers }, () => sql.unsafe(WARM)))
    const start = performance.now()
    const counts = await Promise.all(
      Array.from({ length: workers }, async (_, n) => {
        let total = 0
        let prev: ReadonlyArray<Record<string, unknown>> = []
        while (true) {
          let got: ReadonlyArray<Record<string, unknown>>
          if (mode === "split") {
            got = await query(SPLIT_CLAIM, [["bench"], batch, `w${n}`, 30_000, null, null], { prepare: false })
          } else {
            got = await query(
              COMBINED,
              [
                ["bench"],
                batch,
                `w${n}`,
                30_000,
                prev.map((r) => r.outbox_id),
                prev.map((r) => `${r.outbox_id}/${r.lease_token}`)
              ],
              { prepare: false }
            )
          }
          if (got.length === 0) {
            // The statement that found nothing recorded the last batch.
            if (mode === "combined") total += prev.length
            return total
          }
          if (mode === "split") {
            await Raw.completeDelivered(query, got)
            total += got.length
          } else {
            total += prev.length
            prev = got
          }
        }
      })
    )
    const rate = rows / ((performance.now() - start) / 1000)
    const n = (await sql<Array<{ n: number }>>`SELECT count(*)::int AS n FROM outbox WHERE status = 'delivered'`)[0]!.n
    await sql.end()
    const sum = counts.reduce((a, b) => a + b, 0)
    if (n !== rows || sum !== rows) throw new Error(`${mode}: ${n} of ${rows} rows delivered, ${sum} counted`)
    return rate
  } finally {
    await dropPg(schema)
  }
}

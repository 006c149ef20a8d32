/**
 * Chaos harness: the recorder of what the database committed: every event with its outbox row
 * (status, attempts, last error), in position order. It is read after the scenario, so it holds
 * exactly the transactions that committed, whatever the writers believed.
 */
import type { CommittedRow } from "./checker.ts"
import { SCHEMA } from "./fleet.ts"
import { sleep } from "./random.ts"

export type Query = <A extends object = Record<string, unknown>>(text: string) => Promise<ReadonlyArray<A>>

export const readCommitted = async (query: Query): Promise<ReadonlyArray<CommittedRow>> => {
  const rows = await query<{
    event_id: string
    entity_id: string
    position: number
    status: CommittedRow["status"]
    attempts: number | null
    last_error: string | null
  }>(`SELECT e.event_id::text, e.entity_id, e.position::int AS position, o.status, o.attempts, o.last_error
      FROM ${SCHEMA}.events e LEFT JOIN ${SCHEMA}.outbox o USING (event_id) ORDER BY e.position`)
  return rows.map((r) => ({ ...r, attempts: r.attempts ?? 0 }))
}

export const pendingCount = async (query: Query): Promise<number> =>
  Number(
    (await query<{ n: number }>(`SELECT count(*)::int AS n FROM ${SCHEMA}.outbox WHERE status = 'pending'`))[0]?.n ?? 0
  )

/**
 * Waits (bounded) until no outbox row is pending: the fleet has delivered or dead-lettered all it
 * will. Returns false on timeout; the checker then reports the rows left as lost.
 */
export const awaitQuiescence = async (query: Query, timeoutMs: number): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const pending = await pendingCount(query).catch(() => -1)
    if (pending === 0) return true
    await sleep(200)
  }
  return false
}

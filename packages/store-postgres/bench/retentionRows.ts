/** The retention rows of `pnpm bench` (retention.ts's scenarios), in a database of their own. */
import { withPrivateDatabase } from "./harness.ts"
import { childGroup, isolated, measure, n, only, type Row, runs, selected } from "./measure.ts"
import { addHistory, checkpoint, pruneHistory, pruneUnderLoad } from "./retention.ts"
import { drain, withSchema } from "./scenarios.ts"

/** The retention rows (retention.ts), in a database of their own. */
export const retentionRows = async () => {
  const history = n(1_000_000)
  const freshRows = n(50_000)
  const rows = async () => {
    for (const batch of [500, 100]) {
      const drainWith = (label: string, setup: (schema: string) => Promise<unknown>) =>
        measure(
          `retention: relay drain ${freshRows} rows, batch ${batch}, 1 worker, ${history} delivered rows of history, ${label} (reference: empty outbox)`,
          "postgres",
          (s) =>
            drain("postgres", "sluice", freshRows, batch, 1, async (schema) => {
              if (s === "sluice") await setup(schema)
              await checkpoint(schema)
            })
        )
      await drainWith("no retention", (schema) => addHistory(schema, history))
      await drainWith("after prune (batches of 1000, VACUUM)", async (schema) => {
        await addHistory(schema, history)
        await pruneHistory(schema, 1000, true)
      })
      await drainWith("after prune without VACUUM", async (schema) => {
        await addHistory(schema, history)
        await pruneHistory(schema, 1000, false)
      })
    }
    await measurePruneUnderLoad(history)
  }
  // Only the parent makes the database (when a retention row is selected); a child runs in the
  // one its parent made.
  if (childGroup !== undefined) await rows()
  else if (
    only.length === 0 ||
    only.some((s) => "postgres retention: relay drain prune".includes(s) || s.includes("retention"))
  )
    await withPrivateDatabase("bench_retention", rows)
}

/**
 * The prune of `history` rows while the relay drains (retention.ts pruneUnderLoad), `runs` times:
 * its time, the relay's claim latency while it ran against before it, and the lock-wait samples.
 */
export const measurePruneUnderLoad = async (history: number) => {
  const name = (what: string) =>
    `retention: prune ${history} delivered rows (batches of 1000, VACUUM) while the relay drains: ${what}`
  const names = [
    name("time"),
    name("relay claim p50 (reference: before the prune)"),
    name("relay claim p99 (reference: before the prune)"),
    name("pg_locks samples with a lock wait")
  ]
  if (!names.some((row) => selected("postgres", row))) return
  await isolated(async () => {
    const results = []
    for (let i = 0; i < runs; i++)
      results.push(await withSchema("postgres", "prune_load", (schema) => pruneUnderLoad(schema, history, 1000)))
    for (const r of results)
      console.error(
        `  prune under load: ${Math.round(r.pruneMs)} ms, claim p50 ${r.before.p50.toFixed(1)} -> ${r.during.p50.toFixed(1)} ms, p99 ${r.before.p99.toFixed(1)} -> ${r.during.p99.toFixed(1)} ms, lock waits in ${r.lockWaitSamples} of ${r.samples} samples`
      )
    return [
      { driver: "postgres", name: names[0]!, unit: "ms", sluice: results.map((r) => r.pruneMs) },
      {
        driver: "postgres",
        name: names[1]!,
        unit: "ms",
        sluice: results.map((r) => r.during.p50),
        raw: results.map((r) => r.before.p50)
      },
      {
        driver: "postgres",
        name: names[2]!,
        unit: "ms",
        sluice: results.map((r) => r.during.p99),
        raw: results.map((r) => r.before.p99)
      },
      {
        driver: "postgres",
        name: names[3]!,
        unit: "samples",
        sluice: results.map((r) => r.lockWaitSamples),
        raw: results.map((r) => r.samples)
      }
    ] satisfies ReadonlyArray<Row>
  })
}

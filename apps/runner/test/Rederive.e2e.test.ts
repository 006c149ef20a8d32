/**
 * End to end: `sluice rederive` on an embedded store seeded with a raw payload that failed to
 * transform when it was ingested (an old transformer bug): a dry run counts without keeping, a real
 * run appends its events and resolves the payload, a third finds only duplicates. Unknown sources
 * and bad times are usage errors (exit 2) naming the flag.
 */
import { join } from "node:path"
import type { RawPayloadId, TraceId } from "@sluice/core"
import { EventStore } from "@sluice/core"
import { PgEventStore } from "@sluice/store-postgres"
import { DateTime, Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import type { SluiceConfigInput } from "../src/Config.ts"
import { counterPlugin, removeTempDirs, writeConfig } from "./support/config.ts"
import { envWithout, runToEnd } from "./support/sluice.ts"

afterAll(removeTempDirs)

const config: SluiceConfigInput = {
  store: { driver: "embedded", dataDir: "data" },
  sources: [{ name: "counter", plugin: counterPlugin, options: { total: 3, perTick: 3, prefix: "re" } }],
  transports: [{ name: "out", plugin: "console" }],
  routes: [{ name: "all", transport: "out", topic: "counter", match: ["counter.*"] }],
  admin: { enabled: false }
}

/** The payload the counter source would fetch first, stored as if its transform had failed. */
const seed = (dataDir: string) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const store = yield* EventStore
      yield* store.append({
        raw: {
          raw_id: "01900000-0000-7000-8000-000000000001" as RawPayloadId,
          source: "counter",
          content_type: "application/json",
          body: JSON.stringify({ from: 0, to: 3 }),
          request: { from: 0, to: 3 },
          received_at: DateTime.makeUnsafe(Date.UTC(2026, 0, 1)),
          trace_id: "4bf92f3577b34da6a3ce929d0e0e4736" as TraceId,
          content_hash: "0".repeat(64),
          transform_error: "an old transformer bug"
        },
        events: [],
        outbox: []
      })
    }).pipe(Effect.provide(PgEventStore.layerPglite({ dataDir })))
  )

const counts = (stdout: string) => {
  const { payloads, events_new, duplicates, fixed, still_failing } = JSON.parse(stdout) as Record<string, number>
  return { payloads, events_new, duplicates, fixed, still_failing }
}

describe("sluice rederive", () => {
  it("re-derives a failed payload: dry run, run, run again", async () => {
    const { dir, file } = writeConfig(config)
    await seed(join(dir, "data"))
    const env = envWithout()
    const rederive = (...extra: Array<string>) =>
      runToEnd(["rederive", "--config", file, "--source", "counter", "--json", ...extra], { cwd: dir, env })

    const dry = await rederive("--dry-run")
    expect(dry.code, dry.stderr).toBe(0)
    expect(counts(dry.stdout)).toEqual({ payloads: 1, events_new: 3, duplicates: 0, fixed: 1, still_failing: 0 })
    const real = await rederive()
    expect(counts(real.stdout)).toEqual({ payloads: 1, events_new: 3, duplicates: 0, fixed: 1, still_failing: 0 })
    const again = await rederive("--since", "2026-01-01")
    expect(counts(again.stdout)).toEqual({ payloads: 1, events_new: 0, duplicates: 3, fixed: 0, still_failing: 0 })
    const later = await rederive("--since", "2026-01-02T00:00:00Z")
    expect(counts(later.stdout).payloads).toBe(0)

    const unknown = await runToEnd(["rederive", "--config", file, "--source", "nope"], { cwd: dir, env })
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('--source: no source named "nope"')
    const badSince = await rederive("--since", "yesterday")
    expect(badSince.code).toBe(2)
    expect(badSince.stderr).toContain('--since: "yesterday" is not a time')
  }, 120_000)
})

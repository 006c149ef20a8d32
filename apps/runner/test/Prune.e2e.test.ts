/**
 * End to end: `sluice prune` on an embedded store seeded with delivered, dead and pending outbox
 * rows and two old raw payloads. A dry run counts and deletes nothing; a run deletes the settled
 * rows, never the pending one, and leaves the raw payloads while one of them has a pending event;
 * once that row is delivered, the raw payloads go too (retention.raw opts in).
 */
import { join } from "node:path"
import type { RawPayloadId, TraceId } from "@sluice/core"
import { Completion, EventStore, OutboxAdmin, OutboxQueue } from "@sluice/core"
import { makeEvent } from "@sluice/core/testing"
import { PgEventStore } from "@sluice/store-postgres"
import { DateTime, Duration, Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import type { SluiceConfigInput } from "../src/Config.ts"
import { removeTempDirs, writeConfig } from "./support/config.ts"
import { envWithout, runToEnd } from "./support/sluice.ts"

afterAll(removeTempDirs)

const config: SluiceConfigInput = {
  store: { driver: "embedded", dataDir: "data" },
  transports: [{ name: "out", plugin: "console" }],
  routes: [{ name: "all", transport: "out", topic: "t", match: ["**"] }],
  admin: { enabled: false },
  retention: { delivered: "1 millis", dead: "1 millis", raw: { olderThan: "1 days" } }
}

const raw = (n: number) => ({
  raw_id: `01900000-0000-7000-8000-00000000000${n}` as RawPayloadId,
  source: "seed",
  content_type: "application/json",
  body: `{"n":${n}}`,
  request: {},
  received_at: DateTime.makeUnsafe(Date.UTC(2026, 0, 1)),
  trace_id: "4bf92f3577b34da6a3ce929d0e0e4736" as TraceId,
  content_hash: "0".repeat(64),
  transform_error: null
})

const onStore = <A, E>(dataDir: string, effect: Effect.Effect<A, E, EventStore | OutboxQueue | OutboxAdmin>) =>
  Effect.runPromise(effect.pipe(Effect.provide(PgEventStore.layerPglite({ dataDir }))))

const lease = Duration.minutes(1)

/** Raw payload 1 with three events (delivered, delivered, dead), raw payload 2 with a pending one. */
const seed = (dataDir: string) =>
  onStore(
    dataDir,
    Effect.gen(function* () {
      const store = yield* EventStore
      const queue = yield* OutboxQueue
      const settled = [makeEvent(), makeEvent(), makeEvent()]
      const row = (event: { readonly event_id: string }) => ({
        event_id: event.event_id as never,
        route: "all",
        topic: "t",
        ordering_key: null
      })
      yield* store.append({ raw: raw(1), events: settled, outbox: settled.map(row) })
      const claimed = yield* queue.claim({ owner: "seed", limit: 10, lease })
      yield* queue.complete(
        claimed.map((c, i) =>
          i < 2
            ? Completion.Delivered({ outboxId: c.entry.outbox_id, token: c.entry.lease!.token })
            : Completion.Dead({ outboxId: c.entry.outbox_id, token: c.entry.lease!.token, error: "x" })
        )
      )
      const pending = makeEvent()
      yield* store.append({ raw: raw(2), events: [pending], outbox: [row(pending)] })
    })
  )

const deliverAll = (dataDir: string) =>
  onStore(
    dataDir,
    Effect.gen(function* () {
      const queue = yield* OutboxQueue
      const claimed = yield* queue.claim({ owner: "seed", limit: 10, lease })
      yield* queue.complete(
        claimed.map((c) => Completion.Delivered({ outboxId: c.entry.outbox_id, token: c.entry.lease!.token }))
      )
    })
  )

describe("sluice prune", () => {
  it("dry run, run (raw payloads refused while an event is pending), run after delivery", async () => {
    const { dir, file } = writeConfig(config)
    const dataDir = join(dir, "data")
    await seed(dataDir)
    const env = envWithout()
    const prune = (...extra: Array<string>) => runToEnd(["prune", "--config", file, ...extra], { cwd: dir, env })

    const dry = await prune("--dry-run")
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stdout).toContain("dry run (nothing deleted): outbox rows would delete: 2 delivered, 1 dead")
    expect(dry.stdout).toContain("raw payloads: none deleted (refusing to delete raw payloads: 1 raw payload(s)")

    const real = await prune("--json")
    expect(real.code, real.stderr).toBe(0)
    const report = JSON.parse(real.stdout) as {
      outbox: { delivered: number; dead: number; dry_run: boolean; by_route: unknown }
      raw: { skipped?: string }
    }
    expect([report.outbox.delivered, report.outbox.dead, report.outbox.dry_run]).toEqual([2, 1, false])
    expect(report.outbox.by_route).toEqual({ all: { delivered: 2, dead: 1 } })
    expect(report.raw.skipped).toContain(raw(2).raw_id)

    const left = await onStore(
      dataDir,
      OutboxAdmin.use((admin) => admin.listOutbox({}))
    )
    expect(left.map((r) => r.status)).toEqual(["pending"])

    await deliverAll(dataDir)
    const after = await prune()
    expect(after.code, after.stderr).toBe(0)
    expect(after.stdout).toContain("raw payloads deleted: 2")
    const events = await onStore(
      dataDir,
      EventStore.use((store) => store.readEvents(0, 10))
    )
    expect(events.length).toBe(4) // events are never deleted
  }, 180_000)
})

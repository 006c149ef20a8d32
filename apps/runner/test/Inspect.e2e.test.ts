/**
 * `sluice events show|tail` and `sluice raw show|list` on PostgreSQL, on the store and through a
 * running process's admin API: the same JSON either way, a failed transform listed with its error,
 * and `events tail --follow` printing events as they commit.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest"
import { counterPlugin, removeTempDirs, writeConfig } from "./support/config.ts"
import { databaseUrl, dropSchema, freshSchema } from "./support/database.ts"
import { adminUrl, eventually, kill, runToEnd, type Sluice, start } from "./support/sluice.ts"

const failingPlugin = new URL("./fixtures/failing-transform-source.ts", import.meta.url).pathname
const env = { ...process.env, DATABASE_URL: databaseUrl }
const cleanup: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const task of cleanup.splice(0).reverse()) await task()
})
afterAll(removeTempDirs)

const started = (args: ReadonlyArray<string>): Sluice => {
  const sluice = start(args, { env })
  cleanup.push(() => kill(sluice))
  return sluice
}

interface Shown {
  readonly position: number
  readonly raw_id: string
  readonly event: { readonly event_id: string; readonly event_type: string; readonly payload: { readonly i: number } }
}

describe("sluice events and raw", () => {
  it("show, tail and follow events; list the raw payloads whose transform failed", async () => {
    const schema = freshSchema()
    cleanup.push(() => dropSchema(schema))
    const { file } = writeConfig({
      store: { driver: "postgres", schema, poolSize: 4 },
      sources: [
        {
          name: "counter",
          plugin: counterPlugin,
          options: { total: 100_000, perTick: 1, prefix: schema },
          schedule: { every: "100 millis" }
        },
        { name: "broken", plugin: failingPlugin, options: {} }
      ],
      admin: { port: 0 },
      logging: { format: "json" }
    })
    const sluice = started(["run", "--config", file])
    const admin = await adminUrl(sluice)
    // Following from now: the events committed from here on, each once, in order.
    const follower = started(["events", "tail", "--follow", "--last", "0", "--json", "--admin", admin])
    const followed = () =>
      follower.stdout.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as Shown)
    await eventually("the follower prints three events", () => followed().length >= 3, 60_000)
    // Every event committed while it follows, once and in order: the counter's numbers run on.
    const seen = followed().map((e) => e.event.payload.i)
    expect(seen).toEqual(seen.map((_, k) => seen[0]! + k))

    const last = await runToEnd(["events", "tail", "--last", "3", "--json", "--type", "counter.*", "--admin", admin], {
      env
    })
    expect(last.code, last.stderr).toBe(0)
    const newest = last.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Shown)
    const numbers = newest.map((e) => e.event.payload.i)
    expect(numbers).toEqual([numbers[0]!, numbers[0]! + 1, numbers[0]! + 2])
    expect(numbers[0]!).toBeGreaterThanOrEqual(seen[0]!)

    const viaAdmin = await runToEnd(["events", "show", newest[2]!.event.event_id, "--admin", admin], { env })
    const onStore = await runToEnd(["events", "show", newest[2]!.event.event_id, "--config", file], { env })
    expect(viaAdmin.code, viaAdmin.stderr).toBe(0)
    expect(JSON.parse(onStore.stdout)).toEqual(JSON.parse(viaAdmin.stdout))
    expect(JSON.parse(onStore.stdout)).toMatchObject({
      position: newest[2]!.position,
      event: { event_type: "counter.ticked" }
    })

    const failed = await runToEnd(["raw", "list", "--failed", "--json", "--admin", admin], { env })
    expect(failed.code, failed.stderr).toBe(0)
    const page = JSON.parse(failed.stdout) as { raw_payloads: Array<Record<string, unknown>>; next_after: null }
    expect(page.raw_payloads.map((r) => [r.source, r.body, r.transform_error])).toEqual([
      ["broken", "not json", 'not JSON: "not json"']
    ])
    const raw = await runToEnd(["raw", "show", String(page.raw_payloads[0]!.raw_id), "--config", file], { env })
    expect(JSON.parse(raw.stdout)).toMatchObject({ source: "broken", content_type: "text/plain", request: { n: 1 } })

    const missing = await runToEnd(["events", "show", "00000000-0000-7000-8000-000000000000", "--admin", admin], {
      env
    })
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain("no event with id 00000000-0000-7000-8000-000000000000")
  }, 120_000)
})

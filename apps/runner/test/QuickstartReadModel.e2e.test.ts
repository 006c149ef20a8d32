/**
 * The offline quickstart builds the Yahoo read model: `sluice run` runs the projection of
 * examples/quickstart-offline.json beside the relay, `/api/status` shows its checkpoint and lag,
 * the data directory's lock refuses a rebuild and a show on the store while the run holds it, a show
 * through its admin API (`--admin`) answers what the store then holds, and once the run has stopped,
 * `projection show` prints the read model's rows and `projection rebuild` replays the log into
 * the same rows (those two in process: one spawned run is enough).
 */
import { readFileSync, writeFileSync } from "node:fs"
import { Effect, Layer, Option } from "effect"
import { TestConsole } from "effect/testing"
import { afterAll, describe, expect, it } from "vitest"
import { isUsageError } from "../src/ExitCode.ts"
import * as ProjectionCommands from "../src/ProjectionCommands.ts"
import type { StatusReport } from "../src/StatusReport.ts"
import { exampleConfig, removeTempDirs, tempDir } from "./support/config.ts"
import { adminUrl, envWithout, eventually, start } from "./support/sluice.ts"

afterAll(removeTempDirs)

const name = "yahoo-read-model"

/** Runs a projection command in process; returns what it printed on stdout. */
const printed = <E>(command: Effect.Effect<void, E>) =>
  Effect.runPromise(
    Effect.gen(function* () {
      yield* command
      return (yield* TestConsole.logLines).map(String)
    }).pipe(Effect.provide(Layer.mergeAll(TestConsole.layer)))
  )

interface Shown {
  readonly subscription: { readonly checkpoint: string | null; readonly lag_events: number }
  readonly tables: ReadonlyArray<{ readonly name: string; readonly rows: ReadonlyArray<Record<string, unknown>> }>
}

/** `projection show` in process, on the store or (`admin`) through a running process's admin API. */
const showLines = (file: string, options: { readonly json: boolean; readonly admin?: string }) =>
  printed(
    ProjectionCommands.show(file, name, Option.none(), {
      json: options.json,
      limit: 100,
      admin: options.admin === undefined ? undefined : { url: options.admin, token: Option.none() }
    })
  )

const show = async (file: string, admin?: string): Promise<Shown> =>
  JSON.parse((await showLines(file, { json: true, ...(admin === undefined ? {} : { admin }) })).join("\n")) as Shown

describe("the offline quickstart's read model", () => {
  it("is built by sluice run, reported by status, shown, and rebuilt to the same rows", async () => {
    const cwd = tempDir("sluice-read-model-")
    const { file } = exampleConfig("quickstart-offline.json", { dir: cwd })
    // Embedded whatever DATABASE_URL says: the in-process commands below read this process's environment.
    const config = JSON.parse(readFileSync(file, "utf8"))
    writeFileSync(file, JSON.stringify({ ...config, store: { ...config.store, driver: "embedded" } }))

    const sluice = start(["run", "--config", file], { cwd, env: envWithout() })
    const url = await adminUrl(sluice, 60_000)
    let report: StatusReport | undefined
    await eventually(
      "the projection caught up with the 10 recorded events",
      async () => {
        report = (await (await fetch(`${url}/api/status`)).json()) as StatusReport
        const projection = report.subscriptions?.find((s) => s.name === name)
        return report.delivered >= 10 && projection?.checkpoint != null && projection.lag_events === 0
      },
      90_000
    )
    expect(report?.subscriptions).toEqual([expect.objectContaining({ name, lag_events: 0, lag_capped: false })])

    // A rebuild beside the running process is refused by the data directory's lock.
    const refused = await Effect.runPromise(Effect.flip(ProjectionCommands.rebuild(file, name, Option.none())))
    expect(refused.message).toMatch(/is in use by pid \d+ \(sluice run\b.*Stop it first/)
    // So is a show on the store, which names --admin; through the admin API the running process answers.
    const locked = await Effect.runPromise(
      Effect.flip(ProjectionCommands.show(file, name, Option.none(), { json: true, limit: 100 }))
    )
    expect(locked.message).toContain(`ask the running process: sluice `)
    expect(locked.message).toContain(`--admin ${url}`)
    const viaAdmin = await show(file, url)
    const viaAdminText = await showLines(file, { json: false, admin: url })
    // An unknown name is the usage error (exit 2) the config file gives, naming where it looked.
    const unknown = await Effect.runPromise(
      Effect.flip(
        ProjectionCommands.show(file, "nope", Option.none(), {
          json: false,
          limit: 5,
          admin: { url, token: Option.none() }
        })
      )
    )
    expect(isUsageError(unknown)).toBe(true)
    expect(unknown.message).toBe(`no projection named "nope" at the admin API ${url} (its projections: ${name})`)

    sluice.child.kill("SIGTERM")
    expect(await sluice.exited).toEqual({ code: 0, signal: null })
    expect(sluice.stderr.join("\n")).toMatch(/"message":"projection stopped","subscription":"yahoo-read-model"/)

    const built = await show(file)
    expect(built.subscription).toMatchObject({ lag_events: 0 })
    // What the running process answered is what the store holds once it stopped, printed the same.
    expect(viaAdmin).toEqual(built)
    expect(viaAdminText).toEqual(await showLines(file, { json: false }))
    expect(viaAdminText[0]).toBe(`${name}: checkpoint ${built.subscription.checkpoint}, lag 0 event(s)`)
    const [quotes, days] = built.tables
    expect(quotes?.name).toBe("public.latest_quotes")
    expect(quotes?.rows.map((r) => r.symbol)).toEqual(["AAPL", "BABA"])
    expect(days?.name).toBe("public.daily_ohlc")
    expect(new Set(days?.rows.map((r) => r.symbol))).toEqual(new Set(["AAPL", "BABA", "BTC-USD", "EURUSD=X", "GC=F"]))
    expect(days?.rows.filter((r) => r.source === "bar")).toHaveLength(8)

    const rebuilt = await printed(ProjectionCommands.rebuild(file, name, Option.none()))
    expect(rebuilt).toEqual([
      `rebuilt ${name}: 10 event(s) in 1 batch(es), checkpoint ${built.subscription.checkpoint}`
    ])
    const again = await show(file)
    expect(again.subscription.checkpoint).toBe(built.subscription.checkpoint)
    expect(again.tables).toEqual(built.tables)
  }, 180_000)
})

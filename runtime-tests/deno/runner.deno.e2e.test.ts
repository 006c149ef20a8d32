/**
 * The runner's basics under Deno: `deno run -A apps/runner/src/main.ts run --config ...` starts,
 * delivers the counter fixture's events to a local webhook receiver, and exits 0 on SIGTERM; on
 * embedded PGlite and on PostgreSQL. Collected by runtime-tests/deno/vitest.config.ts only.
 */
import { join } from "node:path"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import type { SluiceConfigInput } from "../../apps/runner/src/index.ts"
import {
  counterPlugin,
  envRef,
  removeTempDirs,
  tempDir,
  webhookSecret,
  writeConfig
} from "../../apps/runner/test/support/config.ts"
import { databaseUrl, dropSchema, freshSchema } from "../../apps/runner/test/support/database.ts"
import { startReceiver } from "../../apps/runner/test/support/receiver.ts"
import { eventually } from "../../apps/runner/test/support/sluice.ts"

/** The part of Deno's API used here (no Deno types in this Node-typed project). */
interface DenoCommand {
  readonly execPath: () => string
  readonly Command: new (
    command: string,
    options: { args: Array<string>; env: Record<string, string>; clearEnv: true; stdout: "null"; stderr: "piped" }
  ) => {
    spawn: () => {
      readonly stderr: ReadableStream<Uint8Array>
      readonly status: Promise<{ code: number; signal: string | null }>
      kill: (signal: "SIGTERM" | "SIGKILL") => void
    }
  }
}
const deno = (globalThis as { Deno?: DenoCommand }).Deno
if (deno === undefined)
  throw new Error("runner.deno.e2e.test.ts runs under Deno only (runtime-tests/deno/vitest.config.ts)")

const main = new URL("../../apps/runner/src/main.ts", import.meta.url).pathname
const cleanup: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const task of cleanup.splice(0).reverse()) await task()
})
afterAll(removeTempDirs)

/**
 * `deno run -A main.ts run --config file`; its exit and stderr. Deno.Command, not node:child_process:
 * Deno's ChildProcess reports `signal: "SIGTERM"` for any child it sent SIGTERM, even one that
 * caught it and exited 0 (Deno 2.9), which would hide the exit code this test is about.
 */
const startOnDeno = (file: string, env: Record<string, string>) => {
  const child = new deno.Command(deno.execPath(), {
    args: ["run", "-A", main, "run", "--config", file],
    env,
    clearEnv: true,
    stdout: "null",
    stderr: "piped"
  }).spawn()
  const stderr: Array<string> = []
  const drained = child.stderr
    .pipeThrough(new TextDecoderStream())
    .pipeTo(new WritableStream({ write: (chunk) => void stderr.push(chunk) }))
  let done = false
  const exited = child.status.then(async ({ code, signal }) => {
    done = true
    await drained
    return { code, signal }
  })
  cleanup.push(async () => {
    if (!done) child.kill("SIGKILL")
    await exited
  })
  return { kill: () => child.kill("SIGTERM"), exited, stderr }
}

/** process.env without unset entries (Deno.Command wants strings), without DATABASE_URL, plus `extra`. */
const envOf = (extra: Record<string, string>): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(process.env))
    if (value !== undefined && name !== "DATABASE_URL") env[name] = value
  return { ...env, ...extra }
}

const basics = async (store: NonNullable<SluiceConfigInput["store"]>, env: Record<string, string>) => {
  const receiver = await startReceiver()
  cleanup.push(receiver.close)
  const total = 5
  const { file } = writeConfig({
    store,
    sources: [
      {
        name: "counter",
        plugin: counterPlugin,
        options: { total, perTick: total, prefix: `deno${Date.now()}` },
        schedule: { every: "300 millis" }
      }
    ],
    transports: [
      {
        name: "webhook",
        plugin: "@sluice/transport-http",
        options: { url: receiver.url, secrets: [envRef("E2E_WEBHOOK_SECRET")], timeoutMs: 5_000 }
      }
    ],
    routes: [{ name: "hooks", transport: "webhook", topic: "counter", match: ["counter.*"] }],
    relay: { pollInterval: "200 millis", gracePeriod: "5 seconds" },
    admin: { enabled: false },
    logging: { format: "json" }
  })
  const sluice = startOnDeno(file, envOf({ ...env, E2E_WEBHOOK_SECRET: webhookSecret }))
  await eventually(
    `${total} deliveries (stderr: ${sluice.stderr.join("").slice(-2_000)})`,
    () => receiver.acknowledged.size >= total,
    90_000
  )
  sluice.kill()
  expect(await sluice.exited, sluice.stderr.join("").slice(-2_000)).toEqual({ code: 0, signal: null })
  expect(sluice.stderr.join("")).toContain("sluice stopped")
  expect(receiver.acknowledged.size).toBe(total)
}

describe("sluice run under Deno", () => {
  it("embedded PGlite: starts, delivers, exits 0 on SIGTERM", async () => {
    await basics({ driver: "embedded", dataDir: join(tempDir("sluice-deno-"), "data") }, {})
  }, 150_000)

  it("PostgreSQL: starts, delivers, exits 0 on SIGTERM", async () => {
    const schema = freshSchema()
    cleanup.push(() => dropSchema(schema))
    await basics({ driver: "postgres", schema, poolSize: 2 }, { DATABASE_URL: databaseUrl })
  }, 150_000)
})

/** Test support: config files for the end-to-end tests, written to a fresh temporary directory. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, isAbsolute, join, resolve } from "node:path"
import { ConfigProvider, Effect } from "effect"
import type { SluiceConfigInput } from "../../src/Config.ts"

export const counterPlugin = new URL("../fixtures/counter-source.ts", import.meta.url).pathname

/** A `${NAME}` environment reference as written in a config file. */
export const envRef = (name: string): string => ["$", "{", name, "}"].join("")

/** A signing secret for the HTTP transport, passed through the environment as `${E2E_WEBHOOK_SECRET}`. */
export const webhookSecret = `whsec_${Buffer.from("sluice-e2e-signing-key-0123456789").toString("base64")}`

const made: Array<string> = []

/** A fresh temporary directory, removed by `removeTempDirs`. */
export const tempDir = (prefix = "sluice-e2e-"): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  made.push(dir)
  return dir
}

/**
 * Removes every directory `tempDir` made (call it in afterAll), retrying: a child that was just
 * killed may still be writing in its directory (ENOTEMPTY).
 */
export const removeTempDirs = (): void => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true, maxRetries: 5 })
}

/** A temporary directory holding `config` as sluice.json; returns both paths. */
export const writeConfig = (config: SluiceConfigInput): { readonly dir: string; readonly file: string } => {
  const dir = tempDir()
  const file = join(dir, "sluice.json")
  writeFileSync(file, JSON.stringify(config, null, 2))
  return { dir, file }
}

/** Counter events -> a webhook, on PostgreSQL in `schema`, admin on a free port. */
export const webhookConfig = (options: {
  readonly schema: string
  readonly url: string
  readonly total: number
  readonly batchSize: number
  readonly lease?: string
  readonly maxAttempts?: number
}): SluiceConfigInput => ({
  store: { driver: "postgres", schema: options.schema, poolSize: 4 },
  sources: [
    {
      name: "counter",
      plugin: counterPlugin,
      options: { total: options.total, perTick: options.total, prefix: options.schema },
      schedule: { every: "300 millis" }
    }
  ],
  transports: [
    {
      name: "webhook",
      plugin: "@sluice/transport-http",
      options: { url: options.url, secrets: [envRef("E2E_WEBHOOK_SECRET")], concurrency: 4, timeoutMs: 5000 }
    }
  ],
  routes: [{ name: "hooks", transport: "webhook", topic: "counter", match: ["counter.*"] }],
  relay: {
    workers: 2,
    batchSize: options.batchSize,
    lease: options.lease ?? "30 seconds",
    pollInterval: "200 millis",
    gracePeriod: "10 seconds",
    retry: { maxAttempts: options.maxAttempts ?? 5, baseDelayMs: 100, maxDelayMs: 1000 }
  },
  admin: { port: 0 },
  logging: { format: "json" }
})

const examples = new URL("../../../../examples/", import.meta.url).pathname

/**
 * A copy of `examples/<name>` written as `<dir>/sluice.json` (dir: a fresh temporary directory
 * unless given), for e2e tests: the admin server and push sources on port 0 (the examples' fixed ports may be taken
 * by anything else on the machine: read the bound URL with `adminUrl`), JSON logs, and the
 * examples' relative plugin paths made absolute so they hold from the new place. `store.dataDir`
 * is left as it is: relative, it lands in `dir`.
 */
export const exampleConfig = (
  name: string,
  options: { readonly dir?: string } = {}
): { readonly dir: string; readonly file: string } => {
  const source = join(examples, name)
  const from = (path: string) => (path.startsWith(".") && !isAbsolute(path) ? resolve(dirname(source), path) : path)
  const { $schema: _, ...config } = JSON.parse(readFileSync(source, "utf8")) as Record<string, unknown>
  const sources = (config.sources ?? []) as Array<{ plugin: string; options?: Record<string, unknown> }>
  const transports = (config.transports ?? []) as Array<{ plugin: string }>
  for (const plugin of [...sources, ...transports]) plugin.plugin = from(plugin.plugin)
  // Push sources listen on a free port too (read the URL with `pushUrl`).
  for (const source of sources)
    if (source.plugin === "push" || source.plugin === "@sluice/source-http")
      source.options = { ...source.options, port: 0 }
  const copy = {
    ...config,
    admin: { ...(config.admin as object | undefined), port: 0 },
    logging: { ...(config.logging as object | undefined), format: "json" }
  }
  const dir = options.dir ?? tempDir()
  const file = join(dir, "sluice.json")
  writeFileSync(file, JSON.stringify(copy, null, 2))
  return { dir, file }
}

/**
 * Runs `effect` with exactly the environment variables `env` (none by default), read as the runner
 * reads them (Environment.ts: through the ConfigProvider), whatever the test process's own are.
 */
export const withEnv =
  (env: Record<string, string> = {}) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.provideService(effect, ConfigProvider.ConfigProvider, ConfigProvider.fromEnvRecord(env))

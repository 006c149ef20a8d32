/** Test support: config files for the end-to-end tests, written to a fresh temporary directory. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
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

/** Removes every directory `tempDir` made (call it in afterAll). */
export const removeTempDirs = (): void => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
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

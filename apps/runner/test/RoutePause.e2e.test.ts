/**
 * `sluice routes`: a route paused in the store before `sluice run` starts gets no delivery while its
 * rows pile up; `routes list --admin` shows the pause, `routes resume --admin` lets the running relay
 * deliver them. On PostgreSQL, in a schema of its own.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest"
import { removeTempDirs, webhookConfig, webhookSecret, writeConfig } from "./support/config.ts"
import { databaseUrl, dropSchema, freshSchema, query } from "./support/database.ts"
import { startReceiver } from "./support/receiver.ts"
import { adminUrl, eventually, kill, runToEnd, start } from "./support/sluice.ts"

const env = { ...process.env, DATABASE_URL: databaseUrl, E2E_WEBHOOK_SECRET: webhookSecret }
const cleanup: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const task of cleanup.splice(0).reverse()) await task()
})
afterAll(removeTempDirs)

describe("sluice routes", () => {
  it("pause before run holds a route's rows; resume through the admin API delivers them", async () => {
    const schema = freshSchema()
    cleanup.push(() => dropSchema(schema))
    const receiver = await startReceiver()
    cleanup.push(receiver.close)
    const { file } = writeConfig(webhookConfig({ schema, url: receiver.url, total: 5, batchSize: 10 }))

    const migrated = await runToEnd(["migrate", "--config", file], { env })
    expect(migrated.code, migrated.stderr).toBe(0)
    const paused = await runToEnd(["routes", "pause", "hooks", "--reason", "receiver upgrade", "--config", file], {
      env
    })
    expect(paused.code, paused.stderr).toBe(0)
    expect(paused.stdout).toContain("paused hooks")

    const sluice = start(["run", "--config", file], { env })
    cleanup.push(() => kill(sluice))
    const admin = await adminUrl(sluice)
    const pending = async () =>
      Number(
        (
          await query<{ n: number }>(
            `SELECT count(*)::int AS n FROM ${schema}.outbox WHERE route = 'hooks' AND status = 'pending'`
          )
        )[0]!.n
      )
    await eventually("the five rows pending", async () => (await pending()) === 5, 30_000)
    expect(receiver.received).toEqual([])

    const listed = await runToEnd(["routes", "list", "--json", "--admin", admin], { env })
    expect(listed.code, listed.stderr).toBe(0)
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ route: "hooks", paused: true, reason: "receiver upgrade", rate_limit_per_s: null })
    ])

    const resumed = await runToEnd(["routes", "resume", "hooks", "--admin", admin], { env })
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(resumed.stdout).toContain("resumed hooks")
    await eventually("the five events delivered", () => receiver.acknowledged.size === 5, 30_000)
    expect(await pending()).toBe(0)

    const bad = await runToEnd(["routes", "pause", "no such route", "--admin", admin], { env })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('not a route name: "no such route"')
  }, 120_000)
})

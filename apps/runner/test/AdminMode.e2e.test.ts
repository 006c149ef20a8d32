/**
 * `sluice status --admin URL` and `sluice dlq ... --admin URL` next to a running `sluice run` on
 * the embedded store (whose data directory belongs to that process): a second process asks the
 * running one through its admin API, and prints exactly what the same command prints on the store
 * once `run` has stopped (text, JSON and exit codes).
 */
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { counterPlugin, envRef, removeTempDirs, tempDir, webhookSecret, writeConfig } from "./support/config.ts"
import { startReceiver } from "./support/receiver.ts"
import { adminUrl, envWithout, eventually, runToEnd, start } from "./support/sluice.ts"

const token = "e2e-admin-token-0123456789"
const env = envWithout({ E2E_WEBHOOK_SECRET: webhookSecret })

interface DeadLetter {
  readonly outbox_id: string
  readonly replays: number
}

const cleanup: Array<() => Promise<void>> = []
afterAll(async () => {
  for (const step of cleanup.splice(0).reverse()) await step()
  removeTempDirs()
})

describe("status and dlq through a running process's admin API (--admin URL)", () => {
  it("print what the commands print on the store, and refuse a wrong token with exit 1", async () => {
    // Every delivery answers 400: each event is dead-lettered at its first attempt.
    const receiver = await startReceiver({ status: () => 400 })
    cleanup.push(receiver.close)
    const { file } = writeConfig({
      store: { driver: "embedded", dataDir: join(tempDir("sluice-admin-mode-"), "data") },
      sources: [{ name: "counter", plugin: counterPlugin, options: { total: 3, perTick: 3, prefix: "adm" } }],
      transports: [
        {
          name: "webhook",
          plugin: "@sluice/transport-http",
          options: { url: receiver.url, secrets: [envRef("E2E_WEBHOOK_SECRET")], timeoutMs: 5000 }
        }
      ],
      routes: [{ name: "hooks", transport: "webhook", topic: "counter", match: ["counter.*"] }],
      relay: { workers: 1, pollInterval: "200 millis" },
      admin: { port: 0, token },
      logging: { format: "json" }
    })
    const cli = (...args: Array<string>) => runToEnd(args, { env })

    const startRun = async () => {
      const run = start(["run", "--config", file], { env })
      cleanup.push(async () => {
        if (run.child.exitCode === null) run.child.kill("SIGKILL")
      })
      return { run, url: await adminUrl(run) }
    }
    const deadLetters = async (url: string) => {
      const answer = await fetch(`${url}/api/dead-letters`, { headers: { authorization: `Bearer ${token}` } })
      return ((await answer.json()) as { dead_letters: Array<DeadLetter> }).dead_letters
    }

    const first = await startRun()
    const admin = ["--admin", first.url, "--token", token]
    await eventually("three dead letters", async () => (await deadLetters(first.url)).length === 3, 60_000)
    const [one] = await deadLetters(first.url)

    const commands: ReadonlyArray<ReadonlyArray<string>> = [
      ["status", "--json", "--sample", "0 seconds"],
      ["status", "--sample", "0 seconds"],
      ["dlq", "list", "--json"],
      ["dlq", "list", "--json", "--limit", "2"],
      ["dlq", "list", "--route", "hooks"],
      ["dlq", "show", one!.outbox_id],
      ["dlq", "show", "999999"]
    ]
    const remote = []
    for (const command of commands) remote.push(await cli(...command, ...admin))
    expect(remote.map((r) => r.code)).toEqual([0, 0, 0, 0, 0, 0, 1])
    expect(JSON.parse(remote[0]!.stdout)).toMatchObject({ backlog: 0, dead_letters: 3 })
    expect(JSON.parse(remote[2]!.stdout)).toMatchObject({ next_after: null })
    expect(JSON.parse(remote[3]!.stdout).next_after).toBe(JSON.parse(remote[3]!.stdout).dead_letters[1].outbox_id)
    expect(remote[6]!.stderr).toContain("error: no dead letter with id 999999")

    // The token from the environment; a wrong or missing one exits 1 saying what to give.
    const fromEnv = await runToEnd(["status", "--sample", "0 seconds", "--admin", first.url], {
      env: { ...env, SLUICE_ADMIN_TOKEN: token }
    })
    expect(fromEnv.stdout).toBe(remote[1]!.stdout)
    const wrong = await cli("dlq", "list", "--admin", first.url, "--token", "not-the-token-0123456789")
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toContain(`error: admin API at ${first.url}: the token was refused (401)`)
    expect(wrong.stderr).not.toContain("not-the-token")
    const none = await cli("dlq", "list", "--admin", first.url)
    expect(none.code).toBe(1)
    expect(none.stderr).toContain("a bearer token is required (401)")

    first.run.child.kill("SIGTERM")
    expect((await first.run.exited).code).toBe(0)
    const refused = await cli("status", "--admin", first.url, "--token", token)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(`error: admin API at ${first.url}: cannot reach it (ECONNREFUSED)`)

    // The same commands on the store itself, now that `run` is stopped.
    for (const [i, command] of commands.entries()) {
      const local = await cli(...command, "--config", file)
      expect({ code: local.code, stdout: local.stdout }, command.join(" ")).toEqual({
        code: remote[i]!.code,
        stdout: remote[i]!.stdout
      })
    }
    const localReplay = await cli("dlq", "replay", one!.outbox_id, "--config", file)

    // Replay and purge through a running process.
    const second = await startRun()
    const again = ["--admin", second.url, "--token", token]
    const dead = async () => (await deadLetters(second.url)).filter((d) => d.replays === 1).length === 1
    await eventually("the replayed row dead again", dead, 60_000)
    const remoteReplay = await cli("dlq", "replay", one!.outbox_id, ...again)
    expect({ code: remoteReplay.code, stdout: remoteReplay.stdout }).toEqual({
      code: localReplay.code,
      stdout: localReplay.stdout
    })
    expect(remoteReplay.stdout).toBe("replayed 1 dead letter(s)")
    // An id that is no dead letter exits 1 naming it, through the API as on the store.
    const unknownReplay = ["dlq", "replay", "999999"]
    const remoteUnknown = await cli(...unknownReplay, ...again)
    expect({ code: remoteUnknown.code, stdout: remoteUnknown.stdout }).toEqual({
      code: 1,
      stdout: "replayed 0 dead letter(s)"
    })
    expect(remoteUnknown.stderr).toContain("error: not dead letters: 999999")
    const twice = async () => (await deadLetters(second.url)).filter((d) => d.replays === 2).length === 1
    await eventually("the replayed row dead again", twice, 60_000)
    const purged = await cli("dlq", "purge", "--yes", ...again)
    expect({ code: purged.code, stdout: purged.stdout }).toEqual({ code: 0, stdout: "purged 3 dead letter(s)" })
    expect((await cli("dlq", "list", ...again)).stdout).toBe("no dead letters")
    second.run.child.kill("SIGTERM")
    expect((await second.run.exited).code).toBe(0)
    // Purged for good: the store itself has none left.
    expect((await cli("dlq", "list", "--config", file)).stdout).toBe("no dead letters")
    const localUnknown = await cli(...unknownReplay, "--config", file)
    expect({ code: localUnknown.code, stdout: localUnknown.stdout }).toEqual({
      code: remoteUnknown.code,
      stdout: remoteUnknown.stdout
    })
  }, 240_000)
})

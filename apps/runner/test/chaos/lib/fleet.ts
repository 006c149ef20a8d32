/**
 * Chaos harness: a fleet of real `sluice run` processes (relay only, no sources) sharing one
 * database schema, delivering to the chaos receiver. Processes can be killed, frozen, resumed,
 * replaced and stopped; every fault is written to the History as a marker.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import type { SluiceConfigInput } from "../../../src/Config.ts"
import { envRef, tempDir, webhookSecret } from "../../support/config.ts"
import { adminUrl, type Exit, type Sluice, start } from "../../support/sluice.ts"
import type { History } from "./history.ts"

export const SCHEMA = "chaos"
export const ROUTE = "hooks"
export const TOPIC = "chaos"

export interface RelaySettings {
  readonly workers: number
  readonly batchSize: number
  readonly lease: string
  readonly pollInterval: string
  readonly gracePeriod?: string
  readonly maxAttempts?: number
  readonly ordered: boolean
  /** The HTTP transport's per-request timeout. @default 2000 */
  readonly timeoutMs?: number
  readonly poolSize?: number
}

/** The config file of every process of a fleet. */
export const relayConfig = (url: string, s: RelaySettings): SluiceConfigInput => ({
  store: { driver: "postgres", schema: SCHEMA, poolSize: s.poolSize ?? 4 },
  transports: [
    {
      name: "webhook",
      plugin: "@sluice/transport-http",
      options: {
        url,
        secrets: [envRef("CHAOS_WEBHOOK_SECRET")],
        mode: "single",
        concurrency: 4,
        timeoutMs: s.timeoutMs ?? 2000
      }
    }
  ],
  routes: [{ name: ROUTE, transport: "webhook", topic: TOPIC, match: ["chaos.**"], ordered: s.ordered }],
  relay: {
    workers: s.workers,
    batchSize: s.batchSize,
    lease: s.lease,
    pollInterval: s.pollInterval,
    gracePeriod: s.gracePeriod ?? "10 seconds",
    retry: { maxAttempts: s.maxAttempts ?? 5, baseDelayMs: 20, maxDelayMs: 200, maxRetryAfterMs: 300 }
  },
  admin: { port: 0 },
  logging: { format: "json", level: "Info" }
})

export interface Member {
  readonly name: string
  readonly sluice: Sluice
  readonly admin: Promise<string>
}

export interface Fleet {
  readonly members: Array<Member>
  /** Starts one more process and waits until its relay runs. */
  readonly spawn: () => Promise<Member>
  readonly signal: (member: Member, signal: NodeJS.Signals, detail?: string) => void
  /** SIGTERM to every live process; the exits, in member order. */
  readonly stopAll: () => Promise<ReadonlyArray<{ readonly name: string; readonly exit: Exit }>>
  /** SIGKILL whatever is still alive (cleanup). */
  readonly destroy: () => Promise<void>
  readonly live: () => ReadonlyArray<Member>
}

export const isAlive = (m: Member): boolean => m.sluice.child.exitCode === null && m.sluice.child.signalCode === null

export const startFleet = (history: History, databaseUrl: string, config: SluiceConfigInput): Fleet => {
  const dir = tempDir("sluice-chaos-")
  const file = join(dir, "sluice.json")
  writeFileSync(file, JSON.stringify(config, null, 2))
  const env = { ...process.env, DATABASE_URL: databaseUrl, CHAOS_WEBHOOK_SECRET: webhookSecret }
  const members: Array<Member> = []
  let counter = 0
  const live = () => members.filter(isAlive)
  return {
    members,
    live,
    spawn: async () => {
      counter += 1
      const sluice = start(["run", "--config", file], { env })
      const member: Member = { name: `relay-${counter}`, sluice, admin: adminUrl(sluice) }
      member.admin.catch(() => undefined)
      members.push(member)
      await sluice.waitForLine("stderr", /sluice is running/, 30_000)
      return member
    },
    signal: (member, signal, detail = "") => {
      if (!isAlive(member)) return
      history.mark(signal, `${member.name} ${detail}`.trim())
      member.sluice.child.kill(signal)
    },
    stopAll: async () => {
      const alive = live()
      for (const m of alive) m.sluice.child.kill("SIGTERM")
      const exits = []
      for (const m of alive) exits.push({ name: m.name, exit: await m.sluice.exited })
      return exits
    },
    destroy: async () => {
      for (const m of live()) {
        m.sluice.child.kill("SIGCONT")
        m.sluice.child.kill("SIGKILL")
      }
      await Promise.all(members.map((m) => m.sluice.exited))
    }
  }
}

/** A counter of the process's Prometheus metrics (summed over labels), or 0. */
export const metric = async (member: Member, name: string): Promise<number> => {
  const text = await (await fetch(`${await member.admin}/metrics`)).text()
  let total = 0
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) total += Number(line.split(" ").at(-1))
  }
  return total
}

/**
 * Chaos harness: a fleet of real `sluice run` processes (relay only, no sources) sharing one
 * database schema, delivering to the chaos receiver. Processes can be killed, frozen, resumed,
 * replaced and stopped; every fault is written to the History as a marker.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import type { SluiceConfigInput, TransportConfig } from "../../../src/Config.ts"
import { envRef, tempDir, webhookSecret } from "../../support/config.ts"
import { adminUrl, type Exit, type Sluice, start } from "../../support/sluice.ts"
import type { History, Marker } from "./history.ts"

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
  /** The retry backoff's ceiling. @default 200 */
  readonly maxDelayMs?: number
  readonly ordered: boolean
  /** The HTTP transport's per-request timeout. @default 2000 */
  readonly timeoutMs?: number
  readonly poolSize?: number
}

/** One entry of a config file's `transports`. */
export type TransportEntry = typeof TransportConfig.Encoded

/** The config file of every process of a fleet: the chaos route to the webhook receiver at `url`. */
export const relayConfig = (url: string, s: RelaySettings): SluiceConfigInput =>
  relayConfigWith(
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
    },
    s
  )

/** The config file of every process of a fleet: the chaos route to `transport`. */
export const relayConfigWith = (transport: TransportEntry, s: RelaySettings): SluiceConfigInput => ({
  store: { driver: "postgres", schema: SCHEMA, poolSize: s.poolSize ?? 4 },
  transports: [transport],
  routes: [{ name: ROUTE, transport: transport.name, topic: TOPIC, match: ["chaos.**"], ordered: s.ordered }],
  relay: {
    workers: s.workers,
    batchSize: s.batchSize,
    lease: s.lease,
    pollInterval: s.pollInterval,
    gracePeriod: s.gracePeriod ?? "10 seconds",
    retry: { maxAttempts: s.maxAttempts ?? 5, baseDelayMs: 20, maxDelayMs: s.maxDelayMs ?? 200, maxRetryAfterMs: 300 }
  },
  admin: { port: 0 },
  logging: { format: "json", level: process.env.CHAOS_LOG_LEVEL === "Debug" ? "Debug" : "Info" }
})

export interface Stopped {
  readonly name: string
  readonly exit: Exit
  readonly hung: boolean
  readonly lastLines: ReadonlyArray<string>
}

/** SIGTERM, then SIGKILL if the process is still alive after `timeoutMs`. */
export const stopMember = async (member: Member, timeoutMs = 15_000): Promise<Stopped> => {
  member.sluice.child.kill("SIGTERM")
  let hung = false
  const timer = setTimeout(() => {
    hung = true
    member.sluice.child.kill("SIGKILL")
  }, timeoutMs)
  const exit = await member.sluice.exited
  clearTimeout(timer)
  return { name: member.name, exit, hung, lastLines: member.sluice.stderr.slice(-4) }
}

export interface Member {
  readonly name: string
  readonly sluice: Sluice
  readonly admin: Promise<string>
  /** Set once the process logged that it runs (its relay workers are started). */
  ready: boolean
}

export interface Fleet {
  readonly members: Array<Member>
  /** Starts one more process and waits until its relay runs; rejects if it exits before. */
  readonly spawn: () => Promise<Member>
  /** Sends a signal and records it as a fault marker (returned, so a lasting fault can be ended). */
  readonly signal: (member: Member, signal: NodeJS.Signals, detail?: string) => Marker | undefined
  /**
   * SIGTERM to every live process; the exits, in member order. A process still running
   * `timeoutMs` later is SIGKILLed and reported with `hung: true` and its last log lines.
   */
  readonly stopAll: (timeoutMs?: number) => Promise<ReadonlyArray<Stopped>>
  /** SIGKILL whatever is still alive (cleanup). */
  readonly destroy: () => Promise<void>
  readonly live: () => ReadonlyArray<Member>
  /** Live processes whose relay runs (not still starting). */
  readonly ready: () => ReadonlyArray<Member>
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
    ready: () => live().filter((m) => m.ready),
    spawn: async () => {
      counter += 1
      const sluice = start(["run", "--config", file], { env })
      const member: Member = { name: `relay-${counter}`, sluice, admin: adminUrl(sluice), ready: false }
      member.admin.catch(() => undefined)
      // A refused (stale) result proves a lease ran out under a delivery: a fault the checker may
      // blame for a duplicate even when nobody injected one (a process starved of CPU, say). So does
      // a failed batch: its results may not have been recorded (e.g. the completion went out on a
      // pooled connection that a PostgreSQL restart had already closed, after the restart ended).
      sluice.child.stderr?.on("data", (chunk: Buffer | string) => {
        const text = String(chunk)
        if (text.includes("result refused")) history.mark("stale-completion", member.name)
        if (text.includes("relay batch failed")) history.mark("failed-batch", member.name)
      })
      members.push(member)
      // A process that exits before it runs (a plugin that could not start) fails the spawn at once.
      const running = sluice.waitForLine("stderr", /sluice is running/, 30_000)
      const died = sluice.exited.then((exit) =>
        Promise.reject(
          new Error(
            `${member.name} exited (${exit.code ?? exit.signal}) before it ran: ${sluice.stderr.slice(-2).join(" | ")}`
          )
        )
      )
      running.catch(() => undefined)
      died.catch(() => undefined)
      await Promise.race([running, died])
      member.ready = true
      return member
    },
    signal: (member, signal, detail = "") => {
      if (!isAlive(member)) return undefined
      const marker = history.mark(signal, `${member.name} ${detail}`.trim())
      member.sluice.child.kill(signal)
      // A killed process's last requests may still be read by the receiver after the signal (its
      // bytes were sent before it died): the fault lasts until its exit is seen.
      if (signal === "SIGKILL") void member.sluice.exited.then(() => history.end(marker))
      return marker
    },
    stopAll: (timeoutMs) => Promise.all(live().map((m) => stopMember(m, timeoutMs))),
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

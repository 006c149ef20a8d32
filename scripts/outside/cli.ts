/**
 * The `sluice` command as an npm user runs it (`npx sluice ...` in the outside project): `--help`,
 * `validate` and `run` with a config that loads a built-in plugin by package name (the Yahoo replay
 * source, the HTTP transport), the user's own plugin package by name (plugin.ts) and a plugin file by
 * path (fixtures/plugins/ticker.ts), delivering to a local webhook receiver; then SIGTERM, exit 0,
 * and `sluice status` reading what the run stored.
 */
import { spawn } from "node:child_process"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import type { Checks } from "../checks.ts"
import { pluginOptions } from "./plugin.ts"
import { outside, outsideEnv } from "./project.ts"
import { type Receiver, startReceiver } from "./receiver.ts"

const quotes = ["quote.updated:AAPL", "quote.updated:BABA"]
const ticks = ["tick.emitted:tick-0", "tick.emitted:tick-1", "tick.emitted:tick-2"]

/** Route name -> events it must deliver. */
const expectedRoutes = (plugin: string | undefined): Record<string, number> => ({
  "quotes-to-webhook": quotes.length,
  "ticks-to-webhook": ticks.length,
  ...(plugin === undefined ? {} : { "ticks-to-mine": ticks.length })
})

const config = (receiver: Receiver, plugin: string | undefined) => ({
  sources: [
    { name: "quotes", plugin: "@sluice/plugin-yfinance/replay", options: { symbols: ["AAPL", "BABA"] } },
    { name: "ticks", plugin: "./plugins/ticker.ts", options: { count: ticks.length } }
  ],
  transports: [
    {
      name: "webhook",
      plugin: "@sluice/transport-http",
      options: { url: `${receiver.url}/hook`, secrets: [receiver.secret] }
    },
    ...(plugin === undefined ? [] : [{ name: "mine", plugin, options: pluginOptions(receiver.url) }])
  ],
  routes: [
    { name: "quotes-to-webhook", transport: "webhook", topic: "quotes", match: ["quote.*"] },
    { name: "ticks-to-webhook", transport: "webhook", topic: "ticks", match: ["tick.*"] },
    ...(plugin === undefined ? [] : [{ name: "ticks-to-mine", transport: "mine", topic: "ticks", match: ["tick.*"] }])
  ],
  relay: { pollInterval: "200 millis", gracePeriod: "5 seconds" },
  admin: { port: 0 },
  logging: { format: "json" }
})

/**
 * Polls `condition` every 200 ms until it holds or `ms` pass (generous: the machine may be busy), or
 * until `gone` says there is nothing left to wait for (the process exited).
 */
const eventually = async (
  condition: () => boolean | Promise<boolean>,
  ms: number,
  gone: () => boolean
): Promise<boolean> => {
  const deadline = Date.now() + ms
  while (Date.now() < deadline && !gone()) {
    if (
      await Promise.resolve()
        .then(condition)
        .catch(() => false)
    )
      return true
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  return Promise.resolve()
    .then(condition)
    .catch(() => false)
}

/** The `data` of the first JSON log line whose message is `message`. */
const logData = (stderr: string, message: string): Record<string, unknown> | undefined => {
  for (const line of stderr.split("\n")) {
    if (!line.includes(message)) continue
    try {
      const parsed = JSON.parse(line) as { message?: string; data?: Record<string, unknown> }
      if (parsed.message === message) return parsed.data ?? {}
    } catch {}
  }
  return undefined
}

interface RouteStatus {
  readonly route: string
  readonly delivered: number
  readonly pending: number
  readonly dead: number
}

/** Which expected routes do not show exactly their deliveries, none pending or dead (empty: all do). */
const routeProblems = (routes: ReadonlyArray<RouteStatus>, expected: Record<string, number>): Array<string> =>
  Object.entries(expected).flatMap(([name, count]) => {
    const status = routes.find((route) => route.route === name)
    return status !== undefined && status.delivered === count && status.pending === 0 && status.dead === 0
      ? []
      : [`${name}: ${JSON.stringify(status ?? "absent")}, expected ${count} delivered`]
  })

/** `event_type:entity_id` of each event the receiver got on `path`. */
const seen = (receiver: Receiver, path: string) =>
  new Set(receiver.received().flatMap((r) => (r.path === path ? [`${r.event.event_type}:${r.event.entity_id}`] : [])))

/** Whether every expected event arrived: all on `/hook` (the HTTP transport), the ticks on `/mine` too. */
const allArrived = (receiver: Receiver, plugin: string | undefined) =>
  [...quotes, ...ticks].every((key) => seen(receiver, "/hook").has(key)) &&
  (plugin === undefined || ticks.every((key) => seen(receiver, "/mine").has(key)))

const sluiceRun = async (checks: Checks, project: string, receiver: Receiver, plugin: string | undefined) => {
  const started = Date.now()
  const child = spawn("npx", ["sluice", "run", "--config", "c.json"], {
    cwd: project,
    env: outsideEnv(),
    stdio: ["ignore", "pipe", "pipe"]
  })
  let stderr = ""
  child.stdout.resume()
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  // npx runs sluice in a child process and does not pass signals on: signal sluice itself (its pid is logged).
  const pid = () => logData(stderr, "sluice is running")?.pid as number | undefined
  const gone = () => child.exitCode !== null
  try {
    const arrived = await eventually(() => allArrived(receiver, plugin), 180_000, gone)
    // The HTTP transport signs (Standard Webhooks); every transport here sends the event id as webhook-id.
    const bad = receiver.received().filter((r) => (r.path === "/hook" && !r.signed) || r.webhookId !== r.event.event_id)
    const got = { "/hook": [...seen(receiver, "/hook")], "/mine": [...seen(receiver, "/mine")] }
    const by = plugin === undefined ? "" : `, and the ticks by ${plugin}`
    checks.record(
      `sluice run: the receiver got the replayed quotes (${quotes.length}) and the path plugin's ticks (${ticks.length}) signed by the HTTP transport${by}`,
      arrived && bad.length === 0,
      `received ${JSON.stringify(got)}, ${bad.length} with a bad signature or webhook-id\n${stderr.slice(-3000)}`,
      Date.now() - started
    )
    const admin = logData(stderr, "admin server listening")?.url as string | undefined
    let problems: Array<string> = ["the admin server's URL was never logged"]
    const delivered = await eventually(
      async () => {
        if (admin === undefined) return false
        const status = (await (await fetch(`${admin}/api/status`)).json()) as { routes: ReadonlyArray<RouteStatus> }
        problems = routeProblems(status.routes, expectedRoutes(plugin))
        return problems.length === 0
      },
      60_000,
      gone
    )
    checks.record(
      plugin === undefined
        ? "sluice run: every route delivered (admin API /api/status; the plugin package is left out, it failed above)"
        : `sluice run: every route delivered, ${plugin}'s too (admin API /api/status)`,
      delivered,
      problems.join("; ")
    )
    const stopping = Date.now()
    const target = pid()
    if (target !== undefined) process.kill(target, "SIGTERM")
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), 60_000)))
    const code = await Promise.race([exited, timeout]).finally(() => clearTimeout(timer))
    checks.record(
      "sluice run: SIGTERM, then it drains and exits 0",
      target !== undefined && code === 0 && logData(stderr, "sluice stopped") !== undefined,
      `pid ${target}, exit ${code}\n${stderr.slice(-2000)}`,
      Date.now() - stopping
    )
  } finally {
    // A check failed and sluice may still run: leave nothing behind.
    const target = pid()
    if (child.exitCode === null) {
      try {
        if (target !== undefined) process.kill(target, "SIGKILL")
      } catch {}
      child.kill("SIGKILL")
    }
  }
}

export const checkCli = async (checks: Checks, project: string, plugin: string | undefined): Promise<void> => {
  /** `npx sluice ...args` as one check: it exits 0 and `accept` holds for its stdout. */
  const sluice = (label: string, args: ReadonlyArray<string>, accept: (stdout: string) => boolean) =>
    checks.check(label, "npx", ["sluice", ...args], project, {
      ...outside(120_000),
      accept: (result) => accept(result.stdout)
    })
  sluice("npx sluice --help", ["--help"], (out) => out.includes("USAGE") && out.includes("validate"))
  const receiver = await startReceiver()
  try {
    writeFileSync(join(project, "c.json"), `${JSON.stringify(config(receiver, plugin), null, 2)}\n`)
    sluice("npx sluice validate --config c.json", ["validate", "--config", "c.json"], (out) =>
      out.includes("c.json is valid")
    )
    await sluiceRun(checks, project, receiver, plugin)
    sluice(
      "npx sluice status --json, after the run: the deliveries are stored",
      ["status", "--config", "c.json", "--json", "--sample", "0 seconds"],
      (out) =>
        routeProblems((JSON.parse(out) as { routes: ReadonlyArray<RouteStatus> }).routes, expectedRoutes(plugin))
          .length === 0
    )
  } finally {
    await receiver.close()
  }
}

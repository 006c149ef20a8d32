/**
 * Chaos harness: what a scenario is and what it reports. A scenario runs against its own private
 * PostgreSQL cluster, its receiver (or a private JetStream cluster) and its fleet of `sluice`
 * processes, then hands the database rows and the History (or the stream read back) to the checker.
 * `long` selects the size used by `pnpm chaos`; the vitest files run the short size.
 */
import { writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { removeTempDirs } from "../../support/config.ts"
import { type CheckOptions, type Counts, check } from "./checker.ts"
import { type Fleet, SCHEMA } from "./fleet.ts"
import { History } from "./history.ts"
import { type PrivatePg, startPrivatePg } from "./privatePg.ts"
import { awaitQuiescence, readCommitted } from "./recorder.ts"
import { checkStream, type StreamCounts, type StreamMessage, streamLine } from "./streamChecker.ts"

export interface RunOptions {
  readonly seed: number
  readonly long: boolean
  /** Progress lines (the CLI prints them; vitest leaves them out). */
  readonly log?: (line: string) => void
}

export interface ScenarioReport {
  readonly name: string
  readonly seed: number
  readonly counts: Counts
  /** A stream transport's figures (its stream read back), for scenarios that publish to one. */
  readonly stream?: StreamCounts
  /** Broken promises: must be empty. */
  readonly violations: ReadonlyArray<string>
  /** Scenario-specific facts (exit codes, stale completions...), shown with the counts. */
  readonly facts: Readonly<Record<string, string | number | boolean>>
  readonly durationMs: number
}

export interface Scenario {
  readonly name: string
  readonly description: string
  readonly run: (options: RunOptions) => Promise<ScenarioReport>
}

/** Everything a scenario body gets: the cluster, the history, and a place for cleanups and facts. */
export interface Context {
  readonly pg: PrivatePg
  readonly history: History
  readonly facts: Record<string, string | number | boolean>
  readonly violations: Array<string>
  readonly cleanup: Array<() => Promise<unknown>>
  readonly log: (line: string) => void
}

/**
 * How the run is checked: the webhook receiver's history (`check`), or the stream a stream
 * transport published to, read back whole after the fleet stopped (`stream`).
 */
export type Verification =
  | { readonly check: Omit<CheckOptions, "rolledBack"> }
  | {
      readonly stream: () => Promise<ReadonlyArray<StreamMessage>>
      /** The route is ordered: each entity's events must be stored in their order. */
      readonly ordered: boolean
    }

/**
 * Runs a scenario body with a fresh private cluster, then waits for quiescence, stops the fleet
 * (SIGTERM: every process must exit 0 unless the body expected otherwise) and checks the history.
 */
export const runScenario = async (
  name: string,
  options: RunOptions,
  body: (ctx: Context) => Promise<
    {
      readonly fleet: Fleet
      readonly rolledBack?: ReadonlySet<string>
      readonly settleMs?: number
    } & Verification
  >
): Promise<ScenarioReport> => {
  const started = Date.now()
  const log = options.log ?? (() => undefined)
  const pg = await startPrivatePg()
  const ctx: Context = { pg, history: new History(), facts: {}, violations: [], cleanup: [], log }
  try {
    const outcome = await body(ctx)
    const settled = await awaitQuiescence(pg.query, outcome.settleMs ?? (options.long ? 180_000 : 30_000))
    if (!settled) {
      ctx.violations.push("the fleet did not deliver or dead-letter every row in time")
      // Where it is stuck: the pending rows, and for the first stuck entity its whole route history.
      const stuck = await pg.query(
        `SELECT outbox_id::text, ordering_key, attempts, lease_owner, lease_expires_at < now() AS expired,
                next_attempt_at <= now() AS due, replays FROM ${SCHEMA}.outbox WHERE status = 'pending' ORDER BY outbox_id LIMIT 5`
      )
      const key = (stuck[0] as { ordering_key?: string } | undefined)?.ordering_key
      const entity =
        key === undefined
          ? []
          : await pg.query(
              `SELECT outbox_id::text, status, attempts, lease_owner, last_error FROM ${SCHEMA}.outbox WHERE ordering_key = '${key}' ORDER BY outbox_id`
            )
      const file = join(tmpdir(), `sluice-chaos-${name}-${options.seed}-stuck.json`)
      const logs = outcome.fleet.members.map((m) => ({
        name: m.name,
        pid: m.sluice.child.pid,
        alive: m.sluice.child.exitCode === null && m.sluice.child.signalCode === null,
        warnings: m.sluice.stderr.filter((line) => !line.includes('"level":"INFO"')).slice(-20),
        tail: m.sluice.stderr.slice(-40)
      }))
      const receiptsBefore = ctx.history.receipts.length
      const samples = []
      for (let i = 0; i < 2; i++) {
        samples.push(
          await pg.query(
            `SELECT now()::text AS now, outbox_id::text, lease_token::text, lease_expires_at::text, lease_owner FROM ${SCHEMA}.outbox
             WHERE status = 'pending' AND lease_token IS NOT NULL`
          )
        )
        await new Promise((resolve) => setTimeout(resolve, 1000))
      }
      const activity = await pg.query(
        `SELECT pid, application_name, state, left(query, 120) AS query, xact_start::text FROM pg_stat_activity WHERE application_name = 'sluice'`
      )
      writeFileSync(
        file,
        JSON.stringify(
          {
            stuck,
            entity,
            markers: ctx.history.markers,
            logs,
            samples,
            activity,
            receipts: {
              before: receiptsBefore,
              after: ctx.history.receipts.length,
              last: ctx.history.receipts.slice(-3)
            }
          },
          null,
          2
        )
      )
      ctx.violations.push(`stuck rows written to ${file}`)
    }
    const exits = await outcome.fleet.stopAll()
    for (const { name: member, exit, hung, lastLines } of exits) {
      if (hung)
        ctx.violations.push(
          `${member} did not exit within 15 s of SIGTERM (killed); last logs: ${lastLines.join(" | ")}`
        )
      else if (exit.code !== 0)
        ctx.violations.push(`${member} exited ${exit.code ?? exit.signal} on SIGTERM, expected 0`)
    }
    const leased = await pg.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${SCHEMA}.outbox WHERE status = 'pending' AND lease_token IS NOT NULL`
    )
    ctx.facts.leasedAtEnd = leased[0]?.n ?? 0
    const answers = new Map<string, number>()
    for (const r of ctx.history.receipts) answers.set(r.answer ?? "none", (answers.get(r.answer ?? "none") ?? 0) + 1)
    if ([...answers.keys()].some((a) => a !== "ok"))
      ctx.facts.answers = [...answers].map(([answer, n]) => `${answer}:${n}`).join("/")
    const rows = await readCommitted(pg.query)
    const rolledBack = outcome.rolledBack ?? new Set<string>()
    if ("stream" in outcome) {
      const verdict = checkStream(rows, await outcome.stream(), { rolledBack, ordered: outcome.ordered })
      const c = verdict.counts
      return {
        name,
        seed: options.seed,
        counts: {
          committed: c.committed,
          delivered: c.delivered,
          duplicates: c.duplicatesInStream,
          deadLettered: c.deadLettered,
          lost: c.lost,
          // No receiver saw the requests: the messages the stream holds stand in for them.
          requests: c.inStream
        },
        stream: c,
        violations: [...ctx.violations, ...verdict.violations],
        facts: ctx.facts,
        durationMs: Date.now() - started
      }
    }
    const verdict = check(rows, ctx.history, { ...outcome.check, rolledBack })
    return {
      name,
      seed: options.seed,
      counts: verdict.counts,
      violations: [...ctx.violations, ...verdict.violations],
      facts: ctx.facts,
      durationMs: Date.now() - started
    }
  } finally {
    for (const task of ctx.cleanup.splice(0).reverse()) await task().catch(() => undefined)
    await pg.destroy()
    removeTempDirs()
  }
}

/** One line per scenario (two with a stream's figures), as `pnpm chaos` prints it. */
export const summary = (r: ScenarioReport): string =>
  `${r.violations.length === 0 ? "PASS" : "FAIL"} ${r.name} (seed ${r.seed}, ${(r.durationMs / 1000).toFixed(1)} s): ` +
  `committed ${r.counts.committed}, delivered ${r.counts.delivered}, duplicates ${r.counts.duplicates}, ` +
  `dead-lettered ${r.counts.deadLettered}, lost ${r.counts.lost} (requests ${r.counts.requests})` +
  (Object.keys(r.facts).length > 0
    ? `; ${Object.entries(r.facts)
        .map(([k, v]) => `${k}=${v}`)
        .join(", ")}`
    : "") +
  (r.stream === undefined ? "" : `\n   ${streamLine(r.stream)}`)

/**
 * Chaos harness: what a scenario is and what it reports. A scenario runs against its own private
 * PostgreSQL cluster, its receiver and its fleet of `sluice` processes, then hands the database
 * rows and the History to the checker. `long` selects the size used by `pnpm test:chaos`; the
 * vitest files run the short size.
 */
import { type CheckOptions, type Counts, check } from "./checker.ts"
import { type Fleet, SCHEMA } from "./fleet.ts"
import { History } from "./history.ts"
import { type PrivatePg, startPrivatePg } from "./privatePg.ts"
import { awaitQuiescence, readCommitted } from "./recorder.ts"

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
 * Runs a scenario body with a fresh private cluster, then waits for quiescence, stops the fleet
 * (SIGTERM: every process must exit 0 unless the body expected otherwise) and checks the history.
 */
export const runScenario = async (
  name: string,
  options: RunOptions,
  body: (
    ctx: Context
  ) => Promise<{
    readonly fleet: Fleet
    readonly check: Omit<CheckOptions, "rolledBack">
    readonly rolledBack?: ReadonlySet<string>
    readonly settleMs?: number
  }>
): Promise<ScenarioReport> => {
  const started = Date.now()
  const log = options.log ?? (() => undefined)
  const pg = await startPrivatePg()
  const ctx: Context = { pg, history: new History(), facts: {}, violations: [], cleanup: [], log }
  try {
    const outcome = await body(ctx)
    const settled = await awaitQuiescence(pg.query, outcome.settleMs ?? 30_000)
    if (!settled) ctx.violations.push("the fleet did not deliver or dead-letter every row in time")
    const exits = await outcome.fleet.stopAll()
    for (const { name: member, exit } of exits) {
      if (exit.code !== 0) ctx.violations.push(`${member} exited ${exit.code ?? exit.signal} on SIGTERM, expected 0`)
    }
    const leased = await pg.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${SCHEMA}.outbox WHERE status = 'pending' AND lease_token IS NOT NULL`
    )
    ctx.facts.leasedAtEnd = leased[0]?.n ?? 0
    const rows = await readCommitted(pg.query)
    const verdict = check(rows, ctx.history, { ...outcome.check, rolledBack: outcome.rolledBack ?? new Set() })
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
  }
}

/** One line per scenario, as `pnpm test:chaos` prints it. */
export const summary = (r: ScenarioReport): string =>
  `${r.violations.length === 0 ? "PASS" : "FAIL"} ${r.name} (seed ${r.seed}, ${(r.durationMs / 1000).toFixed(1)} s): ` +
  `committed ${r.counts.committed}, delivered ${r.counts.delivered}, duplicates ${r.counts.duplicates}, ` +
  `dead-lettered ${r.counts.deadLettered}, lost ${r.counts.lost} (requests ${r.counts.requests})` +
  (Object.keys(r.facts).length > 0
    ? `; ${Object.entries(r.facts)
        .map(([k, v]) => `${k}=${v}`)
        .join(", ")}`
    : "")

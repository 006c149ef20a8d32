/**
 * What `sluice projection show NAME` reports: the projection's checkpoint and lag, and its read
 * model's newest rows. Measured on the store (the command) or by a running `sluice run` (the admin
 * API's `GET /api/projections/:name`), and printed the same either way.
 */
import type { EventStore, Plugin, StoreError, SubscriptionStore } from "@sluice/core"
import { Console, Data, Effect, Option, Schema } from "effect"
import { describeError } from "./ErrorText.ts"
import type { ReadyProjection } from "./Projections.ts"
import * as SubscriberStatus from "./SubscriberStatus.ts"

/** The read model could not be rebuilt (its reset or an event failed) or read (never set up?). */
export class ReadModelError extends Data.TaggedError("ReadModelError")<{
  readonly projection: string
  readonly action: "rebuild" | "read"
  readonly reason: string
}> {
  override get message() {
    return this.action === "read"
      ? `projection ${this.projection}: cannot read its read model (has sluice run set it up yet?): ${this.reason}`
      : `projection ${this.projection}: rebuild failed (the checkpoint stays at the last batch that committed): ${this.reason}`
  }
}

/** The most rows per table `projection show` prints. */
export const maxShowLimit = 1000
/** The rows per table `projection show` prints without `--limit`. */
export const defaultShowLimit = 20

const ReadModelTable = Schema.Struct({
  name: Schema.String,
  rows: Schema.Array(Schema.Record(Schema.String, Schema.Unknown)),
  total: Schema.optionalKey(Schema.Number)
})

export const ProjectionReport = Schema.Struct({
  name: Schema.String,
  plugin: Schema.String,
  /** False when the plugin has no `show`: it shows no rows. */
  shows_rows: Schema.Boolean,
  subscription: SubscriberStatus.SubscriberStatus,
  tables: Schema.Array(ReadModelTable)
})
export type ProjectionReport = typeof ProjectionReport.Type

/** The report of `ready`, with at most `limit` rows per table. */
export const measure = (
  ready: ReadyProjection,
  limit: number
): Effect.Effect<ProjectionReport, ReadModelError | StoreError, EventStore | SubscriptionStore> =>
  Effect.gen(function* () {
    const subscription = yield* SubscriberStatus.measureOne(ready.name)
    const tables = Option.isNone(ready.show)
      ? []
      : yield* ready.show
          .value(limit)
          .pipe(
            Effect.mapError(
              (error) => new ReadModelError({ projection: ready.name, action: "read", reason: describeError(error) })
            )
          )
    return { name: ready.name, plugin: ready.plugin, shows_rows: Option.isSome(ready.show), subscription, tables }
  })

/** What a table's heading says it shows: all its rows, or some of how many. */
export const rowsHeading = (table: Plugin.ReadModelTable, limit: number): string => {
  const shown = table.rows.length
  if (table.total !== undefined && table.total > shown) return `showing ${shown} of ${table.total} rows`
  if (table.total !== undefined || shown < limit) return `all ${shown} row(s)`
  return `the first ${shown} row(s) (--limit ${limit}); there may be more`
}

/** Prints `report` as `projection show` does (`json`: `{ subscription, tables }`). */
export const print = (report: ProjectionReport, options: { readonly limit: number; readonly json: boolean }) =>
  Effect.gen(function* () {
    const { name, subscription: status, tables } = report
    if (options.json) return yield* Console.log(JSON.stringify({ subscription: status, tables }, null, 2))
    const at = status.checkpoint === null ? "no checkpoint yet" : `checkpoint ${status.checkpoint}`
    yield* Console.log(`${name}: ${at}, lag ${SubscriberStatus.lagText(status)} event(s)`)
    if (!report.shows_rows) yield* Console.log(`(the plugin ${report.plugin} shows no rows)`)
    for (const table of tables) {
      yield* Console.log(`${table.name} (${rowsHeading(table, options.limit)}):`)
      for (const row of table.rows) yield* Console.log(`  ${JSON.stringify(row)}`)
    }
  })

/**
 * The source: at every tick `fetch` returns one raw payload (here it only lists `items` with the
 * time of the tick; yours calls an API), which Sluice stores as it is, for audit; `transform` then
 * turns that payload into one `item.observed` event per item. Replace both with your API call and
 * its parsing. A fetch that fails as a whole fails with SourceError (`retryable: true` makes the
 * runner back off); a payload that cannot be read fails `transform` with TransformError (the payload
 * is kept with the reason).
 */
import {
  DurationText,
  type EventDraft,
  type FetchResult,
  type Source,
  TransformError,
  type TransformResult,
  toDuration
} from "@sluice/core"
import { Clock, DateTime, Effect, Schema } from "effect"

/** The source's options: what a sluice config file writes under `options`. */
export const ExampleSourceConfig = Schema.Struct({
  /** What to observe: one event per item at every tick. */
  items: Schema.Array(Schema.String.pipe(Schema.check(Schema.isNonEmpty()))).pipe(
    Schema.check(Schema.isMinLength(1, { expected: "at least one item" }))
  ),
  /** Time between ticks (a runner config's `schedule` wins). @default "1 minute" */
  pollInterval: Schema.optionalKey(DurationText)
})
export type ExampleSourceConfig = typeof ExampleSourceConfig.Type

/** The raw payload's body, as `fetch` writes it and `transform` reads it back. */
const Body = Schema.fromJsonString(Schema.Struct({ at: Schema.Number, items: Schema.Array(Schema.String) }))

/** Builds the source instance named `name` (part of every event id it makes: keep it stable). */
export const make = (config: ExampleSourceConfig, name: string): Effect.Effect<Source> =>
  Effect.sync(() => ({
    name,
    pollInterval: toDuration(config.pollInterval ?? "1 minute"),
    fetch: Effect.map(
      Clock.currentTimeMillis,
      (at): FetchResult => ({
        payloads: [
          {
            content_type: "application/json",
            body: JSON.stringify({ at, items: config.items }),
            request: { items: config.items }
          }
        ],
        failures: []
      })
    ),
    transform: (raw) =>
      Schema.decodeUnknownEffect(Body)(raw.body).pipe(
        Effect.mapError((error) => new TransformError({ reason: `unexpected payload: ${error.message}` })),
        Effect.map(
          (body): TransformResult => ({
            events: body.items.map(
              (item): EventDraft => ({
                event_type: "item.observed",
                entity_type: "item",
                entity_id: item,
                occurred_at: DateTime.makeUnsafe(body.at),
                payload: { item, at: body.at },
                // The same item at the same time is the same event: fetching it again adds nothing.
                natural_key: `${item}@${body.at}`
              })
            ),
            issues: []
          })
        )
      )
  }))

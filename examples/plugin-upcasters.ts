/**
 * A source plugin that declares its upcasters, as docs/writing-a-plugin.md shows it: `item.observed`
 * gained a field in version 2; the source now emits version 2, and the plugin's upcaster reads the
 * version 1 events it stored before at version 2. `plugin-upcasters.test.ts` tests it.
 */
import { type EventDraft, type Source, TransformError } from "@sluice/core"
import { DateTime, Effect, Schema } from "effect"

const Body = Schema.fromJsonString(Schema.Struct({ at: Schema.Number, items: Schema.Array(Schema.String) }))

/** A source reporting one `item.observed` event per item of each payload, at version 2. */
const make = (_config: unknown, name: string): Effect.Effect<Source> =>
  Effect.succeed({
    name,
    fetch: Effect.succeed({ payloads: [], failures: [] }),
    transform: (raw) =>
      Schema.decodeUnknownEffect(Body)(raw.body).pipe(
        Effect.mapError((error) => new TransformError({ reason: `unexpected payload: ${error.message}` })),
        Effect.map((body) => ({
          events: body.items.map(
            (item): EventDraft => ({
              event_type: "item.observed",
              entity_type: "item",
              entity_id: item,
              occurred_at: DateTime.makeUnsafe(body.at),
              schema_version: 2,
              payload: { item, at: body.at, seen_by: name },
              natural_key: `${item}@${body.at}`
            })
          ),
          issues: []
        }))
      )
  })

// #region plugin-upcasters
import { Plugin, Upcaster } from "@sluice/core"

// Version 1 had the item and the time; version 2 adds the source instance that saw it.
const ObservedV1 = Schema.Struct({ item: Schema.String, at: Schema.Number })
const ObservedV2 = Schema.Struct({ item: Schema.String, at: Schema.Number, seen_by: Schema.NullOr(Schema.String) })

export const ItemsPlugin = Plugin.define({
  name: "items",
  kind: "source",
  config: Schema.Struct({}),
  make, // its transform now emits `schema_version: 2`
  // Events stored at version 1 are read (and published on "latest" routes) at version 2.
  upcasters: [
    Upcaster.make({
      event_type: "item.observed",
      from: 1,
      source: ObservedV1,
      target: ObservedV2,
      upcast: (v1) => ({ ...v1, seen_by: null })
    })
  ]
})
// #endregion plugin-upcasters

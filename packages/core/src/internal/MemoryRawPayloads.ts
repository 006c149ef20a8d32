/**
 * The memory store's RawPayloadStore: reads its raw payloads map, and keeps resolutions in a map of
 * its own, written through the store's transactions (undone on rollback).
 */
import { DateTime, Effect } from "effect"
import type { RawPayload } from "../Event.ts"
import { RawPayloadStore, type StoredRaw } from "../RawPayloadStore.ts"
import { CurrentTransaction, write } from "./MemoryTransaction.ts"

export const make = (deps: {
  readonly raws: ReadonlyMap<string, RawPayload>
  readonly guarded: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  readonly now: Effect.Effect<DateTime.Utc>
}): RawPayloadStore["Service"] => {
  const resolved = new Map<string, DateTime.Utc>()
  return RawPayloadStore.of({
    readRaw: (page) =>
      deps.guarded(
        Effect.sync(() => {
          const since = page.since === undefined ? undefined : DateTime.toEpochMillis(page.since)
          const out: Array<StoredRaw> = []
          for (const raw of [...deps.raws.values()].sort((a, b) => (a.raw_id < b.raw_id ? -1 : 1))) {
            if (out.length >= page.limit) break
            if (page.source !== undefined && raw.source !== page.source) continue
            if (page.after !== undefined && raw.raw_id <= page.after) continue
            if (page.failed === true && (raw.transform_error === null || resolved.has(raw.raw_id))) continue
            if (since !== undefined && DateTime.toEpochMillis(raw.received_at) < since) continue
            out.push({ raw, resolved_at: resolved.get(raw.raw_id) ?? null })
          }
          return out as ReadonlyArray<StoredRaw>
        })
      ),
    resolve: (raw_id) =>
      deps.guarded(
        Effect.gen(function* () {
          if (resolved.has(raw_id)) return
          const at = yield* deps.now
          write(
            yield* CurrentTransaction,
            () => void resolved.set(raw_id, at),
            () => void resolved.delete(raw_id)
          )
        })
      )
  })
}

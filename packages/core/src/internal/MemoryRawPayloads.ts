/**
 * The memory store's RawPayloadStore: reads its raw payloads map, and keeps resolutions in a map of
 * its own, written through the store's transactions (undone on rollback).
 */
import { DateTime, Duration, Effect } from "effect"
import type { RawPayload } from "../Event.ts"
import { RawPayloadStore, type StoredRaw } from "../RawPayloadStore.ts"
import * as Retention from "../Retention.ts"
import { CurrentTransaction, write } from "./MemoryTransaction.ts"

export const make = (deps: {
  readonly raws: Map<string, RawPayload>
  /** The raw ids of events that have a pending outbox row. */
  readonly pendingRaws: () => ReadonlySet<string>
  readonly guarded: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  readonly now: Effect.Effect<DateTime.Utc>
}): RawPayloadStore["Service"] => {
  const resolved = new Map<string, DateTime.Utc>()

  // The raw payloads received before the policy's age, in id order.
  const expired = (policy: Retention.RawRetentionPolicy, at: DateTime.Utc) => {
    const cutoff = DateTime.toEpochMillis(at) - Duration.toMillis(policy.olderThan)
    return [...deps.raws.values()]
      .filter((raw) => DateTime.toEpochMillis(raw.received_at) < cutoff)
      .sort((a, b) => (a.raw_id < b.raw_id ? -1 : 1))
  }

  const pruneBatch = (policy: Retention.RawRetentionPolicy, limit: number) =>
    Effect.gen(function* () {
      const undoLog = yield* CurrentTransaction
      const pendingRaws = deps.pendingRaws()
      const batch = expired(policy, yield* deps.now)
        .filter((raw) => !pendingRaws.has(raw.raw_id))
        .slice(0, limit)
      for (const raw of batch) {
        const resolution = resolved.get(raw.raw_id)
        write(
          undoLog,
          () => {
            deps.raws.delete(raw.raw_id)
            resolved.delete(raw.raw_id)
          },
          () => {
            deps.raws.set(raw.raw_id, raw)
            if (resolution !== undefined) resolved.set(raw.raw_id, resolution)
          }
        )
      }
      return batch.length
    })

  const pruneRaw = (policy: Retention.RawRetentionPolicy) =>
    Effect.gen(function* () {
      const problem = Retention.checkRawPolicy(policy)
      if (problem !== undefined) return yield* problem
      const limit = policy.batchSize ?? Retention.defaultBatchSize
      const candidates = yield* deps.guarded(Effect.map(deps.now, (at) => expired(policy, at)))
      const pendingRaws = deps.pendingRaws()
      const held = candidates.filter((raw) => pendingRaws.has(raw.raw_id))
      if (held.length > 0)
        return yield* new Retention.RawPayloadsPendingError({
          rawPayloads: held.length,
          exampleRawId: held[0]!.raw_id
        })
      if (policy.dryRun === true) return { dryRun: true, deleted: candidates.length, batches: 0 }
      let deleted = 0
      let batches = 0
      for (;;) {
        const n = yield* deps.guarded(pruneBatch(policy, limit))
        deleted += n
        if (n > 0) batches++
        if (n < limit) break
      }
      return { dryRun: false, deleted, batches }
    })
  return RawPayloadStore.of({
    pruneRaw,
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

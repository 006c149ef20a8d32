/**
 * Where each subscriber (projection or subscription) stands: its checkpoint, how many events it is
 * behind the head of the log, and how old the oldest of those is. `sluice status`, the admin API's
 * `/api/status` and the `/metrics` gauges all read it here, when asked (no background polling).
 *
 * Lag is counted by reading the events after the checkpoint, at most `lagCap` of them (the store's
 * largest read): a subscriber further behind shows `lag_capped` ("10000+"). A caught-up subscriber
 * (checkpoint at the head) costs no read.
 */
import { type LoggedEvent, LogPosition, maxReadLimit, type StoreError, SubscriptionStore } from "@sluice/core"
import { Clock, DateTime, Effect, Metric, Schema } from "effect"

/** The most events counted behind one checkpoint. */
export const lagCap = maxReadLimit

export const SubscriberStatus = Schema.Struct({
  name: Schema.String,
  /** `transaction_id/position` of the last event handled; null before its first batch. */
  checkpoint: Schema.NullOr(Schema.String),
  /** When the checkpoint last moved (ISO-8601); null without one. */
  updated_at: Schema.NullOr(Schema.String),
  /** Events after the checkpoint, up to the head of the log (at most `lagCap`). */
  lag_events: Schema.Number,
  /** True when there are more than `lag_events` (the count stopped at `lagCap`). */
  lag_capped: Schema.Boolean,
  /** Seconds since the oldest unhandled event was recorded; null when none. */
  oldest_unprocessed_age_s: Schema.NullOr(Schema.Number)
})
export type SubscriberStatus = typeof SubscriberStatus.Type

const ageSeconds = (now: number, at: DateTime.Utc) => Math.max(0, Math.round((now - DateTime.toEpochMillis(at)) / 1000))

/**
 * Every subscriber with a checkpoint, and every name in `configured` (a projection of the config
 * that has not checkpointed yet), sorted by name.
 */
export const measure = (
  configured: ReadonlyArray<string> = []
): Effect.Effect<ReadonlyArray<SubscriberStatus>, StoreError, SubscriptionStore> =>
  Effect.map(measureWithPositions(configured), (all) => all.map((s) => s.status))

/** The subscriber `name` alone (lag counted for it only), whether or not it has a checkpoint. */
export const measureOne = (name: string): Effect.Effect<SubscriberStatus, StoreError, SubscriptionStore> =>
  Effect.map(measureWithPositions([name], true), ([one]) => one!.status)

/** `only`: the `configured` names alone, not every subscriber with a checkpoint. */
const measureWithPositions = (configured: ReadonlyArray<string>, only = false) =>
  Effect.gen(function* () {
    const store = yield* SubscriptionStore
    const checkpoints = new Map((yield* store.listCheckpoints).map((c) => [c.name, c]))
    const names = [...new Set([...(only ? [] : checkpoints.keys()), ...configured])].sort()
    if (names.length === 0) return []
    const head = yield* store.head
    const now = yield* Clock.currentTimeMillis
    // Subscribers at the same position (every configured one before its first checkpoint) share one read.
    const reads = new Map<string, ReadonlyArray<LoggedEvent>>()
    const eventsAfter = (from: LogPosition.LogPosition) => {
      const key = LogPosition.format(from)
      const read = reads.get(key)
      return read !== undefined
        ? Effect.succeed(read)
        : Effect.tap(store.readAll(from, lagCap), (events) => Effect.sync(() => reads.set(key, events)))
    }
    return yield* Effect.forEach(names, (name) =>
      Effect.gen(function* () {
        const checkpoint = checkpoints.get(name)
        const from: LogPosition.LogPosition = checkpoint?.position ?? LogPosition.start
        const behind = LogPosition.isAfter(head, from) ? yield* eventsAfter(from) : []
        const oldest = behind[0]
        const status: SubscriberStatus = {
          name,
          checkpoint: checkpoint === undefined ? null : LogPosition.format(checkpoint.position),
          updated_at: checkpoint === undefined ? null : DateTime.formatIso(checkpoint.updated_at),
          lag_events: behind.length,
          lag_capped: behind.length >= lagCap,
          oldest_unprocessed_age_s: oldest === undefined ? null : ageSeconds(now, oldest.recorded_at)
        }
        return { status, position: from.position }
      })
    )
  })

/** The lag as printed: `12`, or `10000+` when the count was capped. */
export const lagText = (s: SubscriberStatus): string => `${s.lag_events}${s.lag_capped ? "+" : ""}`

export const checkpointPosition = Metric.gauge("sluice_subscription_checkpoint_position", {
  description: "Global position of the last event a subscription (or projection) checkpointed (0 before its first)"
})
export const lagEvents = Metric.gauge("sluice_subscription_lag_events", {
  description: `Events after a subscription's checkpoint, up to the head of the log (counted up to ${lagCap})`
})
export const oldestUnprocessedAge = Metric.gauge("sluice_subscription_oldest_unprocessed_age_seconds", {
  description: "Age of the oldest event a subscription has not handled yet, in seconds (0 when caught up)"
})

/** An effect that sets the subscriber gauges (for `/metrics`, run at each scrape). */
export const refreshGauges = (configured: ReadonlyArray<string>): Effect.Effect<void, StoreError, SubscriptionStore> =>
  Effect.gen(function* () {
    for (const { status: s, position } of yield* measureWithPositions(configured)) {
      const attributes = { subscription: s.name }
      yield* Metric.update(Metric.withAttributes(checkpointPosition, attributes), position)
      yield* Metric.update(Metric.withAttributes(lagEvents, attributes), s.lag_events)
      yield* Metric.update(Metric.withAttributes(oldestUnprocessedAge, attributes), s.oldest_unprocessed_age_s ?? 0)
    }
  })

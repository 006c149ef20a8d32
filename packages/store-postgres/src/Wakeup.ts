/**
 * How a relay learns that there is work, without polling hard:
 * - local waiters are woken at once when this store instance commits new work;
 * - other processes are told with NOTIFY, rate-limited: on average at most one per `debounce`
 *   (a token bucket with a burst of BURST); work signalled while the limit holds gets one NOTIFY as
 *   soon as it allows. Each is started at once and not awaited (a slow NOTIFY must not hold up the
 *   next window), through the driver's pool (PgNotifications.notify) or else by a fiber of its
 *   own, outside any transaction and committed asynchronously: a NOTIFY inside each ingest
 *   transaction, or carried by the append statement, serializes commits and costs single-event
 *   ingest far more (bench/NOTES.md at the repository root has the numbers);
 * - LISTEN on the same channel (from the first wait on) wakes this instance's waiters when another
 *   process has work.
 * A signal that comes while nobody waits is kept for the next wait (core's WorkSignal). Relays still
 * poll (`waitForWork(maxWait)`), so a lost notification only costs latency.
 *
 * Two things are signalled: outbox work (relays) and committed events (subscriptions). An append
 * with outbox rows is both; one without is events only, and must not wake relays into an empty
 * claim. A NOTIFY says which in its payload (`<instance id>:<kinds>`); one covering several signals
 * carries the union of their kinds. A payload without kinds wakes both.
 */
import { WorkSignal } from "@sluice/core"
import { Clock, Duration, Effect, Scope } from "effect"
import type { SqlClient } from "effect/sql"
import { notifyStatement, type PgNotifications } from "./PgNotifications.ts"

/** Outbox rows may have become claimable. */
export const WORK = 1
/** Events committed. */
export const EVENTS = 2

export interface Wakeup {
  /**
   * Signals `kinds` (WORK, EVENTS or both, OR-ed): wakes local waiters now and schedules a
   * (debounced) NOTIFY.
   */
  readonly signal: (kinds: number) => Effect.Effect<void>
  /** Waits until outbox work is signalled or notified, or `maxWait` passes. */
  readonly wait: (maxWait: Duration.Duration) => Effect.Effect<void>
  /** A listener woken when events are signalled or notified, until the scope closes. */
  readonly listen: Effect.Effect<WorkSignal.Listener, never, Scope.Scope>
}

/** The kinds a NOTIFY payload names, or undefined for one of `self`'s own. */
export const kindsOf = (payload: string, self: string): number | undefined => {
  const colon = payload.lastIndexOf(":")
  const sender = colon === -1 ? payload : payload.slice(0, colon)
  if (sender === self) return undefined
  const kinds = colon === -1 ? Number.NaN : Number(payload.slice(colon + 1))
  return Number.isInteger(kinds) && kinds > 0 ? kinds : WORK | EVENTS
}

export interface WakeupOptions {
  readonly channel: string
  /** Send NOTIFY at all. */
  readonly notify: boolean
  /** Average gap between two NOTIFYs when work is dense (see BURST). */
  readonly debounce: Duration.Duration
}

/**
 * NOTIFYs that may start back to back before the rate limit applies: a catch-up after a stall (a
 * GC pause, a slow commit) sends its few NOTIFYs at once instead of spacing them a window apart.
 */
export const BURST = 4

/**
 * The default average gap between NOTIFYs: at most 250 a second. The limit has to sit clearly
 * above the steady rates whose latency matters: at a steady rate equal to the limit the bucket
 * refills exactly as fast as it is spent, so once one early signal empties it, it never recovers,
 * and from then on many NOTIFYs wait for part of a window (the bench's 200 events/s latency row
 * chose 4 ms with a burst of 4 over 5 ms with a burst of 2: bench/NOTES.md).
 */
export const defaultDebounce: Duration.Duration = Duration.millis(4)

/** Starts the NOTIFY sender and the LISTEN (when a listener port is given), both ending with the scope. */
export const make = (
  sql: SqlClient.SqlClient,
  notifications: PgNotifications["Service"] | undefined,
  options: WakeupOptions
): Effect.Effect<Wakeup, never, Scope.Scope> =>
  Effect.gen(function* () {
    const work = WorkSignal.make()
    // The timer a relay's last woken wait left (WorkSignal) stops with the store, not at its maxWait.
    yield* Effect.addFinalizer(() => work.close)
    const events = WorkSignal.makeBroadcast()
    const wakeLocal = (kinds: number) => {
      if ((kinds & WORK) !== 0) work.signal()
      if ((kinds & EVENTS) !== 0) events.signal()
    }
    // Each NOTIFY carries this instance's id, so that its own come back to it ignored: the local
    // signal already woke its waiters, and an echo arriving later would cost an empty claim.
    const self = crypto.randomUUID()
    const onNotify = (payload: string) => {
      const kinds = kindsOf(payload, self)
      if (kinds !== undefined) wakeLocal(kinds)
    }
    const window = Duration.toMillis(options.debounce)
    const scope = yield* Effect.scope
    // A token bucket: one NOTIFY per window on average, with a burst of BURST. A steady trickle
    // below that rate (give or take timer jitter) then never waits; denser work is coalesced to the
    // same average rate as a plain debounce.
    let tokens = BURST
    let refilledAt = Number.NEGATIVE_INFINITY
    const refill = (now: number) => {
      // A wall clock stepped back must not take tokens away.
      tokens = window <= 0 ? BURST : Math.min(BURST, tokens + Math.max(0, now - refilledAt) / window)
      refilledAt = now
    }
    // A NOTIFY is waiting for a token: every signal until it is sent is covered by it, and it
    // carries the kinds of all of them.
    let trailing = false
    let trailingKinds = 0
    const failed = (cause: unknown) => Effect.logDebug("sluice: NOTIFY failed; relays will poll", cause)
    // Started immediately (not on the scheduler's next turn), so a due NOTIFY leaves with no delay.
    const sendFrom = (effect: Effect.Effect<void>) => Effect.forkIn(effect, scope, { startImmediately: true })
    const context = yield* Effect.context<never>()
    const direct = notifications?.notify
    // Starts a NOTIFY and returns: through the driver when it can (PgNotifications.notify says
    // why), else as a statement in a fiber of its own. Fixed text (not the sql template, compiled
    // anew on every call): it runs right after every append.
    const send: (kinds: number) => Effect.Effect<void> =
      direct === undefined
        ? (kinds) =>
            sendFrom(
              sql
                .unsafe(notifyStatement, [options.channel, `${self}:${kinds}`])
                .pipe(Effect.catchCause(failed), Effect.asVoid)
            ).pipe(Effect.asVoid)
        : (kinds) =>
            Effect.sync(() =>
              direct(options.channel, `${self}:${kinds}`, (cause) => {
                Effect.runForkWith(context)(failed(cause))
              })
            )
    const notify = Effect.fnUntraced(function* (kinds: number) {
      if (trailing) {
        trailingKinds |= kinds
        return
      }
      refill(yield* Clock.currentTimeMillis)
      if (tokens >= 1) {
        tokens -= 1
        yield* send(kinds)
        return
      }
      trailing = true
      trailingKinds = kinds
      yield* sendFrom(
        Effect.gen(function* () {
          yield* Effect.sleep((1 - tokens) * window)
          const covered = trailingKinds
          trailing = false
          refill(yield* Clock.currentTimeMillis)
          tokens = Math.max(0, tokens - 1)
          yield* send(covered)
        })
      )
    })
    // LISTEN starts with the first wait, not with the store: a process that only ingests never
    // holds a listener connection nor spends CPU on notifications it would ignore. A notification
    // sent before that first LISTEN is covered by the caller's polling.
    const startListening =
      notifications === undefined
        ? Effect.void
        : yield* Effect.cached(
            notifications.listen(options.channel, onNotify).pipe(
              Scope.provide(scope),
              Effect.catchCause((cause) => Effect.logWarning("sluice: LISTEN failed; relays will poll", cause))
            )
          )
    return {
      signal: (kinds) =>
        options.notify
          ? Effect.andThen(
              Effect.sync(() => wakeLocal(kinds)),
              notify(kinds)
            )
          : Effect.sync(() => wakeLocal(kinds)),
      wait: (maxWait) => Effect.andThen(startListening, work.wait(maxWait)),
      listen: Effect.andThen(startListening, events.listen)
    }
  })

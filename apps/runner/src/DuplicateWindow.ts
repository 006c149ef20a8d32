/**
 * The start-time check of a receiver's duplicate window (a JetStream stream's): the relay may send
 * an event again long after its first send (a lost ack, then backoff; a crash, then the lease's
 * expiry), and a copy that arrives after the window is stored twice. The runner knows the relay's
 * settings and the transports know their windows: here both meet, and a route whose resends can
 * outlast its transport's window gets a warning naming the numbers and the fix.
 */
import { delayCeilingMs, type RetryPolicy, type Transport } from "@sluice/core"
import { Duration, Effect } from "effect"

export interface ResendSettings {
  readonly lease: Duration.Duration
  readonly publishTimeout: Duration.Duration
  readonly policy: RetryPolicy
}

/**
 * The longest time from an event's first send to its last resend: every attempt's publish timeout
 * and backoff ceiling, plus one lease (a worker that dies holding the row; the next claims it once
 * the lease expires).
 */
export const resendHorizon = (settings: ResendSettings): Duration.Duration => {
  let ms = Duration.toMillis(settings.lease)
  for (let attempt = 1; attempt < settings.policy.maxAttempts; attempt++) {
    ms += Duration.toMillis(settings.publishTimeout) + delayCeilingMs(settings.policy, attempt)
  }
  return Duration.millis(ms)
}

/** The warning for `route` when its resends can outlast `transport`'s duplicate window, else undefined. */
export const windowWarning = (route: string, transport: Transport, settings: ResendSettings): string | undefined => {
  const window = transport.duplicateWindow
  if (window === undefined) return undefined
  const horizon = resendHorizon(settings)
  if (Duration.isLessThanOrEqualTo(horizon, window)) return undefined
  return (
    `route ${route}: a resend can come ${Duration.format(horizon)} after the first send (lease, plus each retry's ` +
    `publish timeout and backoff), longer than the ${Duration.format(window)} duplicate window of transport ` +
    `${transport.name}: a resend after the window is stored twice. Lengthen the stream's duplicate window ` +
    `(ensureStream.duplicateWindow) or shorten relay.retry / relay.lease.`
  )
}

/** Logs a warning for each route whose resends can outlast its transport's duplicate window. */
export const warnAboutWindows = (
  routes: ReadonlyArray<{ readonly name: string; readonly transport: Transport }>,
  settings: ResendSettings
): Effect.Effect<void> =>
  Effect.forEach(routes, ({ name, transport }) => {
    const warning = windowWarning(name, transport, settings)
    return warning === undefined ? Effect.void : Effect.logWarning(warning)
  }).pipe(Effect.asVoid)

/**
 * One route's publish: hands the envelopes to the route's transport with a deadline, turns a
 * transport that breaks its contract or outlives the timeout into retryable outcomes, and tracks how
 * far the publish got (what an interruption must count as attempted).
 */
import { Cause, Clock, Duration, Effect, Metric } from "effect"
import * as Metrics from "../Metrics.ts"
import { type Envelope, type PublishContext, retryable } from "../Transport.ts"
import { Transports } from "../Transports.ts"
import { withAttemptSpans } from "./AttemptSpans.ts"

/** How far one route's publish got: what an interruption must count as attempted. */
export class Progress {
  handedOver = false
  reportsSending = false
  readonly sent = new Set<string>()
  readonly sending = (envelopes: ReadonlyArray<Envelope>) => {
    for (const envelope of envelopes) this.sent.add(envelope.outbox_id)
  }
  /** The envelopes that may have reached the receiver. */
  attempted(envelopes: ReadonlyArray<Envelope>): ReadonlyArray<Envelope> {
    if (!this.handedOver) return []
    return this.reportsSending ? envelopes.filter((e) => this.sent.has(e.outbox_id)) : envelopes
  }
}

/**
 * Publishes one route's rows. A transport that breaks its contract (dies, returns the wrong number
 * of outcomes) or outlives `timeout` yields retryable outcomes, never a crash. `progress` says
 * whether the transport got the envelopes, and which ones it sent if it reports that.
 *
 * A publish that sent nothing at all (every outcome `NotSent`: a publish timeout too short for even
 * one request, a transport that never starts) counts a retryable attempt per row, where a `NotSent`
 * among other outcomes releases its row with none: otherwise such rows would be claimed and released
 * forever instead of reaching the retry ceiling. This is the relay's rule, not the transport's.
 */
export const publishRoute = (
  transportName: string,
  envelopes: ReadonlyArray<Envelope>,
  timeout: Duration.Duration,
  progress: Progress
) => withAttemptSpans(envelopes, (spanOf) => publishTraced(transportName, envelopes, timeout, progress, spanOf))

const publishTraced = (
  transportName: string,
  envelopes: ReadonlyArray<Envelope>,
  timeout: Duration.Duration,
  progress: Progress,
  spanOf: PublishContext["spanOf"]
) =>
  Effect.gen(function* () {
    const transports = yield* Transports
    const transport = yield* transports.get(transportName)
    const start = yield* Clock.currentTimeMillis
    // The transport is told to be done a little earlier than the hard timeout, so that its own
    // outcomes (the deliveries among them) arrive before the timeout turns them all into retries.
    const millis = Duration.toMillis(timeout)
    const deadline = start + millis - Math.min(1000, Math.floor(millis / 10))
    progress.handedOver = true
    progress.reportsSending = transport.reportsSending === true
    const context: PublishContext =
      spanOf === undefined ? { deadline, sending: progress.sending } : { deadline, sending: progress.sending, spanOf }
    const outcomes = yield* transport.publish(envelopes, context).pipe(
      Effect.timeoutOrElse({
        duration: timeout,
        orElse: () =>
          Effect.succeed(
            envelopes.map(() => retryable(`publish took longer than ${Duration.format(timeout)} (the lease allows)`))
          )
      })
    )
    const took = (yield* Clock.currentTimeMillis) - start
    yield* Metric.update(Metrics.forRoute(Metrics.publishDuration, envelopes[0]?.route ?? ""), took / 1000)
    if (outcomes.length !== envelopes.length) {
      return envelopes.map(() =>
        retryable(`transport ${transportName} returned ${outcomes.length} outcomes for ${envelopes.length} envelopes`)
      )
    }
    // Nothing sent at all: counted as attempts (see above).
    if (outcomes.length > 0 && outcomes.every((o) => o._tag === "NotSent"))
      return outcomes.map((o) => retryable(`nothing was sent: ${o._tag === "NotSent" ? o.error : ""}`))
    return outcomes
  }).pipe(
    Effect.catchCause((cause) =>
      Cause.hasInterruptsOnly(cause)
        ? Effect.interrupt
        : Effect.succeed(envelopes.map(() => retryable(`transport ${transportName} failed: ${Cause.pretty(cause)}`)))
    )
  )

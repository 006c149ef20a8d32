/**
 * The NATS JetStream transport: publishes each envelope to the subject its route's template gives,
 * the canonical event JSON as data and the event id as `Nats-Msg-Id`, so the stream drops a copy it
 * has seen within its duplicate window. A batch is pipelined: up to `maxInFlight` publishes go out
 * at once and their acks are awaited together; each envelope's outcome is its own ack's (see
 * Outcome.ts). Exported as a Plugin.
 */
import { jetstreamManager } from "@nats-io/jetstream"
import {
  type Envelope,
  encodeEvent,
  Ids,
  notSent,
  Plugin,
  type PublishContext,
  type PublishOutcome,
  permanent,
  type Transport,
  toDuration
} from "@sluice/core"
import { Clock, Duration, Effect, type Scope } from "effect"
import { type Answer, makeAckInbox } from "./AckInbox.ts"
import { messageHeaders } from "./Headers.ts"
import { openConnection } from "./NatsConnection.ts"
import { NatsTransportConfig } from "./NatsTransportConfig.ts"
import { noStream, outcomeOfAnswer, outcomeOfThrown, streamUnavailable, unanswered } from "./Outcome.ts"
import { duplicateWindowOf, ensureStream } from "./StreamSetup.ts"
import { parse, render } from "./SubjectTemplate.ts"

/** The package name: the plugin's name, and the default instance name. */
const pluginName = "@sluice/transport-nats"

/** A transport that also tells how long its stream drops a repeated event id (see README). */
export interface NatsTransport extends Transport {
  /** The stream's duplicate window found at start; undefined when no stream was found then. */
  readonly duplicateWindow: Duration.Duration | undefined
}

/**
 * Builds a NATS transport named `name` from a decoded config: connects (for the scope's lifetime,
 * drained at its end), creates or updates `ensureStream`, and finds the duplicate window. Fails with
 * PluginStartError when no server answers or the stream cannot be set up.
 */
export const make = (
  config: NatsTransportConfig,
  name: string = pluginName
): Effect.Effect<NatsTransport, Plugin.PluginStartError, Scope.Scope> =>
  Effect.gen(function* () {
    const fail = (reason: string) => new Plugin.PluginStartError({ plugin: pluginName, instance: name, reason })
    const parsed = parse(config.subject)
    if ("problem" in parsed) return yield* fail(`subject: ${parsed.problem}`)
    const parts = parsed.parts
    const timeoutMs = Duration.toMillis(toDuration(config.publishTimeout))
    const nc = yield* openConnection(config, pluginName, name)
    const inbox = makeAckInbox(nc)
    const jsm = yield* Effect.tryPromise({
      try: () => jetstreamManager(nc, { checkAPI: false }),
      catch: (cause) => fail(`JetStream: ${String(cause)}`)
    })
    const sample = parts.map((part) => ("text" in part ? part.text : "sluice")).join("")
    const found =
      config.ensureStream === undefined
        ? yield* duplicateWindowOf(jsm, sample)
        : {
            stream: config.ensureStream.name,
            window: yield* ensureStream(jsm, config.ensureStream, parts, pluginName, name)
          }
    yield* Effect.logInfo("NATS transport connected").pipe(
      Effect.annotateLogs({
        transport: name,
        stream: found?.stream ?? "none found at start",
        duplicateWindow: found === undefined ? "unknown" : Duration.format(found.window)
      })
    )

    /** No responders on `subject`: Permanent when no stream captures it, else the stream is unavailable. */
    const noResponders = (subject: string, waitMs: number) =>
      Effect.promise(() =>
        jsm.streams.find(subject).then(
          (stream) => streamUnavailable(subject, stream),
          (error: unknown) =>
            error instanceof Error && error.name === "StreamNotFoundError"
              ? noStream(subject)
              : streamUnavailable(subject, undefined)
        )
      ).pipe(
        Effect.timeoutOption(Duration.millis(waitMs)),
        Effect.map((outcome) => (outcome._tag === "Some" ? outcome.value : streamUnavailable(subject, undefined)))
      )

    /** Publishes `envelopes[from, to)` at once and waits for their acks, at most `waitMs`. */
    const publishWindow = (
      envelopes: ReadonlyArray<Envelope>,
      from: number,
      to: number,
      waitMs: number,
      context: PublishContext,
      outcomes: Array<PublishOutcome | undefined>
    ) =>
      Effect.gen(function* () {
        const spanId = yield* Ids.nextSpanId
        const subjects = new Array<string>(to - from)
        const sending: Array<Envelope> = []
        for (let i = from; i < to; i++) {
          const rendered = render(parts, envelopes[i]!)
          if ("problem" in rendered) outcomes[i] = permanent(rendered.problem)
          else {
            subjects[i - from] = rendered.subject
            sending.push(envelopes[i]!)
          }
        }
        // Told to the relay before anything goes out: if a shutdown interrupts this publish, these
        // envelopes count a failed attempt (the stream may have them).
        context.sending(sending)
        const answers = new Array<Answer | undefined>(to - from)
        const tokens: Array<string> = []
        let allAnswered: () => void = () => {}
        const answered = new Promise<void>((resolve) => {
          allAnswered = resolve
        })
        let waiting = 0
        for (let i = from; i < to; i++) {
          const subject = subjects[i - from]
          if (subject === undefined) continue
          const envelope = envelopes[i]!
          const k = i - from
          waiting++
          try {
            const data = JSON.stringify(encodeEvent(envelope.event))
            const token = inbox.publish(subject, data, messageHeaders(envelope, spanId, config.msgId), (answer) => {
              answers[k] = answer
              if (--waiting === 0) allAnswered()
            })
            tokens.push(token)
          } catch (error) {
            waiting--
            outcomes[i] = outcomeOfThrown(error, subject)
          }
        }
        if (waiting === 0) allAnswered()
        // One bound for the whole window, a timer beside the answers' promise (an Effect timeout
        // costs fibers and scheduler hops that showed in commit-to-ack latency); the answers not in
        // by then are forgotten, interrupted ones too.
        yield* Effect.callback<void>((resume) => {
          const timer = setTimeout(() => resume(Effect.void), waitMs)
          void answered.then(() => {
            clearTimeout(timer)
            resume(Effect.void)
          })
          return Effect.sync(() => clearTimeout(timer))
        }).pipe(Effect.ensuring(Effect.sync(() => inbox.forget(tokens))))
        const cut = waitMs < timeoutMs
        const unavailable = new Map<string, Array<number>>()
        for (let i = from; i < to; i++) {
          const subject = subjects[i - from]
          if (subject === undefined || outcomes[i] !== undefined) continue
          const answer = answers[i - from]
          const outcome = answer === undefined ? unanswered(subject, waitMs, cut) : outcomeOfAnswer(answer, subject)
          if (outcome !== "NoResponders") outcomes[i] = outcome
          else unavailable.set(subject, [...(unavailable.get(subject) ?? []), i])
        }
        for (const [subject, indexes] of unavailable) {
          // Asked within what is left of the deadline: the publish still returns by it.
          const left = Math.min(timeoutMs, context.deadline - (yield* Clock.currentTimeMillis))
          const outcome = left > 0 ? yield* noResponders(subject, left) : streamUnavailable(subject, undefined)
          for (const i of indexes) outcomes[i] = outcome
        }
      })

    const publish = (
      envelopes: ReadonlyArray<Envelope>,
      context: PublishContext
    ): Effect.Effect<ReadonlyArray<PublishOutcome>> =>
      Effect.gen(function* () {
        const outcomes = new Array<PublishOutcome | undefined>(envelopes.length)
        for (let from = 0; from < envelopes.length; from += config.maxInFlight) {
          const to = Math.min(envelopes.length, from + config.maxInFlight)
          // Within the caller's deadline: what cannot start in time is not sent, and the wait for
          // acks ends at the deadline, so the outcomes of the others reach the relay.
          const waitMs = Math.min(timeoutMs, context.deadline - (yield* Clock.currentTimeMillis))
          if (waitMs <= 0) {
            for (let i = from; i < envelopes.length; i++) {
              outcomes[i] = notSent("the publish's deadline passed before this event was sent")
            }
            break
          }
          yield* publishWindow(envelopes, from, to, waitMs, context, outcomes)
        }
        return outcomes as ReadonlyArray<PublishOutcome>
      }).pipe(Effect.withSpan("sluice.transport.nats.publish", { attributes: { "sluice.events": envelopes.length } }))

    return { name, publish, reportsSending: true, duplicateWindow: found?.window }
  })

/**
 * The plugin: `NatsTransportPlugin.layer(config, instance)` decodes `config` (see
 * NatsTransportConfig) and registers the transport into `Transports`.
 */
export const NatsTransportPlugin = Plugin.define({
  name: pluginName,
  kind: "transport",
  config: NatsTransportConfig,
  make
})

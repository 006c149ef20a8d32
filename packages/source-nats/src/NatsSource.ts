/**
 * The JetStream source: a durable pull consumer feeding the ingest pipeline.
 *
 * A background fiber (the pump) connects, makes sure the durable consumer exists, and pulls
 * `batchSize` messages at a time into a bounded queue; a full queue stops the pulling
 * (backpressure: at most about `maxInFlight` messages held unacked). Each `fetch` (one ingest tick)
 * takes what is queued, up to `batchSize`, waiting at most `idleWait` for a first message; its
 * `acknowledge` acks them after the pipeline committed them, its `release` naks them when storing
 * failed. Closing the source's scope stops pulling and naks what it still holds: nothing
 * uncommitted is ever acked. The source is `pipelined`: a fetch may be taken while the previous
 * one is still being stored (core's ingest loop keeps their appends and acks in order).
 */

import {
  AckPolicy,
  type Consumer,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JsMsg,
  jetstream,
  jetstreamManager
} from "@nats-io/jetstream"
import type { NatsConnection } from "@nats-io/nats-core"
import { type FetchResult, type RawFetch, type Source, SourceError } from "@sluice/core"
import { Duration, Effect, Option, Queue, Ref, Schedule, type Scope } from "effect"
import { type NatsSourceConfig, type Settings, settings } from "./Config.ts"
import { NatsConnector } from "./NatsConnector.ts"
import { identity, type MessageRequest, transform } from "./Transform.ts"

const nanos = (duration: Duration.Duration): number => Duration.toMillis(duration) * 1_000_000

const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/** The raw payload of a message: its body, and what the transform and an audit need to know. */
export const toRawFetch = (message: JsMsg, consumer: string): RawFetch => {
  // Each `info` read parses the reply subject again: once here.
  const info = message.info
  const headers: Record<string, ReadonlyArray<string>> = {}
  for (const [key, values] of message.headers ?? []) headers[key] = values
  const msgId = message.headers?.get("Nats-Msg-Id")
  const id = identity(info.stream, message.seq, msgId === "" ? undefined : msgId)
  const request: MessageRequest = {
    stream: info.stream,
    consumer,
    subject: message.subject,
    seq: message.seq,
    id,
    timestamp: new Date(Math.floor(Number(info.timestampNanos) / 1_000_000)).toISOString(),
    headers,
    deliveries: info.deliveryCount
  }
  return {
    content_type: message.headers?.get("Content-Type") || "application/json",
    body: message.string(),
    request,
    key: id
  }
}

/** Makes sure the durable consumer exists (created as the config says, when allowed). */
const ensureConsumer = (nc: NatsConnection, config: NatsSourceConfig, set: Settings) =>
  Effect.tryPromise({
    try: async (): Promise<Consumer> => {
      const jsm = await jetstreamManager(nc)
      try {
        await jsm.consumers.info(config.stream, config.consumer)
      } catch (error) {
        if (
          !(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound) ||
          !set.createConsumer
        )
          throw error
        await jsm.consumers.add(config.stream, {
          durable_name: config.consumer,
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          ack_wait: nanos(set.ackWait),
          max_ack_pending: set.maxAckPending,
          ...(config.filterSubject === undefined ? {} : { filter_subject: config.filterSubject })
        })
      }
      return jetstream(nc).consumers.get(config.stream, config.consumer)
    },
    catch: (error) => `consumer ${config.stream}/${config.consumer}: ${reason(error)}`
  })

/** Everything the pump and the fetches share. */
interface State {
  readonly config: NatsSourceConfig
  readonly instance: string
  readonly set: Settings
  readonly connector: NatsConnector
  readonly queue: Queue.Queue<JsMsg>
  /** The connection, once made (the client keeps it up from then on). */
  readonly connection: Ref.Ref<Option.Option<NatsConnection>>
  /** Why pulling fails right now, if it does: a fetch that finds nothing reports it. */
  readonly problem: Ref.Ref<Option.Option<string>>
}

const connect = (state: State): Effect.Effect<NatsConnection, string> =>
  Effect.flatMap(Ref.get(state.connection), (existing) =>
    Option.isSome(existing)
      ? Effect.succeed(existing.value)
      : Effect.tryPromise({
          try: () =>
            state.connector.connect({
              servers: state.config.servers ?? ["nats://127.0.0.1:4222"],
              name: state.config.name ?? state.instance,
              ...(state.config.auth === undefined ? {} : { auth: state.config.auth }),
              ...(state.config.tls === undefined ? {} : { tls: state.config.tls })
            }),
          catch: (error) => `cannot connect to NATS: ${reason(error)}`
        }).pipe(Effect.tap((nc) => Ref.set(state.connection, Option.some(nc))))
  )

/**
 * Moves a pull's messages into the queue as they arrive, in one promise for as long as the queue
 * has room (not an Effect and a fiber resumption per message): returns the message that found the
 * queue full, for the pump to offer once there is room, or undefined when the pull is over. A
 * message that arrives after the pump was interrupted is naked: it was never queued, so nothing
 * will store it, and JetStream delivers it again at once.
 */
export const moveMessages = async (
  iterator: AsyncIterator<JsMsg>,
  queue: Queue.Queue<JsMsg>,
  signal: AbortSignal
): Promise<JsMsg | undefined> => {
  while (true) {
    const next = await iterator.next()
    if (next.done === true) return undefined
    if (signal.aborted) {
      next.value.nak()
      return undefined
    }
    if (!Queue.offerUnsafe(queue, next.value)) return next.value
  }
}

/**
 * Connects, then pulls batches into the queue until interrupted. A failure (server unreachable,
 * bad credentials, no such stream) is recorded, logged and tried again with a capped backoff:
 * never a crash, and the client's own reconnects cover a broker that restarts.
 */
const pump = (state: State) => {
  const { config, set } = state
  const where = `${config.stream}/${config.consumer}`
  return Effect.gen(function* () {
    const nc = yield* connect(state)
    const consumer = yield* ensureConsumer(nc, config, set)
    yield* Ref.set(state.problem, Option.none())
    while (true) {
      const messages = yield* Effect.tryPromise({
        try: () => consumer.fetch({ max_messages: set.batchSize, expires: 30_000 }),
        catch: (error) => `pull from ${where}: ${reason(error)}`
      })
      const iterator = messages[Symbol.asyncIterator]()
      yield* Effect.gen(function* () {
        while (true) {
          const full = yield* Effect.tryPromise({
            try: (signal) => moveMessages(iterator, state.queue, signal),
            catch: (error) => `pull from ${where}: ${reason(error)}`
          })
          if (full === undefined) return
          yield* Queue.offer(state.queue, full)
        }
      }).pipe(Effect.ensuring(Effect.sync(() => messages.stop())))
    }
  }).pipe(
    Effect.tapError((error) =>
      Effect.andThen(
        Ref.set(state.problem, Option.some(error)),
        Effect.logWarning("NATS source: pulling failed, trying again").pipe(
          Effect.annotateLogs({ source: state.instance, error })
        )
      )
    ),
    Effect.retry(Schedule.min([Schedule.exponential("200 millis"), Schedule.spaced("10 seconds")])),
    Effect.ignore
  )
}

/**
 * Builds the source named `instance`, connecting through the `NatsConnector` reference (@default
 * TCP via `@nats-io/transport-node`). The connection is made by a background fiber in the current
 * scope (a broker down at start delays ingest, it does not fail the runner); closing the scope stops
 * pulling, naks what was pulled but not stored, and closes the connection.
 */
export const make = (config: NatsSourceConfig, instance: string): Effect.Effect<Source, never, Scope.Scope> =>
  Effect.gen(function* () {
    return yield* makeWith(config, instance, yield* NatsConnector)
  })

const makeWith = (
  config: NatsSourceConfig,
  instance: string,
  connector: NatsConnector
): Effect.Effect<Source, never, Scope.Scope> =>
  Effect.gen(function* () {
    const set = settings(config)
    const state: State = {
      config,
      instance,
      set,
      connector,
      // Outside the queue: the pull in flight, the fetch being appended and the next one (pipelined).
      queue: yield* Queue.bounded<JsMsg>(Math.max(1, set.maxInFlight - 3 * set.batchSize)),
      connection: yield* Ref.make<Option.Option<NatsConnection>>(Option.none()),
      problem: yield* Ref.make<Option.Option<string>>(Option.none())
    }
    // Finalizers run in reverse: the pump stops, the held messages are naked, then the connection closes.
    yield* Effect.addFinalizer(() =>
      Effect.flatMap(Ref.get(state.connection), (nc) =>
        Option.isSome(nc) ? Effect.promise(() => nc.value.close().catch(() => undefined)) : Effect.void
      )
    )
    yield* Effect.addFinalizer(() =>
      Effect.flatMap(Queue.clear(state.queue), (held) =>
        Effect.promise(async () => {
          const nc = Option.getOrUndefined(Ref.getUnsafe(state.connection))
          for (const message of held) message.nak()
          // Sent before the connection closes (close does not wait for them).
          await nc?.flush().catch(() => undefined)
        })
      )
    )
    yield* Effect.forkScoped(pump(state))
    const { queue, problem } = state

    const settle = (batch: ReadonlyArray<JsMsg>, how: "ack" | "nak") =>
      Effect.tryPromise({
        try: async () => {
          for (const message of batch) how === "ack" ? message.ack() : message.nak()
          // The acks are on their way to the server before the tick reports success.
          const nc = Option.getOrUndefined(Ref.getUnsafe(state.connection))
          if (nc !== undefined) await nc.flush()
        },
        catch: (error) => new SourceError({ source: instance, reason: `${how}: ${reason(error)}`, retryable: true })
      })

    const fetch: Effect.Effect<FetchResult, SourceError> = Effect.gen(function* () {
      const taken = yield* Queue.takeBetween(queue, 1, set.batchSize).pipe(Effect.timeoutOption(set.idleWait))
      if (Option.isNone(taken)) {
        const failing = yield* Ref.get(problem)
        if (Option.isSome(failing))
          return yield* new SourceError({ source: instance, reason: failing.value, retryable: true })
        return { payloads: [], failures: [] }
      }
      const batch = taken.value
      return {
        payloads: batch.map((message) => toRawFetch(message, config.consumer)),
        failures: [],
        acknowledge: settle(batch, "ack"),
        release: Effect.ignore(settle(batch, "nak"))
      }
    })

    return {
      name: instance,
      fetch,
      transform: transform(config.mapping),
      // Each tick waits for messages itself (up to idleWait): the next one may start at once.
      pollInterval: Duration.millis(1),
      // Fetches take from the queue, so the next may be taken while the previous one is stored.
      pipelined: true
    }
  })

/**
 * Test helpers: a connection to the shared JetStream (127.0.0.1:4222, or NATS_URL), unique names,
 * and a fake stream (a plain subscriber answering publishes as JetStream would) for the cases that
 * steer the answers.
 */
import { type JetStreamManager, jetstreamManager, StorageType } from "@nats-io/jetstream"
import type { Msg, NatsConnection } from "@nats-io/nats-core"
import { connect } from "@nats-io/transport-node"
import { Effect, type Scope } from "effect"

export const natsUrl = process.env.NATS_URL ?? "nats://127.0.0.1:4222"

let counter = 0
/** A name no other test (nor a concurrent run) uses: letters and digits only, valid as a token and a stream. */
export const uniqueName = (prefix: string): string => `${prefix}${process.pid}x${Date.now().toString(36)}x${++counter}`

/** A connection for the test's scope. */
export const testConnection = (url = natsUrl): Effect.Effect<NatsConnection, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => connect({ servers: url })),
    (nc) => Effect.promise(() => nc.close())
  )

/** A JetStream manager whose streams made through `stream` are deleted with the scope. */
export const testStreams = (nc: NatsConnection) =>
  Effect.gen(function* () {
    const jsm = yield* Effect.promise(() => jetstreamManager(nc))
    const created: Array<string> = []
    yield* Effect.addFinalizer(() =>
      Effect.promise(() => Promise.all(created.map((name) => jsm.streams.delete(name).catch(() => false))))
    )
    return {
      jsm,
      /** Creates a memory stream capturing `subjects`. */
      stream: (name: string, subjects: ReadonlyArray<string>, duplicateWindowMs = 120_000) =>
        Effect.promise(() =>
          jsm.streams.add({
            name,
            subjects: [...subjects],
            storage: StorageType.Memory,
            duplicate_window: duplicateWindowMs * 1_000_000
          })
        ).pipe(Effect.tap(() => Effect.sync(() => created.push(name)))),
      /** Deletes a stream created elsewhere (by the transport's ensureStream) with the scope. */
      track: (name: string) => Effect.sync(() => void created.push(name))
    } satisfies { jsm: JetStreamManager } & Record<string, unknown>
  })

/** A JetStream error answer, as the server sends it. */
export const apiError = (code: number, errCode: number, description: string) =>
  JSON.stringify({ error: { code, err_code: errCode, description } })

/** Answers every request on `subject` with `answer(msg)` (a fake stream), for the scope's lifetime. */
export const fakeStream = (nc: NatsConnection, subject: string, answer: (msg: Msg) => void) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const sub = nc.subscribe(subject, { callback: (_error, msg) => answer(msg) })
      await nc.flush()
      return sub
    }),
    (sub) => Effect.sync(() => sub.unsubscribe())
  )

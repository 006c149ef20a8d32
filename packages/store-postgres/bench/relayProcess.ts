/**
 * One relay process for relayProcesses.ts: `Relay.start` at the runner's defaults on the schema it
 * is given (RELAY_PROCESS, JSON), delivering to a no-op transport that counts what it sees. Started
 * with `fork`, it says "ready" once its store is built and its connections open, starts the relay on
 * "go", reports how many rows its transport has seen after every batch, and on "stop" stops the
 * relay gracefully (the last results recorded), sends its final count and exits.
 */
import { delivered, OutboxQueue, Relay, Transports } from "@sluice/core"
import { Context, Deferred, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { PgEventStore } from "../src/index.ts"
import type { RelayProcess, RelayProcessMessage, ToRelayProcess } from "./relayProcesses.ts"
import { route, runnerRelayDefaults, WARM } from "./scenarios.ts"

const config = JSON.parse(process.env.RELAY_PROCESS ?? "null") as RelayProcess
const send = (message: RelayProcessMessage) => process.send?.(message)
const next = (type: ToRelayProcess["type"]) =>
  Effect.callback<void>((resume) => {
    const listener = (message: ToRelayProcess) => {
      if (message.type !== type) return
      process.off("message", listener)
      resume(Effect.void)
    }
    process.on("message", listener)
  })

let seen = 0
const counting = Transports.layerOf({
  name: "noop",
  publish: (envs) =>
    Effect.sync(() => {
      seen += envs.length
      send({ type: "progress", seen })
      return envs.map(() => delivered)
    })
})

const program = Effect.gen(function* () {
  const context = yield* Layer.build(PgEventStore.layer({ url: config.url, schema: config.schema, migrate: false }))
  const sql = Context.get(context, SqlClient.SqlClient)
  yield* Effect.all(
    Array.from({ length: config.workers }, () => sql.unsafe(WARM)),
    { concurrency: "unbounded" }
  )
  const go = yield* Deferred.make<void>()
  yield* Effect.forkScoped(Effect.andThen(next("go"), Deferred.succeed(go, undefined)))
  send({ type: "ready" })
  yield* Deferred.await(go)
  const relay = yield* Relay.start({
    routes: [route],
    ...runnerRelayDefaults,
    workers: config.workers,
    owner: `bench/${process.pid}`
  }).pipe(Effect.provideService(OutboxQueue, Context.get(context, OutboxQueue)), Effect.provide(counting))
  yield* next("stop")
  yield* relay.stop
  send({ type: "stopped", seen })
})

await Effect.runPromise(Effect.scoped(program))
process.disconnect()

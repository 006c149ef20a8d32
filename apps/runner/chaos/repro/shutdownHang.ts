/**
 * Minimal reproduction (found by the chaos scenario half-open-listen): when the LISTEN connection
 * is half-open (its traffic silently dropped), closing the PostgreSQL store never finishes, so
 * `sluice run` hangs forever on SIGTERM instead of exiting 0. The store's release of the LISTEN
 * (`request.unlisten()`) waits, without a bound, for an answer that cannot come.
 *
 *   node apps/runner/chaos/repro/shutdownHang.ts     # prints "closed" when fixed
 */
import { OutboxQueue } from "@sluice/core"
import { PgEventStore } from "@sluice/store-postgres"
import { Duration, Effect, Exit, Layer, Scope } from "effect"
import { startPrivatePg } from "../../test/chaos/lib/privatePg.ts"
import { startProxy } from "../../test/chaos/lib/proxy.ts"

const pg = await startPrivatePg()
const proxy = await startProxy(pg.port)
const scope = Effect.runSync(Scope.make())
const store = await Effect.runPromise(
  Effect.gen(function* () {
    const layer = PgEventStore.layer({ url: `postgres://postgres@127.0.0.1:${proxy.port}/postgres`, schema: "repro" })
    const context = yield* Layer.buildWithScope(layer, scope)
    return context.mapUnsafe.get(OutboxQueue.key) as OutboxQueue["Service"]
  })
)
await Effect.runPromise(store.waitForWork(Duration.millis(200))) // starts the LISTEN
await new Promise((resolve) => setTimeout(resolve, 300))
proxy.blackhole() // the LISTEN connection goes half-open
const closing = Effect.runPromise(Scope.close(scope, Exit.void)).then(() => "closed")
const bound = new Promise<string>((resolve) => setTimeout(() => resolve("still closing after 10 s (the bug)"), 10_000))
const result = await Promise.race([closing, bound])
console.log(result)
await proxy.close()
await pg.destroy()
process.exit(result === "closed" ? 0 : 1)

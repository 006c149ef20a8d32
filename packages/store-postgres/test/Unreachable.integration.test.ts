/**
 * A server that accepts connections and never answers (as a host that drops packets looks to
 * postgres.js, which would keep statements queued for good): opening the pool fails after
 * `connectTimeout`, naming the address, and the pool closes.
 */
import { createServer, type Socket } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer } from "effect"
import { PostgresJs } from "../src/index.ts"

const silentServer = Effect.acquireRelease(
  Effect.promise(async () => {
    const sockets: Array<Socket> = []
    const server = createServer((socket) => sockets.push(socket))
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const address = server.address()
    return { server, sockets, port: typeof address === "object" && address !== null ? address.port : 0 }
  }),
  ({ server, sockets }) =>
    Effect.promise(() => {
      for (const socket of sockets) socket.destroy()
      return new Promise((resolve) => server.close(resolve))
    })
)

describe("PostgresJs.layer on a server that never answers", () => {
  it.live("fails to open after connectTimeout, naming the address", () =>
    Effect.gen(function* () {
      const { port } = yield* silentServer
      const url = `postgres://postgres:secret@127.0.0.1:${port}/sluice`
      const exit = yield* Effect.exit(Effect.scoped(Layer.build(PostgresJs.layer({ url, connectTimeout: 1 }))))
      assert.isTrue(Exit.isFailure(exit))
      const text = Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""
      assert.include(text, `no answer from PostgreSQL at 127.0.0.1:${port} within 1s`)
      assert.notInclude(text, "secret")
    }).pipe(Effect.scoped)
  )
})

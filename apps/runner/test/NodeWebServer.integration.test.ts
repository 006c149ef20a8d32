/**
 * The HttpServer the admin API runs on (node:http through web Request/Response): what a request
 * carries in and out, a client that goes away, and closing with a request in flight.
 */
import { connect } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, type Duration, Effect, Exit, Fiber, Layer, Scope } from "effect"
import { HttpRouter, HttpServer, type HttpServerRequest, HttpServerResponse } from "effect/http"
import * as NodeWebServer from "../src/NodeWebServer.ts"
import { send } from "./support/http.ts"

/** Serves `routes` on a free loopback port in a scope of its own; returns the port and the scope. */
const serve = (
  routes: Layer.Layer<never, never, HttpRouter.HttpRouter>,
  gracefulShutdownTimeout: Duration.Input = "5 seconds"
) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const server = yield* Layer.buildWithScope(
      NodeWebServer.layer({ host: "127.0.0.1", port: 0, gracefulShutdownTimeout }),
      scope
    )
    const { address } = yield* HttpServer.HttpServer.pipe(Effect.provideContext(server))
    yield* Layer.buildWithScope(
      HttpRouter.serve(routes, { disableLogger: true, disableListenLog: true }).pipe(
        Layer.provide(Layer.succeedContext(server))
      ),
      scope
    )
    return { port: "port" in address ? address.port : 0, scope }
  })

/** Sends raw bytes and resolves with everything the server answers until it closes. */
const raw = (port: number, text: string) =>
  new Promise<string>((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.end(text))
    const chunks: Array<Buffer> = []
    socket.on("data", (chunk: Buffer) => chunks.push(chunk))
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("utf8")))
    socket.on("error", reject)
  })

/** A GET's status, or the code of the error that stopped it (ECONNREFUSED, ECONNRESET). */
const attempt = (port: number, path = "/") =>
  Effect.promise(() =>
    send(port, { path }).then(
      (answer) => String(answer.status),
      (error: NodeJS.ErrnoException) => error.code ?? String(error)
    )
  )

describe("NodeWebServer", () => {
  it.live("passes the method, path, query, headers and body in, and the status, headers and body out", () =>
    Effect.gen(function* () {
      const routes = HttpRouter.add("*", "*", (request: HttpServerRequest.HttpServerRequest) =>
        Effect.map(Effect.orDie(request.text), (body) =>
          HttpServerResponse.jsonUnsafe(
            {
              method: request.method,
              url: request.url,
              host: request.headers.host,
              token: request.headers["x-token"],
              body
            },
            { status: 201, headers: { "x-answer": "yes" } }
          ).pipe(HttpServerResponse.setCookieUnsafe("a", "1"), HttpServerResponse.setCookieUnsafe("b", "2"))
        )
      )
      const { port, scope } = yield* serve(routes)
      const answer = yield* Effect.promise(() =>
        send(port, {
          method: "POST",
          path: "/api/x?limit=3",
          headers: { "x-token": "t", "content-type": "text/plain" },
          body: "hello"
        })
      )
      assert.strictEqual(answer.status, 201)
      assert.strictEqual(answer.headers["x-answer"], "yes")
      assert.deepStrictEqual(answer.headers["set-cookie"], ["a=1", "b=2"])
      assert.deepStrictEqual(JSON.parse(answer.body), {
        method: "POST",
        url: "/api/x?limit=3",
        host: `127.0.0.1:${port}`,
        token: "t",
        body: "hello"
      })
      // A request target that is not a path (absolute form) is refused, not resolved against another host.
      const absolute = yield* Effect.promise(() =>
        raw(port, "GET http://elsewhere.example/api HTTP/1.1\r\nHost: elsewhere.example\r\nConnection: close\r\n\r\n")
      )
      assert.match(absolute, /^HTTP\/1\.1 400 /)
      yield* Scope.close(scope, Exit.void)
    })
  )

  it.live("a client that goes away interrupts its request", () =>
    Effect.gen(function* () {
      const started = yield* Deferred.make<void>()
      const interrupted = yield* Deferred.make<void>()
      const routes = HttpRouter.add("GET", "/slow", () =>
        Deferred.succeed(started, undefined).pipe(
          Effect.andThen(Effect.never),
          Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined))
        )
      )
      const { port, scope } = yield* serve(routes)
      const socket = connect(port, "127.0.0.1", () => socket.write("GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
      socket.on("error", () => {})
      yield* Deferred.await(started)
      socket.destroy()
      yield* Deferred.await(interrupted)
      yield* Scope.close(scope, Exit.void)
    })
  )

  it.live("closing lets a request in flight finish, then stops listening", () =>
    Effect.gen(function* () {
      const started = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const routes = HttpRouter.add("GET", "/slow", () =>
        Deferred.succeed(started, undefined).pipe(
          Effect.andThen(Deferred.await(release)),
          Effect.as(HttpServerResponse.text("done"))
        )
      )
      const { port, scope } = yield* serve(routes, "30 seconds")
      const answer = send(port, { path: "/slow" })
      yield* Deferred.await(started)
      const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
      // Closing has begun once new connections are refused; the request in flight is still waiting.
      while ((yield* attempt(port)) !== "ECONNREFUSED") yield* Effect.yieldNow
      yield* Deferred.succeed(release, undefined)
      const { status, body } = yield* Effect.promise(() => answer)
      assert.deepStrictEqual({ status, body }, { status: 200, body: "done" })
      yield* Fiber.join(closing)
    })
  )

  it.live("closing does not wait past the grace period for a request that never ends", () =>
    Effect.gen(function* () {
      const started = yield* Deferred.make<void>()
      const routes = HttpRouter.add("GET", "/stuck", () =>
        Deferred.succeed(started, undefined).pipe(Effect.andThen(Effect.never))
      )
      const { port, scope } = yield* serve(routes, "100 millis")
      const answer = yield* Effect.forkChild(attempt(port, "/stuck"))
      yield* Deferred.await(started)
      yield* Scope.close(scope, Exit.void)
      assert.strictEqual(yield* Fiber.join(answer), "ECONNRESET")
    })
  )
})

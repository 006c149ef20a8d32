/**
 * An Effect `HttpServer` on Node's `node:http`, through web `Request`/`Response` (Effect's web
 * handler). The admin API needs no more: small JSON requests and answers, no upgrades, no HTTP/2.
 * `@effect/platform-node`'s server does more, but that package brings `redis` (a peer npm installs,
 * 16 MB) and `undici` into every install of the runner.
 *
 * Each request runs as its own fiber; a client that goes away interrupts it. Closing the scope stops
 * accepting connections, waits up to `gracefulShutdownTimeout` for requests in flight, then closes
 * every connection.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Data, Duration, Effect, Layer, type Scope } from "effect"
import { HttpEffect, HttpServer, type HttpServerRequest } from "effect/http"
import { NetAddress } from "effect/net"

/** Listening failed (port in use, no permission, unknown host): `cause` is Node's error. */
export class ListenError extends Data.TaggedError("ListenError")<{ readonly cause: unknown }> {}

export interface Options {
  readonly host: string
  readonly port: number
  /** How long closing waits for requests in flight before closing their connections. @default 2 seconds */
  readonly gracefulShutdownTimeout?: Duration.Input
}

type WebHandler = (request: Request) => Promise<Response>

/**
 * The request body as a web stream fed by the message's `data` events, paused while the stream is
 * full: what `Readable.toWeb` gives, with less machinery per request.
 */
export const bodyOf = (incoming: IncomingMessage): ReadableStream<Uint8Array> => {
  let open = true
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        incoming.on("data", (chunk: Buffer) => {
          if (!open) return
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
          if ((controller.desiredSize ?? 1) <= 0) incoming.pause()
        })
        incoming.once("end", () => {
          if (open) controller.close()
          open = false
        })
        incoming.once("error", (error) => {
          if (open) controller.error(error)
          open = false
        })
      },
      pull() {
        incoming.resume()
      },
      // The rest is read and dropped: a socket closed with unread bytes is reset, and the client
      // would see the reset instead of the answer (413, sent with Connection: close).
      cancel() {
        open = false
        incoming.resume()
      }
    },
    { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength }
  )
}

const toWebRequest = (incoming: IncomingMessage, signal: AbortSignal): Request => {
  const headers = new Headers()
  const raw = incoming.rawHeaders
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!)
  const method = incoming.method ?? "GET"
  const hasBody = method !== "GET" && method !== "HEAD"
  // The origin is a placeholder: the routes read the path, and the Host header where it matters.
  return new Request(`http://server${incoming.url ?? "/"}`, {
    method,
    headers,
    signal,
    ...(hasBody ? { body: bodyOf(incoming), duplex: "half" } : {})
  })
}

const send = async (response: Response, outgoing: ServerResponse) => {
  const body = Buffer.from(await response.arrayBuffer())
  const headers: Record<string, string | Array<string>> = {}
  for (const [name, value] of response.headers) if (name !== "set-cookie") headers[name] = value
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) headers["set-cookie"] = cookies
  outgoing.writeHead(response.status, headers)
  outgoing.end(body)
}

const answer = (outgoing: ServerResponse, status: number, text: string) => {
  if (outgoing.headersSent) return outgoing.destroy()
  outgoing.writeHead(status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" })
  outgoing.end(text)
}

/**
 * Listens on `options.host:port` for the life of the scope; requests go to the handler `setHandler`
 * last set (503 while none is). Returns the bound address.
 */
export const listen = (options: Options) =>
  Effect.gen(function* () {
    let handler: WebHandler | undefined
    const server = createServer((incoming, outgoing) => {
      incoming.on("error", () => {})
      // Nothing served yet (or any more): say so rather than hold the connection.
      if (handler === undefined) return answer(outgoing, 503, "service unavailable")
      if (!(incoming.url ?? "").startsWith("/")) return answer(outgoing, 400, "bad request target")
      const abort = new AbortController()
      outgoing.on("close", () => {
        if (!outgoing.writableEnded) abort.abort()
      })
      handler(toWebRequest(incoming, abort.signal))
        .then((response) => send(response, outgoing))
        .catch(() => answer(outgoing, 500, "internal server error"))
    })
    yield* Effect.acquireRelease(
      Effect.callback<void, ListenError>((resume) => {
        const onError = (cause: unknown) => resume(Effect.fail(new ListenError({ cause })))
        server.once("error", onError)
        server.listen({ host: options.host, port: options.port }, () => {
          server.off("error", onError)
          resume(Effect.void)
        })
      }),
      () =>
        Effect.callback<void>((resume) => {
          server.close(() => resume(Effect.void))
          server.closeIdleConnections()
        }).pipe(
          Effect.timeoutOrElse({
            duration: options.gracefulShutdownTimeout ?? Duration.seconds(2),
            orElse: () => Effect.sync(() => server.closeAllConnections())
          })
        )
    )
    const bound = server.address() as AddressInfo
    const address = yield* Effect.fromResult(NetAddress.inetAddressFromIpString(bound.address, bound.port)).pipe(
      Effect.mapError((cause) => new ListenError({ cause }))
    )
    return {
      address,
      setHandler: (next: WebHandler | undefined) => {
        handler = next
      }
    }
  })

/** Serves a Web-standard handler (a push source's) on `options.host:port` for the life of the scope. */
export const serveWeb = (options: Options, handler: WebHandler) =>
  Effect.map(listen(options), ({ address, setHandler }) => {
    setHandler(handler)
    return address
  })

/** Listens on `options.host:port` for the life of the scope and serves what `HttpServer.serve` gives it. */
export const make = (options: Options) =>
  Effect.gen(function* () {
    const { address, setHandler } = yield* listen(options)
    return HttpServer.make({
      address,
      serve: (httpEffect, middleware) =>
        Effect.gen(function* () {
          const context = yield* Effect.context<never>()
          const web = HttpEffect.toWebHandlerWith<never, HttpServerRequest.HttpServerRequest | Scope.Scope>(context)(
            httpEffect,
            middleware
          )
          yield* Effect.acquireRelease(
            Effect.sync(() => setHandler((request) => web(request))),
            () => Effect.sync(() => setHandler(undefined))
          )
        })
    })
  })

/** `make` as a layer of `HttpServer`. */
export const layer = (options: Options): Layer.Layer<HttpServer.HttpServer, ListenError> =>
  Layer.effect(HttpServer.HttpServer, make(options))

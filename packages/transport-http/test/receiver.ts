/**
 * A real HTTP receiver on 127.0.0.1 for the transport tests (node:http): records every request and
 * answers with a scripted reply, including hanging and dropping the connection.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { Effect, type Scope } from "effect"

export interface ReceivedRequest {
  readonly method: string
  readonly path: string
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

export type Reply =
  | { readonly status: number; readonly headers?: Record<string, string>; readonly body?: string }
  /** Destroys the socket without answering (a reset connection). */
  | { readonly drop: true }

export type Handler = (request: ReceivedRequest) => Reply | Promise<Reply>

export interface Receiver {
  /** `http://127.0.0.1:<port>/hook`. */
  readonly url: string
  readonly port: number
  readonly requests: Effect.Effect<ReadonlyArray<ReceivedRequest>>
  readonly setHandler: (handler: Handler) => Effect.Effect<void>
  /** Requests whose client went away before the reply was sent. */
  readonly aborted: Effect.Effect<number>
}

/** A header's single value (node gives arrays for repeated headers). */
export const header = (request: ReceivedRequest, name: string): string | undefined => {
  const value = request.headers[name]
  return Array.isArray(value) ? value.join(", ") : value
}

const listen = (server: Server) =>
  Effect.callback<number>((resume) => {
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.address() as AddressInfo).port)))
  })

const close = (server: Server) =>
  Effect.callback<void>((resume) => {
    server.closeAllConnections()
    server.close(() => resume(Effect.void))
  })

/** Starts a receiver that answers 204 until told otherwise; it is closed with the scope. */
export const startReceiver = (
  initial: Handler = () => ({ status: 204 })
): Effect.Effect<Receiver, never, Scope.Scope> =>
  Effect.gen(function* () {
    let handler = initial
    const requests: Array<ReceivedRequest> = []
    let aborted = 0
    const server = createServer((req, res) => {
      res.on("close", () => {
        if (!res.writableFinished) aborted++
      })
      const chunks: Array<Buffer> = []
      req.on("data", (chunk: Buffer) => chunks.push(chunk))
      req.on("end", () => {
        const request: ReceivedRequest = {
          method: req.method ?? "",
          path: req.url ?? "",
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8")
        }
        requests.push(request)
        Promise.resolve(handler(request)).then(
          (reply) => {
            if (res.destroyed) return
            if ("drop" in reply) {
              res.socket?.destroy()
              return
            }
            res.writeHead(reply.status, reply.headers ?? {})
            res.end(reply.body ?? "")
          },
          () => res.socket?.destroy()
        )
      })
    })
    const port = yield* Effect.acquireRelease(listen(server), () => close(server))
    return {
      url: `http://127.0.0.1:${port}/hook`,
      port,
      requests: Effect.sync(() => [...requests]),
      setHandler: (next) =>
        Effect.sync(() => {
          handler = next
        }),
      aborted: Effect.sync(() => aborted)
    }
  })

/** A port on 127.0.0.1 with nothing listening (a server is started and closed to find one). */
export const closedPort: Effect.Effect<number> = Effect.gen(function* () {
  const server = createServer()
  const port = yield* listen(server)
  yield* close(server)
  return port
})

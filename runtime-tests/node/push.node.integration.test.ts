/**
 * The push handler end to end on Node's HTTP server (runtime-tests/shared/pushEndToEnd.ts), through
 * the few lines of adapter a Node application writes around `handler.fetch`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Readable } from "node:stream"
import { pushEndToEnd, type Serve } from "../shared/pushEndToEnd.ts"

/** A node:http request as a Web Request: headers as they came, the body streamed. */
const toRequest = (req: IncomingMessage, origin: string): Request => {
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v)
    else if (value !== undefined) headers.set(name, value)
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD"
  return new Request(new URL(req.url ?? "/", origin), {
    method: req.method ?? "GET",
    headers,
    ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: "half" } : {})
  } as RequestInit)
}

const send = async (response: Response, res: ServerResponse) => {
  res.writeHead(response.status, Object.fromEntries(response.headers))
  res.end(Buffer.from(await response.arrayBuffer()))
}

const serve: Serve = (fetch) =>
  new Promise((resolve, reject) => {
    let origin = ""
    const server = createServer((req, res) => {
      fetch(toRequest(req, origin))
        .then((response) => send(response, res))
        .catch(() => {
          res.statusCode = 500
          res.end()
        })
    })
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      resolve({
        url: `${origin}/`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections()
            server.close(() => done())
          })
      })
    })
  })

pushEndToEnd("node:http", serve)

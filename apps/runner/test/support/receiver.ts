/**
 * Test support: a webhook receiver on 127.0.0.1 that records every delivery (by `webhook-id`, the
 * event id), answers after an optional delay with a status chosen per request, and says which
 * responses it finished sending.
 */
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"

export interface Delivery {
  readonly id: string
  readonly body: string
  readonly attempt: string | undefined
  readonly traceparent: string | undefined
}

export interface Receiver {
  readonly url: string
  /** Every request, in arrival order (retries included). */
  readonly received: Array<Delivery>
  /** Ids whose response was fully sent with a 2xx. */
  readonly acknowledged: Set<string>
  /** Lets held responses go (see `hold`). */
  readonly release: () => void
  readonly close: () => Promise<void>
}

export const startReceiver = async (
  options: {
    readonly delayMs?: number
    readonly status?: (delivery: Delivery) => number
    /** Answer nothing until `release()` is called. @default false */
    readonly hold?: boolean
  } = {}
): Promise<Receiver> => {
  let release = () => {}
  const released = options.hold === true ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve()
  const received: Array<Delivery> = []
  const acknowledged = new Set<string>()
  const server: Server = createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => {
      const delivery = {
        id: String(req.headers["webhook-id"]),
        body: Buffer.concat(chunks).toString("utf8"),
        attempt: req.headers["sluice-attempt"] as string | undefined,
        traceparent: req.headers.traceparent as string | undefined
      }
      received.push(delivery)
      const status = options.status?.(delivery) ?? 200
      const answer = () => {
        if (res.destroyed) return
        res.on("finish", () => {
          if (status < 300) acknowledged.add(delivery.id)
        })
        res.writeHead(status, { "content-type": "application/json" }).end(status < 300 ? "{}" : '{"error":"no"}')
      }
      void released.then(() => setTimeout(answer, options.delayMs ?? 0))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    acknowledged,
    release: () => release(),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

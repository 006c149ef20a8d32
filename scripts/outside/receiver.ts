/**
 * The webhook receiver `sluice run` delivers to in the outside test: node:http on 127.0.0.1, port 0.
 * It answers 204 to every POST and keeps each request's event, `webhook-id` and whether its Standard
 * Webhooks signature verifies under the secret the config gives the HTTP transport.
 */
import { createHmac, randomBytes } from "node:crypto"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"

export interface Received {
  readonly path: string
  readonly webhookId: string
  readonly event: { readonly event_id: string; readonly event_type: string; readonly entity_id: string }
  readonly signed: boolean
}

export interface Receiver {
  readonly url: string
  /** The HTTP transport's `secrets` entry: `whsec_` and the base64 key. */
  readonly secret: string
  readonly received: () => ReadonlyArray<Received>
  readonly close: () => Promise<void>
}

/** The event of a body: the event itself (the HTTP transport), or `{ route, topic, attempt, event }`. */
const eventOf = (body: { readonly event?: Received["event"] } & Received["event"]): Received["event"] =>
  typeof body.event === "object" && body.event !== null ? body.event : body

const header = (value: string | ReadonlyArray<string> | undefined) => (typeof value === "string" ? value : "")

export const startReceiver = async (): Promise<Receiver> => {
  const key = randomBytes(24)
  const received: Array<Received> = []
  const server = createServer((request, response) => {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8")
      const id = header(request.headers["webhook-id"])
      const timestamp = header(request.headers["webhook-timestamp"])
      const expected = `v1,${createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64")}`
      try {
        received.push({
          path: request.url ?? "",
          webhookId: id,
          event: eventOf(JSON.parse(body)),
          signed: header(request.headers["webhook-signature"]).split(" ").includes(expected)
        })
        response.writeHead(204).end()
      } catch {
        response.writeHead(400).end()
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    secret: `whsec_${key.toString("base64")}`,
    received: () => [...received],
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

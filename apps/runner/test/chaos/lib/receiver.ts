/**
 * Chaos harness: the webhook receiver. Records every request in the History (event id, entity,
 * attempt header, arrival and answer positions) and answers as the scenario's `answer` function
 * decides: 200, 503, 429 with Retry-After, no answer (the client's timeout), or 422.
 */
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import type { Answer, History, Receipt } from "./history.ts"

export interface ReceiverOptions {
  /** The answer to one request; default: always "ok". Must be a function of its arguments only. */
  readonly answer?: (eventId: string, attempt: number) => Answer
  /** Delay before answering, in ms (keeps batches in flight long enough to be hit by faults). */
  readonly delayMs?: number
}

export interface ChaosReceiver {
  readonly url: string
  readonly close: () => Promise<void>
}

const statusOf = (answer: Answer): number =>
  answer === "ok" ? 200 : answer === "retryable" ? 503 : answer === "retry-after" ? 429 : 422

export const startReceiver = async (history: History, options: ReceiverOptions = {}): Promise<ChaosReceiver> => {
  const server: Server = createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => {
      let eventId = String(req.headers["webhook-id"])
      let entityId = ""
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { event_id?: string; entity_id?: string }
        eventId = body.event_id ?? eventId
        entityId = body.entity_id ?? ""
      } catch {
        // A body that is not an event is recorded under its webhook-id; the checker reports it.
      }
      const attempt = Number(req.headers["sluice-attempt"] ?? 0)
      const receipt: Receipt = {
        seq: history.next(),
        event_id: eventId,
        entity_id: entityId,
        attempt,
        at: Date.now(),
        answer: null,
        ackSeq: null,
        doneSeq: null
      }
      history.receipts.push(receipt)
      const answer = options.answer?.(eventId, attempt) ?? "ok"
      receipt.answer = answer
      if (answer === "timeout") {
        // Never answer: the client gives up (its timeout) and closes; then the receipt is done.
        res.on("close", () => {
          receipt.doneSeq ??= history.next()
        })
        return
      }
      const status = statusOf(answer)
      setTimeout(() => {
        if (res.destroyed) {
          receipt.doneSeq ??= history.next()
          return
        }
        res.on("finish", () => {
          const seq = history.next()
          if (status < 300) receipt.ackSeq = seq
          receipt.doneSeq = seq
        })
        res.on("close", () => {
          receipt.doneSeq ??= history.next()
        })
        const headers: Record<string, string> = { "content-type": "application/json" }
        if (answer === "retry-after") headers["retry-after"] = "1"
        res.writeHead(status, headers).end(status < 300 ? "{}" : JSON.stringify({ error: answer }))
      }, options.delayMs ?? 0)
    })
  })
  server.keepAliveTimeout = 1000
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hook`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

/**
 * A `WebhookSender` over node:http / node:https with one keep-alive Agent per opened URL (per
 * transport instance), closed with the transport. node:http never follows redirects.
 */
import { Buffer } from "node:buffer"
import {
  type ClientRequest,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage
} from "node:http"
import { Agent as HttpsAgent, request as httpsRequest } from "node:https"
import { Effect } from "effect"
import type { Answer } from "../Outcome.ts"
import {
  describeFailure,
  excerptBytes,
  type Send,
  SendError,
  SendTimeout,
  type WebhookSender
} from "../WebhookSender.ts"

export interface NodeSenderOptions {
  /**
   * Most connections one transport opens to its URL; more requests wait for a free one.
   * @default 16
   */
  readonly maxSockets?: number
}

/** setTimeout's longest delay (a longer one fires at once). */
const maxTimerMs = 2 ** 31 - 1

/** A 2xx body longer than this is not drained for the connection's reuse: the socket is closed. */
const drainLimit = 64 * 1024

const flat = (headers: IncomingHttpHeaders): Record<string, string | undefined> => {
  const out: Record<string, string | undefined> = {}
  for (const [name, value] of Object.entries(headers)) out[name] = Array.isArray(value) ? value.join(", ") : value
  return out
}

/** Drains a 2xx body (up to `drainLimit`) so its connection goes back to the Agent. */
const discard = (response: IncomingMessage) => {
  let total = 0
  response.on("data", (chunk: Buffer) => {
    total += chunk.length
    if (total > drainLimit) response.destroy()
  })
  response.on("error", () => {})
}

/** Reads the first `excerptBytes` of a body, then closes the response. */
const excerpt = (response: IncomingMessage, done: (text: string) => void) => {
  const chunks: Array<Buffer> = []
  let total = 0
  let finished = false
  const finish = () => {
    if (finished) return
    finished = true
    if (!response.complete) response.destroy()
    done(Buffer.concat(chunks).subarray(0, excerptBytes).toString("utf8"))
  }
  response.on("data", (chunk: Buffer) => {
    chunks.push(chunk)
    total += chunk.length
    if (total >= excerptBytes) finish()
  })
  response.on("end", finish)
  response.on("error", finish)
  response.on("close", finish)
}

/** The node:http sender; `maxSockets` bounds each transport's connections. */
export const nodeWebhookSender = (options: NodeSenderOptions = {}): WebhookSender["Service"] => ({
  open: (url) =>
    Effect.map(
      Effect.acquireRelease(
        Effect.sync(() => {
          const target = new URL(url)
          const secure = target.protocol === "https:"
          const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 16 }
          return { target, secure, agent: secure ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions) }
        }),
        ({ agent }) => Effect.sync(() => agent.destroy())
      ),
      ({ target, secure, agent }): Send => {
        const request = secure ? httpsRequest : httpRequest
        const base = {
          agent,
          method: "POST",
          protocol: target.protocol,
          hostname: target.hostname.startsWith("[") ? target.hostname.slice(1, -1) : target.hostname,
          port: target.port,
          path: `${target.pathname}${target.search}`
        }
        return (headers, body, timeoutMs) =>
          Effect.callback<Answer, SendError | SendTimeout>((resume) => {
            let settled = false
            const settle = (effect: Effect.Effect<Answer, SendError | SendTimeout>) => {
              if (settled) return
              settled = true
              clearTimeout(timer)
              resume(effect)
            }
            // A timer rather than Effect.timeout, whose race of two fibers per request cost a quarter
            // of the throughput (measured: 0.6x vs 0.85x of a plain node:http loop).
            const timer = setTimeout(
              () => {
                req?.destroy()
                settle(Effect.fail(new SendTimeout()))
              },
              Math.min(timeoutMs, maxTimerMs)
            )
            const fail = (error: unknown) => settle(Effect.fail(new SendError({ detail: describeFailure(error) })))
            let req: ClientRequest | undefined
            try {
              req = request(
                {
                  ...base,
                  headers: {
                    ...headers,
                    "content-type": "application/json",
                    "content-length": Buffer.byteLength(body)
                  }
                },
                (response) => {
                  const status = response.statusCode ?? 0
                  if (status >= 200 && status < 300) {
                    discard(response)
                    settle(Effect.succeed({ status, headers: {}, body: "" }))
                  } else {
                    const answerHeaders = flat(response.headers)
                    excerpt(response, (text) => settle(Effect.succeed({ status, headers: answerHeaders, body: text })))
                  }
                }
              )
            } catch (error) {
              // node:http refuses some header values (a line break...) by throwing, fetch by rejecting.
              fail(error)
              return
            }
            req.on("error", fail)
            req.end(body)
            return Effect.sync(() => {
              settled = true
              clearTimeout(timer)
              req?.destroy()
            })
          })
      }
    )
})

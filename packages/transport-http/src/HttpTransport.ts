/**
 * The HTTP webhook transport: POSTs events as JSON, signed per Standard Webhooks, one request per
 * event (`single`) or per group of same-route, same-topic envelopes (`batch`), and maps every answer,
 * timeout and connection error to an outcome (see Outcome.ts). Exported as a Plugin.
 *
 * It sends through the `WebhookSender` and signs with the `WebhookCrypto` found in the context, and otherwise
 * uses `fetch` (or the context's `HttpClient`) and Web Crypto, so it runs on Node, Deno, Bun and edge
 * runtimes; `@sluice/transport-http/node` provides faster ones for Node. Redirects are never followed.
 */

import {
  type Envelope,
  encodeEvent,
  Ids,
  Plugin,
  type PublishContext,
  type PublishOutcome,
  type Transport
} from "@sluice/core"
import { Clock, Effect, Option, Redacted, type Scope } from "effect"
import { HttpTransportConfig } from "./HttpTransportConfig.ts"
import { connectionFailed, cutByDeadline, notStarted, outcomeOf, timedOut } from "./Outcome.ts"
import { makeSigner } from "./StandardWebhooks.ts"
import { WebhookCrypto, webCrypto } from "./WebhookCrypto.ts"
import { currentSender } from "./WebhookSender.ts"

/** The package name: the plugin's name, and the default instance name. */
const pluginName = "@sluice/transport-http"

/** The UUIDv5 name space of batch ids (a batch's `webhook-id` is derived from its event ids). */
const batchNamespace = "5b7f8f7e-3c55-4b0a-9d0b-6f1c2b7e4a11"

/** The `webhook-id` of a batch: the same events in the same order always get the same id. */
export const batchId = (
  envelopes: ReadonlyArray<Envelope>,
  uuidV5: (namespace: string, name: string) => string = Ids.uuidV5
): string => `batch_${uuidV5(batchNamespace, envelopes.map((e) => e.event.event_id).join(","))}`

/**
 * Splits a publish into requests: each envelope alone in `single` mode; in `batch` mode, envelopes of
 * the same route and topic in order of first appearance, at most `maxBatchSize` per request.
 * Returns envelope indexes, so outcomes can be put back in the envelopes' order.
 */
export const planRequests = (
  config: Pick<HttpTransportConfig, "mode" | "maxBatchSize">,
  envelopes: ReadonlyArray<Envelope>
): ReadonlyArray<ReadonlyArray<number>> => {
  if (config.mode === "single") return envelopes.map((_, i) => [i])
  const groups = new Map<string, Array<Array<number>>>()
  const requests: Array<Array<number>> = []
  envelopes.forEach((envelope, i) => {
    const key = JSON.stringify([envelope.route, envelope.topic])
    const chunks = groups.get(key) ?? []
    const last = chunks[chunks.length - 1]
    if (last !== undefined && last.length < config.maxBatchSize) {
      last.push(i)
    } else {
      const chunk = [i]
      chunks.push(chunk)
      requests.push(chunk)
    }
    groups.set(key, chunks)
  })
  return requests
}

/**
 * Builds an HTTP transport named `name` from a decoded config. Fails with PluginStartError when a
 * secret cannot be imported as an HMAC key (its position is named, never its value).
 */
export const make = (
  config: HttpTransportConfig,
  name: string = pluginName
): Effect.Effect<Transport, Plugin.PluginStartError, Scope.Scope> =>
  Effect.gen(function* () {
    const crypto = Option.getOrElse(yield* Effect.serviceOption(WebhookCrypto), () => webCrypto)
    const signer = yield* makeSigner(config.secrets, crypto).pipe(
      Effect.mapError((e) => new Plugin.PluginStartError({ plugin: pluginName, instance: name, reason: e.message }))
    )
    const post = yield* (yield* currentSender).open(config.url)
    const origin = new URL(config.url).origin
    const extraHeaders = Object.fromEntries(
      Object.entries(config.headers).map(([header, value]) => [header, Redacted.value(value)] as const)
    )

    /**
     * The `traceparent` parent id: this request's span when it is in the event's trace (the relay
     * traces events), otherwise a fresh id, so the receiver still continues the event's trace.
     */
    const parentId = (traceId: string) =>
      Effect.flatMap(Effect.option(Effect.currentSpan), (span) =>
        Option.isSome(span) && span.value.traceId === traceId ? Effect.succeed(span.value.spanId) : Ids.nextSpanId
      )

    const send = Effect.fn("sluice.transport.http.send")(function* (
      envelopes: ReadonlyArray<Envelope>,
      context: PublishContext
    ) {
      // Within the caller's deadline: a request that cannot start in time is not sent, and the wait
      // for an answer ends at the deadline, so the outcomes of the others reach the relay.
      const now = yield* Clock.currentTimeMillis
      const waitMs = Math.min(config.timeoutMs, context.deadline - now)
      if (waitMs <= 0) return notStarted
      const first = envelopes[0]!
      const single = config.mode === "single"
      const body = JSON.stringify(single ? encodeEvent(first.event) : envelopes.map((e) => encodeEvent(e.event)))
      const id = single ? first.event.event_id : batchId(envelopes, crypto.uuidV5)
      const timestamp = Math.floor(now / 1000)
      const headers: Record<string, string> = {
        "user-agent": "sluice-transport-http",
        ...extraHeaders,
        "webhook-id": id,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": yield* signer.sign(id, timestamp, body),
        traceparent: `00-${first.event.trace_id}-${yield* parentId(first.event.trace_id)}-01`,
        "sluice-route": first.route,
        "sluice-topic": first.topic
      }
      if (single) headers["sluice-attempt"] = String(first.attempt)
      yield* Effect.annotateCurrentSpan({ "webhook.id": id, "sluice.events": envelopes.length })
      // Told to the relay before the request goes out: if a shutdown interrupts this publish, these
      // envelopes count a failed attempt (the receiver may have them), the ones not sent do not.
      context.sending(envelopes)
      const answer = yield* Effect.result(post(headers, body, waitMs))
      if (answer._tag === "Success") {
        yield* Effect.annotateCurrentSpan({ "http.response.status_code": answer.success.status })
        return outcomeOf(answer.success, yield* Clock.currentTimeMillis, config.maxRetryAfterMs)
      }
      const error = answer.failure
      if (error._tag === "SendTimeout") return waitMs < config.timeoutMs ? cutByDeadline(waitMs) : timedOut(waitMs)
      return connectionFailed(origin, error.detail)
    })

    const publish = (
      envelopes: ReadonlyArray<Envelope>,
      context: PublishContext
    ): Effect.Effect<ReadonlyArray<PublishOutcome>> =>
      Effect.gen(function* () {
        const requests = planRequests(config, envelopes)
        const results = yield* Effect.forEach(
          requests,
          (indexes) => {
            const request = send(
              indexes.map((i) => envelopes[i]!),
              context
            )
            // In the event's trace when the relay traces events (EventTrace.ts in core).
            const parent = context.spanOf?.(envelopes[indexes[0]!]!)
            return parent === undefined ? request : Effect.withParentSpan(request, parent)
          },
          {
            concurrency: config.concurrency
          }
        )
        const outcomes = new Array<PublishOutcome>(envelopes.length)
        requests.forEach((indexes, r) => {
          for (const i of indexes) outcomes[i] = results[r]!
        })
        return outcomes
      })

    return { name, publish, reportsSending: true }
  })

/**
 * The plugin: `HttpTransportPlugin.layer(config, instance)` decodes `config` (see
 * HttpTransportConfig) and registers the transport into `Transports`.
 */
export const HttpTransportPlugin = Plugin.define({
  name: pluginName,
  kind: "transport",
  config: HttpTransportConfig,
  make
})

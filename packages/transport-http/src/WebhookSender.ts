/**
 * The port the transport sends its requests through, so each runtime can bring its fastest client:
 * the portable default is Effect's `HttpClient` (the one in the context, else `fetch`); Node's entry
 * point provides `@sluice/transport-http/node` (node:http with a keep-alive Agent). Whatever the
 * client, redirects are never followed and only the start of a failed answer's body is read.
 */
import { Context, Data, Effect, Option, type Scope, Stream } from "effect"
import { FetchHttpClient, HttpClient, HttpClientRequest, type HttpClientResponse } from "effect/http"
import type { Answer } from "./Outcome.ts"

/** Bytes of a failed answer's body read for the failure reason; the rest is never downloaded. */
export const excerptBytes = 1024

/** A request failed before an answer (refused, reset, DNS...); `detail` names the cause, URL-free. */
export class SendError extends Data.TaggedError("SendError")<{ readonly detail: string }> {}

/** No answer (status, headers and, for a failure, the body excerpt) within the request's time. */
export class SendTimeout extends Data.TaggedError("SendTimeout")<{}> {}

/**
 * POSTs `body` (JSON) with `headers` to the URL the sender was opened for, giving up (and aborting
 * it) after `timeoutMs`. A 2xx answer's body is not read (`body` is empty); another's `body` is its
 * first `excerptBytes`. Interrupting it aborts the request.
 */
export type Send = (
  headers: Readonly<Record<string, string>>,
  body: string,
  timeoutMs: number
) => Effect.Effect<Answer, SendError | SendTimeout>

/** Opens a sender to one URL for as long as the scope lasts (its connections close with it). */
export class WebhookSender extends Context.Service<
  WebhookSender,
  { readonly open: (url: string) => Effect.Effect<Send, never, Scope.Scope> }
>()("@sluice/transport-http/WebhookSender") {}

// Runtimes quote the full URL in errors (Deno does); its path and query may hold a token.
const urls = /https?:\/\/[^\s)'"]+/g
const originsOnly = (text: string): string =>
  text.replace(urls, (url) => (URL.canParse(url) ? new URL(url).origin : "<url>"))

const innermost = (cause: unknown): string => {
  let current: unknown = cause
  let detail = "connection error"
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const { code, message } = current as { readonly code?: unknown; readonly message?: unknown }
    if (typeof message === "string" && message.length > 0) detail = message
    if (typeof code === "string") return `${code} (${detail})`
    current = (current as { readonly cause?: unknown }).cause
  }
  return detail
}

/**
 * The innermost readable reason of a failure (`ECONNREFUSED`, `UND_ERR_SOCKET`, Deno's "Connection
 * refused"...), with any URL in it cut to its origin.
 */
export const describeFailure = (cause: unknown): string => originsOnly(innermost(cause))

const decoder = new TextDecoder()

/** The first `excerptBytes` of a body as text; an unreadable body reads as empty. */
const readExcerpt = (response: HttpClientResponse.HttpClientResponse): Effect.Effect<string> => {
  let total = 0
  return response.stream.pipe(
    Stream.takeUntil((chunk) => {
      total += chunk.length
      return total >= excerptBytes
    }),
    Stream.runCollect,
    Effect.map((chunks) => {
      const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0))
      let offset = 0
      for (const chunk of chunks) {
        bytes.set(chunk, offset)
        offset += chunk.length
      }
      return decoder.decode(bytes.subarray(0, excerptBytes))
    }),
    Effect.orElseSucceed(() => "")
  )
}

/** A sender over an Effect `HttpClient`: `fetch`-based ones get `redirect: "manual"`. */
export const httpClientSender = (base: HttpClient.HttpClient): WebhookSender["Service"] => ({
  open: (url) =>
    Effect.sync((): Send => {
      // withScope: the connection is released as soon as the outcome is known (body unread on success).
      const client = HttpClient.withScope(base)
      return (headers, body, timeoutMs) =>
        client
          .execute(
            HttpClientRequest.post(url).pipe(
              HttpClientRequest.setHeaders(headers),
              HttpClientRequest.bodyText(body, "application/json")
            )
          )
          .pipe(
            Effect.flatMap(
              (response): Effect.Effect<Answer> =>
                response.status >= 200 && response.status < 300
                  ? Effect.succeed({ status: response.status, headers: response.headers, body: "" })
                  : Effect.map(readExcerpt(response), (text) => ({
                      status: response.status,
                      headers: response.headers,
                      body: text
                    }))
            ),
            Effect.scoped,
            Effect.mapError(
              (error) =>
                new SendError({
                  detail:
                    error.reason._tag === "TransportError" ? describeFailure(error.reason.cause) : error.reason._tag
                })
            ),
            Effect.timeoutOrElse({ duration: timeoutMs, orElse: () => Effect.fail(new SendTimeout()) }),
            Effect.provideService(FetchHttpClient.RequestInit, { redirect: "manual" }),
            // No client span: it would replace our traceparent (which carries the event's trace id) and
            // record the URL and headers (credentials) as span attributes.
            Effect.provideService(HttpClient.TracerDisabledWhen, () => true)
          )
    })
})

/**
 * The sender a transport uses: the `WebhookSender` in the context; else one over the `HttpClient` in
 * the context; else one over `fetch`.
 */
export const currentSender: Effect.Effect<WebhookSender["Service"]> = Effect.gen(function* () {
  const sender = yield* Effect.serviceOption(WebhookSender)
  if (Option.isSome(sender)) return sender.value
  const client = yield* Effect.serviceOption(HttpClient.HttpClient)
  if (Option.isSome(client)) return httpClientSender(client.value)
  const fetchClient = Effect.gen(function* () {
    return yield* HttpClient.HttpClient
  })
  return httpClientSender(yield* Effect.provide(fetchClient, FetchHttpClient.layer))
})

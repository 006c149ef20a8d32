/**
 * The HTTP transport's config: a Schema, so the runner can decode a config file with every bad field
 * named, and so the JSON Schema of the config documents it. Secrets decode to `Redacted` values and
 * the checks on them never echo the value.
 */
import { WebhookSecret, whsecKey } from "@sluice/core"
import { Effect, Schema } from "effect"

/** The headers the transport owns: extra headers may not replace them. */
export const reservedHeaders: ReadonlyArray<string> = [
  "content-type",
  "content-length",
  "host",
  "traceparent",
  "webhook-id",
  "webhook-timestamp",
  "webhook-signature",
  "sluice-route",
  "sluice-topic",
  "sluice-attempt"
]

const httpUrl = Schema.makeFilter(
  (url: string) => {
    if (!URL.canParse(url)) return "expected an absolute http(s) URL"
    const protocol = new URL(url).protocol
    return protocol === "http:" || protocol === "https:" || `expected an http(s) URL, got a ${protocol} URL`
  },
  { expected: "an http(s) URL" }
)

export { WebhookSecret, whsecKey }

const headerName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

const ExtraHeaders = Schema.Record(Schema.String, Schema.RedactedFromValue(Schema.String)).pipe(
  Schema.check(
    Schema.makeFilter((headers) =>
      Object.keys(headers).flatMap((name) =>
        !headerName.test(name)
          ? [{ path: [name], issue: "not a valid header name" }]
          : reservedHeaders.includes(name.toLowerCase())
            ? [{ path: [name], issue: "reserved: the transport sets this header" }]
            : []
      )
    )
  )
)

const positiveInt = Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(1)))

/** The HTTP transport's config (the wire names are these field names). */
export const HttpTransportConfig = Schema.Struct({
  /** The webhook endpoint. Only `http:` and `https:` URLs are accepted. Required. */
  url: Schema.String.pipe(Schema.check(httpUrl)),
  /**
   * Signing secrets, `whsec_` + base64 key. Every request is signed with each of them (one
   * space-separated `v1,` signature per secret), so a receiver can rotate keys. Required, at least one.
   */
  secrets: Schema.Array(WebhookSecret).pipe(Schema.check(Schema.isMinLength(1))),
  /**
   * `single`: one event per request (the body is the event). `batch`: envelopes of the same route
   * and topic go together, up to `maxBatchSize` per request (the body is a JSON array); every
   * envelope in a request gets that request's outcome.
   * @default "single"
   */
  mode: Schema.Literals(["single", "batch"]).pipe(Schema.withDecodingDefault(Effect.succeed("single" as const))),
  /** Most events in one request in `batch` mode. @default 100 */
  maxBatchSize: positiveInt.pipe(Schema.withDecodingDefault(Effect.succeed(100))),
  /** Requests of one publish in flight at once. @default 4 */
  concurrency: positiveInt.pipe(Schema.withDecodingDefault(Effect.succeed(4))),
  /** Per-request timeout (connect, send, response headers and error-body excerpt), in ms. @default 10000 */
  timeoutMs: positiveInt.pipe(Schema.withDecodingDefault(Effect.succeed(10_000))),
  /** Longest `Retry-After` honoured, in ms; longer requests are clamped to it. @default 3600000 (1 hour) */
  maxRetryAfterMs: Schema.Int.pipe(
    Schema.check(Schema.isGreaterThanOrEqualTo(0)),
    Schema.withDecodingDefault(Effect.succeed(3_600_000))
  ),
  /**
   * Extra request headers (e.g. an API key). Values are kept Redacted (they often are credentials).
   * They cannot replace the transport's own headers.
   * @default {}
   */
  headers: ExtraHeaders.pipe(Schema.withDecodingDefault(Effect.succeed({})))
})
export type HttpTransportConfig = typeof HttpTransportConfig.Type
/** The config as written in a config file (defaults optional). */
export type HttpTransportConfigInput = typeof HttpTransportConfig.Encoded

/**
 * The push source's options, as a Schema: what the runner decodes from `sources[].options` (every
 * bad field named) and what code passes to `makePushHandler`. Secrets decode to `Redacted` values.
 */
import { DurationText, WebhookSecret } from "@sluice/core"
import { Effect, Schema } from "effect"

const withDefault =
  <S extends Schema.Top>(value: S["Encoded"]) =>
  (self: S) =>
    self.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)))

export { WebhookSecret }

/** How a request proves who sent it. */
export const AuthConfig = Schema.Union([
  Schema.Struct({
    /** Standard Webhooks signatures (`webhook-id`, `webhook-timestamp`, `webhook-signature`). */
    type: Schema.Literal("standard-webhooks"),
    /** The `whsec_` secrets accepted; list the new one beside the old while a sender rotates. */
    secrets: Schema.Array(WebhookSecret).pipe(Schema.check(Schema.isMinLength(1), Schema.isMaxLength(10))),
    /** Largest distance between `webhook-timestamp` and now (replay protection). @default "5 minutes" */
    tolerance: DurationText.pipe(withDefault("5 minutes"))
  }),
  Schema.Struct({
    /** `Authorization: Bearer <token>`. */
    type: Schema.Literal("bearer"),
    /** The token (at least 16 characters; use `${ENV_VAR}`). */
    token: Schema.RedactedFromValue(Schema.String.pipe(Schema.check(Schema.isMinLength(16))))
  }),
  Schema.Struct({
    /** No check: for a loopback listener or a proxy that authenticates. */
    type: Schema.Literal("none")
  })
])
export type AuthConfig = typeof AuthConfig.Type

/** A value of a mapped event: a constant, or the JSON Pointer (RFC 6901) of a field of the item. */
export const FieldRef = Schema.Union([
  Schema.String,
  Schema.Struct({ pointer: Schema.String.pipe(Schema.check(Schema.isPattern(/^(\/[^/]*)*$/))) })
])
export type FieldRef = typeof FieldRef.Type

/**
 * Why a keyed event must say when it happened: its natural key names one fact, and the time each
 * delivery was received differs, so every delivery of the same fact would become a correction.
 */
export const keyedWithoutTime =
  "required with natural_key: the key names one fact, and the time each delivery is received differs (every delivery would correct the last)"

/** The check of keyedWithoutTime, on an event draft and on a mapped format alike. */
export const keyedNeedsTime = Schema.makeFilter(
  (fields: { readonly natural_key?: unknown; readonly occurred_at?: unknown }) =>
    fields.natural_key !== undefined && fields.occurred_at === undefined
      ? { path: ["occurred_at"], issue: keyedWithoutTime }
      : undefined
)

/** How a body becomes events (GenericJson.ts). */
export const FormatConfig = Schema.Union([
  Schema.Struct({
    /**
     * The body is an event draft or an array of them: `{ event_type, entity_type, entity_id,
     * payload, occurred_at?, natural_key?, schema_version? }`.
     */
    type: Schema.Literal("events")
  }),
  Schema.Struct({
    /** The body is a JSON object (or an array of them); each is the payload of one event. */
    type: Schema.Literal("mapped"),
    event_type: FieldRef,
    entity_type: FieldRef,
    entity_id: FieldRef,
    /** @default the time the request was received (required with `natural_key`) */
    occurred_at: Schema.optionalKey(FieldRef),
    /** What identifies the fact across deliveries. @default the delivery's id and the item's index */
    natural_key: Schema.optionalKey(FieldRef)
  }).check(keyedNeedsTime)
])
export type FormatConfig = typeof FormatConfig.Type

/** Bounds on what one request may cost. */
export const LimitsConfig = Schema.Struct({
  /** Largest body in bytes (413 beyond, declared or streamed). @default 1048576 */
  maxBodyBytes: Schema.Int.pipe(
    Schema.check(Schema.isBetween({ minimum: 1, maximum: 64 * 1024 * 1024 })),
    withDefault(1_048_576)
  ),
  /** Most events one request may carry (400 beyond). @default 1000 */
  maxEvents: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 100_000 })), withDefault(1000)),
  /** Media types accepted (415 otherwise), compared without parameters. @default ["application/json"] */
  contentTypes: Schema.Array(
    Schema.String.pipe(Schema.check(Schema.isPattern(/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/)))
  ).pipe(Schema.check(Schema.isMinLength(1)), withDefault(["application/json"])),
  /** Longest time to receive the body (408 beyond: a slow sender holds nothing for long). @default "10 seconds" */
  timeout: DurationText.pipe(withDefault("10 seconds"))
})
export type LimitsConfig = typeof LimitsConfig.Type

const handlerFields = {
  /** The path requests are POSTed to (404 elsewhere). @default "/" */
  path: Schema.String.pipe(Schema.check(Schema.isPattern(/^\/[^?#]*$/)), withDefault("/")),
  /** How senders authenticate. */
  auth: AuthConfig,
  /** @default { "type": "events" } */
  format: FormatConfig.pipe(withDefault({ type: "events" })),
  /** @default { "maxBodyBytes": 1048576, "maxEvents": 1000, "contentTypes": ["application/json"], "timeout": "10 seconds" } */
  limits: LimitsConfig.pipe(withDefault({})),
  /**
   * Request headers kept with the raw payload (lower case; secrets never: `authorization`,
   * `cookie` and `webhook-signature` are refused). @default ["user-agent", "webhook-id", "webhook-timestamp", "idempotency-key"]
   */
  keepHeaders: Schema.Array(
    Schema.String.pipe(
      Schema.check(
        Schema.isPattern(/^[a-z0-9!#$%&'*+.^_`|~-]+$/),
        Schema.makeFilter((name: string) =>
          name === "authorization" || name === "webhook-signature" || name === "cookie" ? "a secret: not kept" : true
        )
      )
    )
  ).pipe(withDefault(["user-agent", "webhook-id", "webhook-timestamp", "idempotency-key"])),
  /** Seconds a sender is told to wait (`Retry-After`) when the store is unavailable or the server drains. @default 5 */
  retryAfterSeconds: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 3600 })), withDefault(5))
}

const isLoopback = (host: string): boolean =>
  host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)

/** What the handler itself needs (code serving it on its own server gives this). */
export const HandlerConfig = Schema.Struct(handlerFields)
export type HandlerConfig = typeof HandlerConfig.Type

/** The push source's options in the runner: the handler's, and where the runner listens. */
export const PushSourceConfig = Schema.Struct({
  /** Address the runner binds for this source. @default "127.0.0.1" */
  host: Schema.String.pipe(Schema.check(Schema.isNonEmpty()), withDefault("127.0.0.1")),
  /** Port the runner listens on for this source (0 picks a free one, logged at start). */
  port: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 65535 }))),
  ...handlerFields
}).check(
  Schema.makeFilter((config) =>
    config.auth.type === "none" && !isLoopback(config.host)
      ? {
          path: ["auth"],
          issue: `auth "none" is for a loopback host only (host is ${config.host}): use "standard-webhooks" or "bearer"`
        }
      : true
  )
)
export type PushSourceConfig = typeof PushSourceConfig.Type

/**
 * The NATS JetStream source's config: a strict Schema, decoded by `Plugin.decodeConfig` (every bad
 * field named, unknown keys rejected). Secrets decode to `Redacted` and are never echoed; paths are
 * `FilePath`s (a config file's relative paths are resolved against its folder). Defaults are
 * applied where the source is made (`settings`), so a decoded config keeps what the user wrote.
 */
import { DurationText, Plugin } from "@sluice/core"
import { Duration, Schema } from "effect"

const Secret = Schema.RedactedFromValue(Schema.String.pipe(Schema.check(Schema.isMinLength(1))))

/** A JetStream stream or consumer name: no spaces, dots, `*`, `>`, slashes (the server's rules). */
const JsName = Schema.String.pipe(
  Schema.check(
    Schema.isPattern(/^[^\s.*>/\\]{1,255}$/, {
      expected: "a JetStream name (no spaces, '.', '*', '>', '/' or '\\')"
    })
  )
)

/** How the client proves who it is: at most one of user/password, token, NKey seed, creds file. */
export const NatsAuth = Schema.Union([
  Schema.Struct({ user: Schema.String, password: Secret }),
  Schema.Struct({ token: Secret }),
  /** An NKey seed (`SU...`). */
  Schema.Struct({ nkeySeed: Secret }),
  /** A `.creds` file (JWT + NKey seed), as `nsc` writes it. */
  Schema.Struct({ credsFile: Plugin.FilePath })
])
export type NatsAuth = typeof NatsAuth.Type

/** TLS: the CA to trust, and a client certificate when the server asks for one. */
export const NatsTls = Schema.Struct({
  /** PEM file of the CA(s) to trust. @default the system's */
  caFile: Schema.optionalKey(Plugin.FilePath),
  /** PEM file of the client certificate. */
  certFile: Schema.optionalKey(Plugin.FilePath),
  /** PEM file of the client key: a secret path. */
  keyFile: Schema.optionalKey(Plugin.FilePath),
  /** TLS before the NATS handshake (the server must say `handshake_first`). @default false */
  handshakeFirst: Schema.optionalKey(Schema.Boolean)
})
export type NatsTls = typeof NatsTls.Type

/** How the connection is made: shared with other NATS plugins' configs. */
export const connectionFields = {
  /** Server URLs (`nats://host:4222`, `tls://...`); the client reconnects across them. @default ["nats://127.0.0.1:4222"] */
  servers: Schema.optionalKey(
    Schema.Array(Schema.String.pipe(Schema.check(Schema.isMinLength(1)))).pipe(
      Schema.check(Schema.isMinLength(1, { expected: "at least one server" }))
    )
  ),
  auth: Schema.optionalKey(NatsAuth),
  tls: Schema.optionalKey(NatsTls),
  /** The client's name as the server's monitoring shows it. @default the instance name */
  name: Schema.optionalKey(Schema.String)
}

/** How a message becomes an event when it is not itself an event draft (Transform.ts). */
export const MessageMapping = Schema.Struct({
  /** The event type of every message that is not a draft. */
  eventType: Schema.String.pipe(Schema.check(Schema.isMinLength(1))),
  /** Its entity type. */
  entityType: Schema.String.pipe(Schema.check(Schema.isMinLength(1))),
  /** The header holding the entity id (tried first). @default none */
  entityIdHeader: Schema.optionalKey(Schema.String.pipe(Schema.check(Schema.isMinLength(1)))),
  /**
   * The subject token (0-based; negative counts from the end) holding the entity id, tried after
   * the header: `orders.eu.42` with `-1` gives `42`. @default -1 (the last token)
   */
  entityIdToken: Schema.optionalKey(Schema.Int)
})
export type MessageMapping = typeof MessageMapping.Type

export const NatsSourceConfig = Schema.Struct({
  ...connectionFields,
  /** The stream to read. */
  stream: JsName,
  /** The durable pull consumer's name: every runner given the same name shares its messages. */
  consumer: JsName,
  /**
   * Create the durable consumer when it does not exist (explicit acks, `ackWait`, `filterSubject`,
   * `maxAckPending`); otherwise it must have been made beforehand. @default true
   */
  createConsumer: Schema.optionalKey(Schema.Boolean),
  /** (created consumer) Only messages on these subjects. @default every subject of the stream */
  filterSubject: Schema.optionalKey(Schema.String.pipe(Schema.check(Schema.isMinLength(1)))),
  /**
   * (created consumer) How long the server waits for an ack before delivering a message again:
   * longer than a batch takes to commit. @default "30 seconds"
   */
  ackWait: Schema.optionalKey(DurationText),
  /** (created consumer) Unacked messages the server lets all runners hold at once. @default 10000 */
  maxAckPending: Schema.optionalKey(
    Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 1_000_000 })))
  ),
  /** Messages stored per transaction (one fetch). @default 256 */
  batchSize: Schema.optionalKey(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 10_000 })))),
  /**
   * Messages this runner holds unacked at most (pulled ahead plus being stored): backpressure
   * when the store is slower than the stream. At least `batchSize`. @default 4 x batchSize
   */
  maxInFlight: Schema.optionalKey(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 100_000 })))),
  /**
   * How long a fetch waits for a first message when the stream is idle before the tick ends
   * empty (no busy loop; a message arriving meanwhile is taken at once). @default "5 seconds"
   */
  idleWait: Schema.optionalKey(DurationText),
  /** The mapping of messages that are not event drafts; without it they are poison messages. @default none */
  mapping: Schema.optionalKey(MessageMapping)
}).check(
  Schema.makeFilter((config) =>
    config.maxInFlight !== undefined && config.maxInFlight < (config.batchSize ?? 256)
      ? { path: ["maxInFlight"], issue: "must be at least batchSize" }
      : true
  )
)
export type NatsSourceConfig = typeof NatsSourceConfig.Type

/** The config with its defaults. */
export interface Settings {
  readonly batchSize: number
  readonly maxInFlight: number
  readonly idleWait: Duration.Duration
  readonly ackWait: Duration.Duration
  readonly maxAckPending: number
  readonly createConsumer: boolean
}

export const settings = (config: NatsSourceConfig): Settings => {
  const batchSize = config.batchSize ?? 256
  return {
    batchSize,
    maxInFlight: config.maxInFlight ?? 4 * batchSize,
    idleWait: Duration.fromInputUnsafe((config.idleWait ?? "5 seconds") as Duration.Input),
    ackWait: Duration.fromInputUnsafe((config.ackWait ?? "30 seconds") as Duration.Input),
    maxAckPending: config.maxAckPending ?? 10_000,
    createConsumer: config.createConsumer ?? true
  }
}

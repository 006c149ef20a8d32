/**
 * The NATS transport's config: a Schema, so the runner decodes a config file with every bad field
 * named, and the JSON Schema of the config documents it. The subject template is checked here, so
 * a bad one stops `sluice` at start, naming the field.
 */
import { DurationText } from "@sluice/core"
import { Effect, Schema } from "effect"
import { authProblem, natsConnectionFields } from "./NatsConnectionConfig.ts"
import { hasSpaceOrControl, parse } from "./SubjectTemplate.ts"

const subjectTemplate = Schema.makeFilter(
  (template: string) => {
    const parsed = parse(template)
    return "problem" in parsed ? parsed.problem : true
  },
  { expected: "a subject template such as sluice.{topic}.{event_type}" }
)

const literalSubject = Schema.makeFilter((subject: string) => {
  if (subject.length === 0 || hasSpaceOrControl(subject)) return "expected a subject without whitespace"
  const tokens = subject.split(".")
  if (tokens.some((token) => token.length === 0)) return "has an empty token (a leading, trailing or doubled dot)"
  const last = tokens.length - 1
  return (
    tokens.every((token, i) => !/[*>]/.test(token) || token === "*" || (token === ">" && i === last)) ||
    "a wildcard must be a whole token (* anywhere, > last)"
  )
})

const streamName = Schema.String.pipe(
  Schema.check(
    Schema.makeFilter(
      (name: string) =>
        (name.length > 0 && name.length <= 255 && !hasSpaceOrControl(name) && !/[.*>/\\]/.test(name)) ||
        "expected a stream name: no whitespace, '.', '*', '>', '/' or '\\'"
    )
  )
)

/** The stream Sluice creates (or updates) at start, so every subject it publishes to is captured. */
export const EnsureStream = Schema.Struct({
  /** The stream's name. Required. */
  name: streamName,
  /**
   * The subjects it captures. @default the subject template cut at its first placeholder, plus `>`
   * (`sluice.{topic}.{event_type}` gives `sluice.>`)
   */
  subjects: Schema.optionalKey(
    Schema.Array(Schema.String.pipe(Schema.check(literalSubject))).pipe(Schema.check(Schema.isMinLength(1)))
  ),
  /** Copies of each message in a cluster (1 to 5). @default 1 */
  replicas: Schema.Int.pipe(
    Schema.check(Schema.isBetween({ minimum: 1, maximum: 5 })),
    Schema.withDecodingDefault(Effect.succeed(1))
  ),
  /**
   * How long the stream remembers a `Nats-Msg-Id` to drop a second copy. A redelivery after it is a
   * duplicate in the stream: keep it longer than a row's resends can last (see README; with the relay's
   * defaults they can last 2 min 21 s, over the server's default of 2 minutes). @default "10 minutes"
   */
  duplicateWindow: DurationText.pipe(Schema.withDecodingDefault(Effect.succeed("10 minutes"))),
  /** Where the stream keeps messages. @default "file" */
  storage: Schema.Literals(["file", "memory"]).pipe(Schema.withDecodingDefault(Effect.succeed("file" as const)))
})
export type EnsureStream = typeof EnsureStream.Type

const positiveInt = Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(1)))

/** The NATS transport's config (the wire names are these field names). */
export const NatsTransportConfig = Schema.Struct({
  ...natsConnectionFields,
  /**
   * The subject of each event: text with the placeholders `{topic}`, `{event_type}` and
   * `{entity_type}`. Checked at start: no unknown placeholder, no empty token, no wildcard or
   * whitespace. @default "sluice.{topic}.{event_type}"
   */
  subject: Schema.String.pipe(
    Schema.check(subjectTemplate),
    Schema.withDecodingDefault(Effect.succeed("sluice.{topic}.{event_type}"))
  ),
  /** A stream to create or update at start; without it, a subject no stream captures is Permanent. */
  ensureStream: Schema.optionalKey(EnsureStream),
  /** How long to wait for a publish's ack from JetStream. @default "10 seconds" */
  publishTimeout: DurationText.pipe(Schema.withDecodingDefault(Effect.succeed("10 seconds"))),
  /** Publishes awaiting their ack at once. @default 1000 */
  maxInFlight: positiveInt.pipe(Schema.withDecodingDefault(Effect.succeed(1000))),
  /**
   * What `Nats-Msg-Id` (the stream's deduplication key) is: `"event"`, the event id; or
   * `"route-event"`, `<route>:<event id>`, for routes that send the same event into one stream (with
   * `"event"` the stream keeps the first route's copy and drops the others' as duplicates; see README).
   * @default "event"
   */
  msgId: Schema.Literals(["event", "route-event"]).pipe(Schema.withDecodingDefault(Effect.succeed("event" as const)))
}).pipe(Schema.check(Schema.makeFilter(authProblem)))
export type NatsTransportConfig = typeof NatsTransportConfig.Type
/** The config as written in a config file (defaults optional). */
export type NatsTransportConfigInput = typeof NatsTransportConfig.Encoded

/**
 * Upcasters: how an event type's payload moves from one schema version to the next. An upcaster
 * reads a payload of version `from` and returns it as version `from + 1`; the registry (Upcasters.ts)
 * chains them, so an event stored at any version is read at the type's latest. Stored events are
 * never rewritten: upcasting happens on every read (as Marten's and Axon's upcasters).
 *
 * Upcasters run synchronously and must be pure: a command handler folds every event of its stream
 * through them, and an Effect per event would cost more than the upcasting.
 */
import { type Cause, Data, Exit, Result, Schema, SchemaIssue } from "effect"

export interface Upcaster {
  readonly event_type: string
  /** The version this upcaster reads; it returns version `from + 1`. */
  readonly from: number
  /** The payload at version `from + 1`, or why this payload cannot be upcast. */
  readonly upcast: (payload: Schema.Json) => Result.Result<Schema.Json, string>
  /**
   * Why `payload` is not a valid version `from + 1` payload, or undefined when it is. Only
   * upcasters that know that version's schema (`make`'s `target`) have it; `fromFunction`'s do not.
   */
  readonly checkTarget?: (payload: Schema.Json) => string | undefined
}

/**
 * An upcaster failed on a stored event (its payload was not what the upcaster reads, or there is
 * no upcaster from its version): the event cannot be read at the latest version.
 */
export class UpcastError extends Data.TaggedError("UpcastError")<{
  readonly eventId: string
  readonly eventType: string
  /** The event's stored version. */
  readonly storedVersion: number
  /** The version the failing step read. */
  readonly fromVersion: number
  /** The version the event was being upcast to (the type's latest). */
  readonly toVersion: number
  readonly reason: string
}> {
  override get message() {
    return `event ${this.eventId} (${this.eventType}): cannot upcast version ${this.fromVersion} to ${this.fromVersion + 1} (stored at ${this.storedVersion}, latest ${this.toVersion}): ${this.reason}`
  }
}

const formatIssue = SchemaIssue.makeFormatterDefault()

const reasonOf = (cause: Cause.Cause<Schema.SchemaError>): string => {
  const failure = cause.reasons.find((reason) => reason._tag === "Fail")
  return failure === undefined ? String(cause) : formatIssue(failure.error.issue).replace(/\n\s*/g, " ")
}

/**
 * An upcaster from schemas: the payload is decoded with `source` (version `from`), `upcast` maps it,
 * and the result is encoded with `target` (version `from + 1`) back to JSON. A payload `source`
 * does not decode fails with the schema's words, naming the bad field.
 */
export const make = <From, To>(
  options: Pick<Upcaster, "event_type" | "from"> & {
    readonly source: Schema.Codec<From, unknown>
    readonly target: Schema.Codec<To, unknown>
    readonly upcast: (payload: From) => To
  }
): Upcaster => {
  const decode = Schema.decodeUnknownExit(options.source)
  const encode = Schema.encodeExit(options.target)
  const decodeTarget = Schema.decodeUnknownExit(options.target)
  return {
    event_type: options.event_type,
    from: options.from,
    checkTarget: (payload) => {
      const decoded = decodeTarget(payload)
      return Exit.isFailure(decoded) ? reasonOf(decoded.cause) : undefined
    },
    upcast: (payload) => {
      const decoded = decode(payload)
      if (Exit.isFailure(decoded)) return Result.fail(`version ${options.from} payload: ${reasonOf(decoded.cause)}`)
      const encoded = encode(options.upcast(decoded.value))
      if (Exit.isFailure(encoded)) return Result.fail(`version ${options.from + 1} payload: ${reasonOf(encoded.cause)}`)
      return Result.succeed(encoded.value as Schema.Json)
    }
  }
}

/**
 * An upcaster from a function over the JSON payload. An exception it throws is its failure (its
 * message is the reason): a payload it did not expect must not crash a reader.
 */
export const fromFunction = (
  options: Pick<Upcaster, "event_type" | "from"> & {
    readonly upcast: (payload: Schema.Json) => Schema.Json
  }
): Upcaster => ({
  event_type: options.event_type,
  from: options.from,
  upcast: (payload) => {
    try {
      return Result.succeed(options.upcast(payload))
    } catch (error) {
      return Result.fail(error instanceof Error ? error.message : String(error))
    }
  }
})

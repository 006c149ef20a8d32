/**
 * Command handling on a stream: read the entity's stream, fold it with the decider, decide, and
 * append the new events with the revision read as the expected one, their outbox rows (routed as
 * ingestion routes them) in the same append. If another writer appended in between, the append
 * fails with WrongExpectedRevisionError and writes nothing; the handler then starts over from the
 * read, up to `retries` times, and fails with that error after the last.
 *
 * Events cross a schema both ways: the stream's stored events, upcast to their latest version by the
 * current Upcasters, are decoded into the decider's events (`{ type, payload, schema_version }` in),
 * and decided events are encoded into canonical events (ids from Ids.ts, `occurred_at` from the
 * Clock, entity from the stream, `schema_version` the type's latest when the schema leaves it out,
 * after checking the payload against that version's schema when the upcasters know it).
 */
import { type Cause, Clock, Data, DateTime, Effect, Exit, Schema, SchemaIssue } from "effect"
import type { Decider, DomainEvent } from "./Decider.ts"
import type { Event, TraceId } from "./Event.ts"
import { eventProblem } from "./EventProblem.ts"
import { EventStore, type StoredEvent, type StoreError } from "./EventStore.ts"
import { nextEventId, nextTraceId } from "./Ids.ts"
import { InvalidSettingError } from "./InvalidSetting.ts"
import { outboxDrafts, type Router } from "./Routing.ts"
import {
  defaultReadLimit,
  formatStream,
  type StreamName,
  type StreamRevision,
  WrongExpectedRevisionError
} from "./Stream.ts"
import type { UpcastError } from "./Upcaster.ts"
import { type Registry, Upcasters, upcastAll } from "./Upcasters.ts"

/** A decider's event as stored: what its schema encodes to and decodes from. */
export interface EncodedDomainEvent {
  readonly type: string
  readonly payload: Schema.Json
  readonly schema_version?: number
}

/**
 * A stored event did not decode with the handler's schema, or a decided event did not make a valid
 * canonical event (a bad type, a payload a database cannot store...): `reason` names the field.
 */
export class DomainEventError extends Data.TaggedError("DomainEventError")<{
  readonly stream: StreamName
  /** The stored event, when reading failed. */
  readonly eventId?: string
  /** The stored event's type and version, when reading failed. */
  readonly stored?: { readonly eventType: string; readonly schemaVersion: number }
  readonly reason: string
}> {
  override get message() {
    const stored =
      this.stored === undefined
        ? ""
        : ` (a stored ${this.stored.eventType} event, version ${this.stored.schemaVersion})`
    const which = this.eventId === undefined ? "a decided event" : `event ${this.eventId}${stored}`
    return `stream ${formatStream(this.stream)}: ${which}: ${this.reason}`
  }
}

/**
 * A decided event to be written at its type's latest version (it left out `schema_version`, so it
 * is stamped with it, or it gave that version) has a payload that is not a payload of that version
 * (the target schema of the type's last upcaster): a decider still emitting an older shape. Nothing
 * is written. Checked only where the last upcaster has a target schema (`Upcaster.make`); after an
 * `Upcaster.fromFunction` the payload is written as is.
 */
export class LatestVersionPayloadError extends Data.TaggedError("LatestVersionPayloadError")<{
  readonly stream: StreamName
  readonly eventType: string
  /** The version the event would have been written at: its type's latest. */
  readonly schemaVersion: number
  /** What the version's schema said, naming the bad field. */
  readonly reason: string
}> {
  override get message() {
    return `stream ${formatStream(this.stream)}: a decided ${this.eventType} event would be written at the type's latest version, ${this.schemaVersion}, but its payload is not a version ${this.schemaVersion} payload: ${this.reason}`
  }
}

/**
 * A decided event gave a `schema_version` above its type's latest version (where its upcasters end):
 * this process's readers could not bring the type's older events to it, so its fold would see two
 * shapes. Nothing is written. Register the upcasters up to that version, or leave `schema_version`
 * out (the event is then written at the latest version). Types without upcasters take any version.
 */
export class SchemaVersionAheadError extends Data.TaggedError("SchemaVersionAheadError")<{
  readonly stream: StreamName
  readonly eventType: string
  /** The version the decided event gave. */
  readonly schemaVersion: number
  /** The type's latest version, where its upcasters end. */
  readonly latest: number
}> {
  override get message() {
    return `stream ${formatStream(this.stream)}: a decided ${this.eventType} event gave schema_version ${this.schemaVersion}, above the type's latest version ${this.latest} (where its upcasters end): register upcasters up to ${this.schemaVersion}, or leave schema_version out`
  }
}

export interface CommandHandlerOptions<Command, Ev extends DomainEvent, State, E> {
  readonly decider: Decider<Command, Ev, State, E>
  /** Encodes the decider's events to `{ type, payload, schema_version? }` and decodes them back. */
  readonly events: Schema.Codec<Ev, EncodedDomainEvent>
  /** Routes the new events to the outbox, as ingestion does. @default no route: no outbox row */
  readonly router?: Router
  /** How many times to start over after a WrongExpectedRevisionError. @default 3 */
  readonly retries?: number
}

export interface HandleOptions {
  /** The trace id of the new events. @default a new one per command */
  readonly traceId?: TraceId
}

/** What handling a command did. */
export interface CommandResult<State, Ev> {
  /** The state after the new events. */
  readonly state: State
  /** The decided events (none when the decider decided nothing). */
  readonly events: ReadonlyArray<Ev>
  /** The canonical events stored for them. */
  readonly stored: ReadonlyArray<Event>
  /** The stream's revision afterwards: the one to expect on the next append. */
  readonly nextExpectedRevision: StreamRevision
  readonly outboxRows: number
}

const formatIssue = SchemaIssue.makeFormatterDefault()
// Schemas run synchronously (Exit): a command folds every event of its stream, and an Effect per
// event cost more than the decoding itself.

/** What a schema said was wrong, on one line. */
const reasonOf = (cause: Cause.Cause<Schema.SchemaError>): string => {
  const failure = cause.reasons.find((reason) => reason._tag === "Fail")
  return failure === undefined ? String(cause) : formatIssue(failure.error.issue).replace(/\n\s*/g, " ")
}

/** The schema's result, or a DomainEventError about a decided event. */
const orDomainError = <A>(
  exit: Exit.Exit<A, Schema.SchemaError>,
  stream: StreamName
): Effect.Effect<A, DomainEventError> =>
  Exit.isSuccess(exit)
    ? Effect.succeed(exit.value)
    : Effect.fail(new DomainEventError({ stream, reason: reasonOf(exit.cause) }))

/** Every event of `stream`, in pages (one read when the stream is shorter than a page). */
const readAll = (store: EventStore["Service"], stream: StreamName) => {
  const from = (all: Array<StoredEvent>): Effect.Effect<ReadonlyArray<StoredEvent>, StoreError> =>
    Effect.flatMap(store.readStream(stream, { from: all.length, limit: defaultReadLimit }), (page) => {
      if (all.length === 0 && page.length < defaultReadLimit) return Effect.succeed(page)
      all.push(...page)
      return page.length < defaultReadLimit ? Effect.succeed(all) : from(all)
    })
  return Effect.suspend(() => from([]))
}

/**
 * A command handler: `handle(stream, command)` runs the command against the entity's stream. It
 * joins the caller's transaction if there is one (`EventStore.transaction`). Throws InvalidSettingError for
 * `retries` that is not an integer >= 0.
 */
export const make = <Command, Ev extends DomainEvent, State, E>(
  options: CommandHandlerOptions<Command, Ev, State, E>
) => {
  const { decider, router } = options
  const retries = options.retries ?? 3
  if (!(Number.isSafeInteger(retries) && retries >= 0))
    throw new InvalidSettingError({
      owner: "CommandHandler",
      setting: "retries",
      reason: `${retries} is not an integer >= 0`
    })
  const decode = Schema.decodeUnknownExit(options.events)
  const encode = Schema.encodeExit(options.events)

  /** The state `stored` folds into, or the DomainEventError of the first event the schema refuses. */
  const fold = (stream: StreamName, stored: ReadonlyArray<StoredEvent>): Effect.Effect<State, DomainEventError> => {
    let state = decider.initialState()
    for (const { event } of stored) {
      const decoded = decode({ type: event.event_type, payload: event.payload, schema_version: event.schema_version })
      if (Exit.isFailure(decoded))
        return Effect.fail(
          new DomainEventError({
            stream,
            eventId: event.event_id,
            stored: { eventType: event.event_type, schemaVersion: event.schema_version },
            reason: reasonOf(decoded.cause)
          })
        )
      state = decider.evolve(state, decoded.value)
    }
    return Effect.succeed(state)
  }

  const attempt = (
    store: EventStore["Service"],
    upcasters: Registry,
    stream: StreamName,
    command: Command,
    traceId: TraceId
  ) =>
    Effect.gen(function* () {
      const stored = yield* Effect.fromResult(upcastAll(upcasters, yield* readAll(store, stream)))
      const state = yield* fold(stream, stored)
      const revision: StreamRevision = stored.at(-1)?.revision ?? "no_stream"
      const decided = yield* decider.decide(command, state)
      if (decided.length === 0) {
        return { state, events: decided, stored: [], nextExpectedRevision: revision, outboxRows: 0 }
      }
      const occurred_at = DateTime.makeUnsafe(yield* Clock.currentTimeMillis)
      const events: Array<Event> = []
      for (const domain of decided) {
        const encoded = yield* orDomainError(encode(domain), stream)
        const latest = upcasters.latest(encoded.type)
        if (latest !== undefined && encoded.schema_version !== undefined && encoded.schema_version > latest) {
          return yield* new SchemaVersionAheadError({
            stream,
            eventType: encoded.type,
            schemaVersion: encoded.schema_version,
            latest
          })
        }
        if (latest !== undefined && (encoded.schema_version ?? latest) === latest) {
          // Writing the latest version over an older shape would store a malformed event.
          const reason = upcasters.latestPayloadProblem(encoded.type, encoded.payload)
          if (reason !== undefined) {
            return yield* new LatestVersionPayloadError({
              stream,
              eventType: encoded.type,
              schemaVersion: latest,
              reason
            })
          }
        }
        // In the schema's field order: the same object the schema would decode.
        const candidate = {
          event_id: yield* nextEventId,
          event_type: encoded.type,
          entity_id: stream.entity_id,
          entity_type: stream.entity_type,
          trace_id: traceId,
          schema_version: encoded.schema_version ?? latest ?? 1,
          occurred_at,
          payload: encoded.payload
        }
        // As the store will check it (its direct check first): a refusal names the field.
        const problem = eventProblem(candidate as Event)
        if (problem !== undefined) return yield* new DomainEventError({ stream, reason: problem })
        events.push(candidate as Event)
      }
      const result = yield* store.appendToStream(
        stream,
        { raw: null, events, outbox: router === undefined ? [] : outboxDrafts(router, events) },
        { expectedRevision: revision }
      )
      return {
        state: decided.reduce(decider.evolve, state),
        events: decided,
        stored: events,
        nextExpectedRevision: result.nextExpectedRevision,
        outboxRows: result.outboxRows
      }
    })

  /** Handles `command` on `stream`. */
  const handle = (
    stream: StreamName,
    command: Command,
    handleOptions: HandleOptions = {}
  ): Effect.Effect<
    CommandResult<State, Ev>,
    | E
    | WrongExpectedRevisionError
    | DomainEventError
    | LatestVersionPayloadError
    | SchemaVersionAheadError
    | UpcastError
    | StoreError,
    EventStore
  > =>
    // Data first: the data-last form of withSpan takes a stack trace whatever the options say.
    Effect.withSpan(
      Effect.gen(function* () {
        const store = yield* EventStore
        const upcasters = yield* Upcasters
        const traceId = handleOptions.traceId ?? (yield* nextTraceId)
        // A catch, not Effect.retry: the schedule's machinery cost every command, retried or not.
        const tryAgain = (left: number): ReturnType<typeof attempt> =>
          Effect.catchIf(
            attempt(store, upcasters, stream, command, traceId),
            (error) => error instanceof WrongExpectedRevisionError,
            (error) =>
              left > 0
                ? tryAgain(left - 1)
                : Effect.fail(new WrongExpectedRevisionError({ ...error, attempts: retries + 1 }))
          )
        return yield* tryAgain(retries)
      }),
      "sluice.command",
      // No stack trace (Effect.fn took two per call): each cost more than the span itself.
      { attributes: { entity_type: stream.entity_type, entity_id: stream.entity_id }, captureStackTrace: false }
    )

  return { handle }
}

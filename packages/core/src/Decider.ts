/**
 * Deciders: an entity's behaviour as three functions, the decider pattern (Jérémie Chassaing; as
 * Emmett's `Decider`). `evolve` folds the entity's past events, from `initialState`, into the state
 * that `decide` answers a command from: with new events, or with the domain's own typed error. No
 * store in sight, so a decider is tested with events in and events out (`DeciderSpecification` in
 * `@sluice/core/testing`) and run against a stream by `CommandHandler`.
 */
import type { Effect } from "effect"

/**
 * An event as a decider sees it: its type and payload, which become the canonical event's
 * `event_type` and `payload` (its id, entity, trace and time are the handler's to set).
 */
export interface DomainEvent {
  readonly type: string
  readonly payload: unknown
  /**
   * The payload's schema version. When left out, `CommandHandler` writes the type's latest version
   * (the newest its registered Upcasters upcast to), or 1 when the type has no upcasters.
   */
  readonly schema_version?: number
}

export interface Decider<Command, Event extends DomainEvent, State, E = never> {
  /** The state of an entity with no events yet. A function, so that a mutable state is never shared. */
  readonly initialState: () => State
  /** The state after `event`. Pure: it runs on every read of the stream. */
  readonly evolve: (state: State, event: Event) => State
  /** What `command` yields in `state`: the new events (none is a valid answer), or the domain's error. */
  readonly decide: (command: Command, state: State) => Effect.Effect<ReadonlyArray<Event>, E>
}

/** Types a decider (inference helper: `Decider.make({ initialState, evolve, decide })`). */
export const make = <Command, Event extends DomainEvent, State, E = never>(
  decider: Decider<Command, Event, State, E>
): Decider<Command, Event, State, E> => decider

/** Folds `events` into a state, from `state` (@default the decider's initial state). */
export const fold = <Command, Event extends DomainEvent, State, E>(
  decider: Decider<Command, Event, State, E>,
  events: Iterable<Event>,
  state: State = decider.initialState()
): State => {
  let current = state
  for (const event of events) current = decider.evolve(current, event)
  return current
}

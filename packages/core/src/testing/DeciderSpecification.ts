/**
 * Given/when/then tests of a decider, as Emmett's `DeciderSpecification`: the past events, the
 * command, then the events decided or the error. No store: the events are folded with `evolve` and
 * the command decided with `decide`.
 *
 * ```ts
 * const spec = DeciderSpecification.for(account)
 * spec.given([opened]).when(deposit(10)).then([deposited(10)])   // an Effect<void>
 * spec.given([]).when(deposit(10)).then(new AccountNotOpen({ id: "a-1" }))
 * ```
 *
 * `then` returns an Effect that dies with a ContractViolationError (check.ts) saying what was
 * expected and what came instead: the test fails under `it.effect`, and `Effect.runSync` /
 * `Effect.runPromise` throw it under any other framework.
 */
import { Cause, Effect, Equal, Exit } from "effect"
import { type Decider, type DomainEvent, fold } from "../Decider.ts"
import { ContractViolationError } from "./check.ts"

export interface Then<Ev, E> {
  /**
   * Expects the decided events (an array, compared as JSON), or the decider's error (any other
   * value, compared with `Equal.equals`: tagged errors with equal fields are equal).
   */
  readonly then: (expected: ReadonlyArray<Ev> | E) => Effect.Effect<void>
}

export interface When<Command, Ev, E> {
  readonly when: (command: Command) => Then<Ev, E>
}

export interface Given<Command, Ev, E> {
  /** The events the entity already has, oldest first. */
  readonly given: (events: ReadonlyArray<Ev>) => When<Command, Ev, E>
}

const show = (value: unknown): string => {
  if (value instanceof Error && "_tag" in value) return `${String(value._tag)} ${JSON.stringify(value)}`
  return JSON.stringify(value) ?? String(value)
}

const violation = (message: string) => Effect.die(new ContractViolationError({ message }))

/** The given/when/then of `decider`. */
const forDecider = <Command, Ev extends DomainEvent, State, E>(
  decider: Decider<Command, Ev, State, E>
): Given<Command, Ev, E> => ({
  given: (events) => ({
    when: (command) => ({
      // biome-ignore lint/suspicious/noThenProperty: given/when/then is the API (as Emmett's); awaiting it is refused below.
      then: (expected: ReadonlyArray<Ev> | E, reject?: unknown) => {
        // `await spec.given(...).when(...)` calls then(resolve, reject): refuse rather than hang.
        if (typeof reject === "function") {
          reject(new Error("DeciderSpecification: then(expected) returns an Effect to run; do not await when()"))
          return Effect.void
        }
        return Effect.gen(function* () {
          const exit = yield* Effect.exit(Effect.suspend(() => decider.decide(command, fold(decider, events))))
          const expectsEvents = Array.isArray(expected)
          if (Exit.isSuccess(exit)) {
            if (!expectsEvents)
              return yield* violation(`expected the error ${show(expected)}, but decide returned ${show(exit.value)}`)
            if (show(exit.value) !== show(expected))
              return yield* violation(`expected the events ${show(expected)}, got ${show(exit.value)}`)
            return
          }
          const failure = exit.cause.reasons.find(Cause.isFailReason)
          // A defect (a throw in evolve or decide) is a bug in the decider, not an expected outcome.
          if (failure === undefined) return yield* Effect.failCause(exit.cause).pipe(Effect.orDie)
          if (expectsEvents)
            return yield* violation(
              `expected the events ${show(expected)}, but decide failed with ${show(failure.error)}`
            )
          if (!Equal.equals(failure.error, expected))
            return yield* violation(`expected the error ${show(expected)}, got ${show(failure.error)}`)
        })
      }
    })
  })
})

export { forDecider as for }

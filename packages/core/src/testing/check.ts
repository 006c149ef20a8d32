/**
 * Assertions for suites that must run without a test framework (core imports only `effect`): a
 * failed check dies with a ContractViolationError that says what was expected and what came back.
 */
import { Data, Effect } from "effect"

export class ContractViolationError extends Data.TaggedError("ContractViolationError")<{ readonly message: string }> {}

const show = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v)) ?? String(value)

/** Dies unless `actual` and `expected` are structurally equal (compared as JSON). */
export const equal = <A>(actual: A, expected: A, what: string): Effect.Effect<void> =>
  show(actual) === show(expected)
    ? Effect.void
    : Effect.die(new ContractViolationError({ message: `${what}: expected ${show(expected)}, got ${show(actual)}` }))

/** Dies unless `condition` holds. */
export const that = (condition: boolean, what: string): Effect.Effect<void> =>
  condition ? Effect.void : Effect.die(new ContractViolationError({ message: what }))

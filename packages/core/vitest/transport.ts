/**
 * Vitest binding for the Transport contract: `transportSuite(name, makeSubject)` registers every
 * contract case as a test, each with a fresh subject. Lives outside `src` because it needs vitest.
 */
import { describe, it } from "@effect/vitest"
import { Effect, type Scope } from "effect"
import { cases, type Features, type TransportSubject } from "../src/testing/TransportContract.ts"

export interface TransportSuiteOptions {
  /** Capabilities the transport lacks, each with its reason. @default all supported */
  readonly features?: Features
  /**
   * `virtual`: TestClock time (in-memory transports); `real`: real time and I/O (a transport that
   * talks to a server or a stream).
   * @default "virtual"
   */
  readonly time?: "virtual" | "real"
  /** Per-test timeout in milliseconds. @default 20000 */
  readonly timeout?: number
}

/** Runs the Transport contract against the subjects `makeSubject` builds (one per case, in a scope). */
export const transportSuite = <E, R extends Scope.Scope>(
  name: string,
  makeSubject: Effect.Effect<TransportSubject, E, R>,
  options: TransportSuiteOptions = {}
): void => {
  const test = options.time === "real" ? it.live : it.effect
  // A declared gap is named in the suite's title; its cases are not registered (nothing is skipped).
  const gaps = Object.entries(options.features ?? {}).map(([feature, gap]) => `without ${feature}: ${gap.unsupported}`)
  describe(`Transport contract: ${name}${gaps.length > 0 ? ` (${gaps.join("; ")})` : ""}`, () => {
    for (const contractCase of cases) {
      if (contractCase.requires !== undefined && options.features?.[contractCase.requires] !== undefined) continue
      test(
        contractCase.name,
        () => Effect.flatMap(makeSubject, (subject) => contractCase.run(subject)),
        options.timeout ?? 20_000
      )
    }
  })
}

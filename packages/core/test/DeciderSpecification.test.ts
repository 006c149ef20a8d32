import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit } from "effect"
import * as Decider from "../src/Decider.ts"
import { ContractViolationError } from "../src/testing/check.ts"
import * as DeciderSpecification from "../src/testing/DeciderSpecification.ts"
import { AccountNotOpen, account, deposited, InsufficientFunds, opened, withdrawn } from "./fixtures/account.ts"

const spec = DeciderSpecification.for(account)

/** The message of the ContractViolationError `self` died with; fails the test if it did not die so. */
const violation = (self: Effect.Effect<void>) =>
  Effect.gen(function* () {
    const exit = yield* Effect.exit(self)
    assert.isTrue(Exit.isFailure(exit), "the expectation must fail")
    const defect = Exit.isFailure(exit) ? exit.cause.reasons.find(Cause.isDieReason)?.defect : undefined
    assert.instanceOf(defect, ContractViolationError)
    return (defect as ContractViolationError).message
  })

describe("DeciderSpecification", () => {
  it.effect("given events, when a command, then the decided events", () =>
    spec
      .given([opened("ada"), deposited(10)])
      .when({ type: "withdraw", amount: 4 })
      .then([withdrawn(4)])
  )

  it.effect("then no event", () =>
    spec
      .given([opened("ada")])
      .when({ type: "open", owner: "ada" })
      .then([])
  )

  it.effect("then the decider's error, compared by value", () =>
    Effect.gen(function* () {
      yield* spec.given([]).when({ type: "deposit", amount: 1 }).then(new AccountNotOpen())
      yield* spec
        .given([opened("ada"), deposited(3)])
        .when({ type: "withdraw", amount: 5 })
        .then(new InsufficientFunds({ balance: 3, amount: 5 }))
    })
  )

  it.effect("other events than expected fail the expectation, saying both", () =>
    Effect.gen(function* () {
      const message = yield* violation(
        spec
          .given([opened("ada")])
          .when({ type: "deposit", amount: 2 })
          .then([deposited(3)])
      )
      assert.include(message, `"amount":3`)
      assert.include(message, `"amount":2`)
    })
  )

  it.effect("an error where events were expected, and events where an error was, fail the expectation", () =>
    Effect.gen(function* () {
      const unexpectedError = yield* violation(
        spec
          .given([])
          .when({ type: "deposit", amount: 2 })
          .then([deposited(2)])
      )
      assert.include(unexpectedError, "AccountNotOpen")
      const unexpectedEvents = yield* violation(
        spec
          .given([opened("ada")])
          .when({ type: "deposit", amount: 2 })
          .then(new AccountNotOpen())
      )
      assert.include(unexpectedEvents, "decide returned")
    })
  )

  it.effect("an error with other fields than expected fails the expectation", () =>
    Effect.gen(function* () {
      const message = yield* violation(
        spec
          .given([opened("ada"), deposited(3)])
          .when({ type: "withdraw", amount: 5 })
          .then(new InsufficientFunds({ balance: 4, amount: 5 }))
      )
      assert.include(message, `"balance":3`)
    })
  )

  it.effect("a defect in the decider is not an outcome: it fails whatever was expected", () =>
    Effect.gen(function* () {
      const broken = DeciderSpecification.for(
        Decider.make({
          ...account,
          evolve: () => {
            throw new Error("evolve is broken")
          }
        })
      )
      const exit = yield* Effect.exit(
        broken
          .given([opened("ada")])
          .when({ type: "open", owner: "ada" })
          .then([])
      )
      assert.isTrue(Exit.isFailure(exit) && Cause.pretty(exit.cause).includes("evolve is broken"))
    })
  )

  it("works without a test framework's Effect support: runSync throws on a failed expectation", () => {
    Effect.runSync(
      spec
        .given([])
        .when({ type: "open", owner: "ada" })
        .then([opened("ada")])
    )
    assert.throws(
      () =>
        Effect.runSync(
          spec
            .given([])
            .when({ type: "open", owner: "ada" })
            .then([opened("bob")])
        ),
      /expected the events/
    )
  })

  it("awaiting when() is refused instead of hanging", async () => {
    const whenOnly: unknown = spec.given([]).when({ type: "open", owner: "ada" })
    let error: unknown
    try {
      await Promise.resolve(whenOnly)
    } catch (caught) {
      error = caught
    }
    assert.match(String(error), /do not await/)
  })

  it("Decider.fold folds events with evolve from the initial state", () => {
    assert.deepStrictEqual(Decider.fold(account, [opened("ada"), deposited(5), withdrawn(2)]), {
      open: true,
      balance: 3
    })
    assert.deepStrictEqual(Decider.fold(account, [deposited(1)], { open: true, balance: 10 }), {
      open: true,
      balance: 11
    })
  })
})

/** The start-time warning when a route's resends can outlast its transport's duplicate window. */
import { assert, describe, it } from "@effect/vitest"
import { defaultRetryPolicy, delivered, Relay, type Transport } from "@sluice/core"
import { Duration, Effect } from "effect"
import { resendHorizon, windowWarning } from "../src/DuplicateWindow.ts"

const transport = (duplicateWindow: Duration.Duration | undefined): Transport => ({
  name: "bus",
  publish: (envelopes) => Effect.succeed(envelopes.map(() => delivered)),
  duplicateWindow
})

// The runner's defaults: a 30 s lease, so a 24 s publish timeout, and 5 attempts.
const defaults = Relay.settingsOf({ routes: [], lease: "30 seconds", retryPolicy: defaultRetryPolicy })

describe("the duplicate window check", () => {
  it("a resend can come a lease plus each retry's publish timeout and backoff ceiling after the first send", () => {
    // 30 s + 4 x 24 s + (1 + 2 + 4 + 8) s
    assert.strictEqual(Duration.toMillis(resendHorizon(defaults)), 141_000)
    const once = Relay.settingsOf({
      routes: [],
      lease: "10 seconds",
      retryPolicy: { ...defaultRetryPolicy, maxAttempts: 1 }
    })
    assert.strictEqual(Duration.toMillis(resendHorizon(once)), 10_000)
  })

  it("warns, naming the route, the transport and both durations, only when the window is shorter", () => {
    const warning = windowWarning("orders", transport(Duration.minutes(2)), defaults)
    assert.isDefined(warning)
    assert.include(warning, "route orders")
    assert.include(warning, "transport bus")
    assert.include(warning, "2m 21s")
    assert.include(warning, "2m duplicate window")
    assert.isUndefined(windowWarning("orders", transport(Duration.minutes(10)), defaults))
    assert.isUndefined(windowWarning("orders", transport(undefined), defaults))
  })
})

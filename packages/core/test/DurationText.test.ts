/**
 * DurationText, the config files' durations: at least 1 ms and finite, so that a value the relay or
 * Ingest.run would refuse (InvalidSettingError) fails the config check, naming the field, instead of the
 * running process.
 */

import { Duration, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { DurationText, toDuration } from "../src/DurationText.ts"

const accepts = (text: string) => Schema.is(DurationText)(text)

describe("DurationText", () => {
  it("accepts the usual forms", () => {
    for (const text of ["1 millis", "500 millis", "10 seconds", "2 days"]) expect(accepts(text)).toBe(true)
    expect(Duration.toMillis(toDuration("10 seconds"))).toBe(10_000)
  })

  it("refuses what the options refuse: 0, under 1 ms, Infinity, text that does not parse", () => {
    for (const text of ["0 millis", "500 micros", "Infinity", "soon", ""]) expect(accepts(text)).toBe(false)
  })
})

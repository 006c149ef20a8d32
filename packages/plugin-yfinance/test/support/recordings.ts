/**
 * Test support: loads the recorded Yahoo exchanges of test/fixtures/yahoo and builds replaying
 * fetches from them.
 */
import { readdirSync, readFileSync } from "node:fs"
import { Effect } from "effect"
import { makeReplayFetch, type Recording, type ReplayFetch, type ReplayOptions } from "../../src/ReplayFetch.ts"

const dir = new URL("../fixtures/yahoo/", import.meta.url)

/** Every fixture file name (recorded and hand-made). */
export const fixtureNames: ReadonlyArray<string> = readdirSync(dir)
  .filter((name) => name.endsWith(".json"))
  .sort()

/** One fixture file, parsed. */
export const recording = (name: string): Recording => JSON.parse(readFileSync(new URL(name, dir), "utf8")) as Recording

/** The response body of a fixture as Yahoo sent it (text). */
export const bodyOf = (name: string): string => {
  const response = recording(name).response
  return response.bodyText ?? JSON.stringify(response.bodyJson)
}

/** The crumb handshake plus the real (not `.fake`) recordings. */
export const realRecordings = (): Array<Recording> =>
  fixtureNames.filter((name) => !name.includes(".fake.") && !name.startsWith("sluice-")).map(recording)

/**
 * A replaying fetch over the real recordings followed by `extra` fixtures (which win on equal
 * requests, so a `.fake` case can replace the recording it was derived from).
 */
export const replay = (extra: ReadonlyArray<string> = [], options: ReplayOptions = {}) =>
  makeReplayFetch([...realRecordings(), ...extra.map(recording)], options)

/**
 * Waits (in real time: the handshake runs on real promises) until the replaying fetch has seen a
 * request whose URL contains `fragment`; tests on the TestClock use it before moving time. Dies
 * after `timeoutMs` (generous: it only costs time when the request never comes).
 */
export const untilCalled = (http: ReplayFetch, fragment: string, timeoutMs = 20_000): Effect.Effect<void> =>
  Effect.promise(async () => {
    const deadline = Date.now() + timeoutMs
    while (!http.calls.some((call) => call.url.includes(fragment))) {
      if (Date.now() > deadline) throw new Error(`no request to ${fragment} within ${timeoutMs} ms`)
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
  })

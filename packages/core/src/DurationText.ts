/**
 * A positive duration written as text (`"500 millis"`, `"10 seconds"`, `"2 days"`): how config
 * files (the runner's, plugins') spell durations, one schema so every field accepts the same forms
 * and rejects with the same message. At least 1 ms and finite: the options these texts feed (a
 * lease, a poll interval, a schedule) refuse less or "Infinity" (see InvalidSettingError), and a config
 * file must fail its check, naming the field, rather than the running process.
 */
import { Duration, Schema } from "effect"
import { checkDuration } from "./InvalidSetting.ts"

// A checked string, not a Schema.DurationFromString transformation: configs and plugin options keep
// the text as written (their decoded types are public API), and `toDuration` converts where used.
export const DurationText = Schema.String.pipe(
  Schema.check(
    Schema.makeFilter(
      (text: string) => "duration" in checkDuration(text as Duration.Input, { least: 1, infinite: false }),
      { expected: 'a positive duration (at least 1 millis, finite) such as "500 millis", "10 seconds" or "2 days"' }
    )
  )
)

/** Converts a text that `DurationText` accepted. */
export const toDuration = (text: string): Duration.Duration => Duration.fromInputUnsafe(text as Duration.Input)

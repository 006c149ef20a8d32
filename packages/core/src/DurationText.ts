/**
 * A positive duration written as text (`"500 millis"`, `"10 seconds"`, `"2 days"`): how config
 * files (the runner's, plugins') spell durations, one schema so every field accepts the same forms
 * and rejects with the same message.
 */
import { Duration, Option, Schema } from "effect"

export const DurationText = Schema.String.pipe(
  Schema.check(
    Schema.makeFilter(
      (text: string) => {
        const parsed = Duration.fromInput(text as Duration.Input)
        return Option.isSome(parsed) && Duration.toMillis(parsed.value) > 0
      },
      { expected: 'a positive duration such as "500 millis", "10 seconds" or "2 days"' }
    )
  )
)

/** Converts a text that `DurationText` accepted. */
export const toDuration = (text: string): Duration.Duration => Duration.fromInputUnsafe(text as Duration.Input)

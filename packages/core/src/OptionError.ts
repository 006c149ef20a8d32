/**
 * Options given in code that cannot work: a lease or an interval of 0, a duration that does not
 * parse, NaN. They are mistakes in the caller's code, not runtime conditions, so the functions that
 * take them die at once with this error, naming the option, instead of running with a value that
 * spins, hammers a source or hands one row to two workers. (The runner's config file is checked
 * against its schema before any of this.)
 */
import { Data, Duration, Option } from "effect"

export class OptionError extends Data.TaggedError("OptionError")<{
  /** Whose option: "relay", "ingest". */
  readonly owner: string
  readonly option: string
  readonly reason: string
}> {
  override get message() {
    return `${this.owner} option ${this.option}: ${this.reason}`
  }
}

/** Parses a duration option; throws OptionError when it does not parse or breaks `rules`. */
export const durationOption = (
  owner: string,
  option: string,
  input: Duration.Input,
  rules: { readonly zero: boolean; readonly infinite: boolean }
): Duration.Duration => {
  const fail = (reason: string) => new OptionError({ owner, option, reason: `${String(input)} ${reason}` })
  const parsed = Duration.fromInput(input)
  if (Option.isNone(parsed)) throw fail("is not a duration")
  const millis = Duration.toMillis(parsed.value)
  if (Number.isNaN(millis) || millis < 0 || (millis === 0 && !rules.zero))
    throw fail(`must be ${rules.zero ? "0 or more" : "above 0"}`)
  if (!rules.infinite && !Duration.isFinite(parsed.value)) throw fail("must be finite")
  return parsed.value
}

/** A count of at least 1 (smaller values count as 1); throws OptionError for NaN and infinities. */
export const countOption = (owner: string, option: string, value: number | undefined, fallback: number): number => {
  if (value === undefined) return fallback
  if (!Number.isFinite(value)) throw new OptionError({ owner, option, reason: `${value} is not a finite number` })
  return Math.max(1, Math.floor(value))
}

/**
 * Invalid settings: options given in code that cannot work: a lease or an interval under 1 ms, a duration that does
 * not parse, NaN. They are mistakes in the caller's code, not runtime conditions, so the functions
 * that take them die at once with this error, naming the option, instead of running with a value
 * that spins, hammers a source or hands one row to two workers. (The runner's config file is
 * checked first: `DurationText` takes only what these accept.)
 */
import { Data, Duration, Option } from "effect"

export class InvalidSettingError extends Data.TaggedError("InvalidSettingError")<{
  /** Whose option: "relay", "ingest", "store". */
  readonly owner: string
  /** The option's name, as the caller wrote it. */
  readonly setting: string
  readonly reason: string
}> {
  override get message() {
    return `${this.owner} option ${this.setting}: ${this.reason}`
  }
}

/** What a duration option may be: at least `least` milliseconds, and infinite or not. */
export interface DurationRules {
  readonly least: number
  readonly infinite: boolean
}

/**
 * The duration `input` stands for, or why it cannot be used under `rules`: the one definition
 * shared by the options (settingDuration) and the config files (DurationText). effect's Duration
 * reads NaN as 0, so NaN is caught before parsing.
 */
export const checkDuration = (
  input: Duration.Input,
  rules: DurationRules
): { readonly duration: Duration.Duration } | { readonly problem: string } => {
  const parsed = typeof input === "number" && Number.isNaN(input) ? Option.none() : Duration.fromInput(input)
  if (Option.isNone(parsed)) return { problem: `${JSON.stringify(input) ?? String(input)} is not a duration` }
  // As written when it was text; otherwise as effect formats it.
  const shown = typeof input === "string" ? JSON.stringify(input) : Duration.format(parsed.value)
  if (Duration.toMillis(parsed.value) < rules.least)
    return { problem: `${shown} is under ${rules.least === 1 ? "1 millisecond" : `${rules.least} ms`}` }
  if (!rules.infinite && !Duration.isFinite(parsed.value)) return { problem: `${shown}: must be finite` }
  return { duration: parsed.value }
}

/** Parses a duration option; throws InvalidSettingError, naming it, when checkDuration finds a problem. */
export const settingDuration = (
  owner: string,
  setting: string,
  input: Duration.Input,
  rules: DurationRules
): Duration.Duration => {
  const checked = checkDuration(input, rules)
  if ("problem" in checked) throw new InvalidSettingError({ owner, setting, reason: checked.problem })
  return checked.duration
}

/**
 * A count of at least 1 (smaller values count as 1) and at most `most`; throws InvalidSettingError for NaN,
 * infinities and counts over `most`.
 */
export const settingCount = (
  owner: string,
  setting: string,
  value: number | undefined,
  fallback: number,
  most = Number.MAX_SAFE_INTEGER
): number => {
  if (value === undefined) return fallback
  if (!Number.isFinite(value))
    throw new InvalidSettingError({ owner, setting, reason: `${value} is not a finite number` })
  const count = Math.max(1, Math.floor(value))
  if (count > most) throw new InvalidSettingError({ owner, setting, reason: `${count} is over ${most}` })
  return count
}

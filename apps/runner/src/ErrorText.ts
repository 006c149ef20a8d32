/**
 * One readable line for any failure. Some library errors carry an empty message (Effect's
 * ServeError, for one, keeps the reason in its cause): printing `error.message` alone then shows
 * nothing. Used for what `sluice` prints on failure and for start-up errors that wrap others.
 */
import { Cause } from "effect"

/**
 * The text of a failure: its message, or, when that is empty (some library errors have none),
 * its tag and then its cause's text, so that no failure prints a bare `error: `.
 */
export const describeError = (error: unknown, depth = 0): string => {
  if (typeof error !== "object" || error === null) return String(error)
  const { message, _tag, name, cause } = error as { message?: unknown; _tag?: unknown; name?: unknown; cause?: unknown }
  if (typeof message === "string" && message.trim() !== "") return message
  const label = typeof _tag === "string" ? _tag : typeof name === "string" && name !== "" ? name : "unknown error"
  if (cause === undefined || cause === null || depth > 4) return label
  const inner = Cause.isCause(cause) ? Cause.pretty(cause) : describeError(cause, depth + 1)
  return inner.trim() === "" ? label : `${label}: ${inner}`
}

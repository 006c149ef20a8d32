/**
 * Exit codes scripts can rely on: 0 success (also a run stopped by SIGTERM/SIGINT that drained),
 * 1 runtime failure, 2 usage or config error. A second signal exits at once with 128 + signal
 * number (130 for SIGINT, 143 for SIGTERM), see main.ts.
 */
import { Cause, Exit } from "effect"
import { CliError } from "effect/cli"
import { describeError } from "./ErrorText.ts"

export const OK = 0
export const FAILURE = 1
export const USAGE = 2

const usageTags = new Set([
  "ConfigFileError",
  "UnknownPluginError",
  "UsageError",
  "MissingDatabaseUrlError",
  "DatabaseUrlError",
  "PluginImportError",
  "PluginNameError",
  "TargetFolderError",
  "UnknownProjectionError"
])

/** True for failures that are the caller's to fix (bad flags, bad config). */
export const isUsageError = (error: unknown): boolean =>
  CliError.isCliError(error) ||
  (typeof error === "object" && error !== null && "_tag" in error && usageTags.has(String(error._tag)))

/** The exit code of a finished command; `signalled` when a SIGTERM/SIGINT asked it to stop. */
export const exitCode = (exit: Exit.Exit<unknown, unknown>, signalled: boolean): number => {
  if (Exit.isSuccess(exit)) return OK
  const cause = exit.cause
  if (Cause.hasInterruptsOnly(cause)) return signalled ? OK : FAILURE
  const failure = cause.reasons.find(Cause.isFailReason)
  return failure !== undefined && isUsageError(failure.error) ? USAGE : FAILURE
}

/** What to print for a failed command (nothing for interruptions and already-rendered CLI errors). */
export const failureText = (exit: Exit.Exit<unknown, unknown>): string | undefined => {
  if (Exit.isSuccess(exit) || Cause.hasInterruptsOnly(exit.cause)) return undefined
  const failure = exit.cause.reasons.find(Cause.isFailReason)
  if (failure !== undefined) {
    if (CliError.isCliError(failure.error)) return undefined
    return `error: ${describeError(failure.error)}`
  }
  const pretty = Cause.pretty(exit.cause)
  return `error: ${pretty.trim() === "" ? "the command failed without a message (run with --log-level debug)" : pretty}`
}

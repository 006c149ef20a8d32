/**
 * Log output of the runner. Logs go to stderr, so stdout carries only what a command prints (the
 * console transport's event lines, `dlq list --json`...) and `sluice run | jq` stays clean.
 * `auto` picks JSON lines (core's formatJson) when stderr is not a terminal, pretty lines when it is.
 */
import { formatJson } from "@sluice/core"
import { Cause, Layer, Logger, type LogLevel, References } from "effect"

/** `auto`, `json` or `pretty`. */
export type LogFormat = "auto" | "json" | "pretty"

const text = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value))

/** One readable line: time, level, message, then `key=value` annotations. */
export const prettyLine: Logger.Logger<unknown, string> = Logger.make(({ cause, date, fiber, logLevel, message }) => {
  const parts = Array.isArray(message) ? message : [message]
  const annotations = Object.entries(fiber.getRef(References.CurrentLogAnnotations)).map(
    ([key, value]) => `${key}=${text(value)}`
  )
  const head = `${date.toISOString().slice(11, 23)} ${logLevel.toUpperCase().padEnd(5)} ${parts.map(text).join(" ")}`
  const tail = cause.reasons.length > 0 ? `\n${Cause.pretty(cause)}` : ""
  return [head, ...annotations].join(" ") + tail
})

/** Resolves `auto` against whether stderr is a terminal. */
export const resolveFormat = (format: LogFormat, isTTY: boolean = process.stderr.isTTY === true): "json" | "pretty" =>
  format === "auto" ? (isTTY ? "pretty" : "json") : format

/** The logger for a format, writing to stderr (`console.error`, one line per entry). */
export const logger = (format: LogFormat): Logger.Logger<unknown, void> =>
  Logger.withConsoleError(resolveFormat(format) === "json" ? formatJson : prettyLine)

/** Replaces the default logger; sets the minimum level. */
export const layer = (format: LogFormat, level: LogLevel.LogLevel): Layer.Layer<never> =>
  Layer.merge(Logger.layer([logger(format)]), Layer.succeed(References.MinimumLogLevel, level))

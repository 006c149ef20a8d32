/**
 * The JSON logger: one object per line with `timestamp` (ISO-8601 UTC, from the Clock), `level`,
 * `message`, the log annotations at top level (event_id, trace_id, attempt, topic, route, error...),
 * the current span's `span_trace_id`/`span_id`, and `cause` when there is one.
 *
 * It writes through Effect's Console, so it runs on every runtime and tests can capture it.
 */
import { Cause, Context, type Layer, Logger, Option, References, Tracer } from "effect"

const messageText = (message: unknown): { readonly message: string; readonly data?: unknown } => {
  const parts = Array.isArray(message) ? message : [message]
  const text = parts.filter((part) => typeof part === "string").join(" ")
  const rest = parts.filter((part) => typeof part !== "string")
  return rest.length === 0 ? { message: text } : { message: text, data: rest.length === 1 ? rest[0] : rest }
}

const safeStringify = (value: unknown): string => {
  try {
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v))
  } catch {
    return JSON.stringify({ message: "unserialisable log line", value: String(value) })
  }
}

/** Formats one log line as a JSON string (no trailing newline). */
export const formatJson: Logger.Logger<unknown, string> = Logger.make(({ cause, date, fiber, logLevel, message }) => {
  const span = Context.getOption(fiber.context, Tracer.ParentSpan)
  const line: Record<string, unknown> = {
    timestamp: date.toISOString(),
    level: logLevel.toUpperCase(),
    ...messageText(message),
    ...fiber.getRef(References.CurrentLogAnnotations)
  }
  if (Option.isSome(span)) {
    line.span_trace_id = span.value.traceId
    line.span_id = span.value.spanId
  }
  if (cause.reasons.length > 0) line.cause = Cause.pretty(cause)
  return safeStringify(line)
})

/** A logger writing one JSON object per line to the Console. */
export const jsonLogger: Logger.Logger<unknown, void> = Logger.withConsoleLog(formatJson)

/** Replaces the default logger with the JSON logger. */
export const layerJsonLogger: Layer.Layer<never> = Logger.layer([jsonLogger])

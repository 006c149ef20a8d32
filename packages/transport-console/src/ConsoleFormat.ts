/**
 * How an envelope is printed: a JSON line (machine-readable, for pipes and log collectors) or a
 * pretty line (for a person at a terminal).
 */
import { type Envelope, encodeEvent } from "@sluice/core"

/** `json`: one JSON object per line. `pretty`: one readable line. `auto`: pretty on a TTY, else json. */
export type Format = "auto" | "json" | "pretty"

/**
 * A JSON line: `{"route","topic","attempt","event"}` where `event` is the event's wire JSON, then `\n`.
 */
export const jsonLine = (envelope: Envelope): string =>
  `${JSON.stringify({
    route: envelope.route,
    topic: envelope.topic,
    attempt: envelope.attempt,
    event: encodeEvent(envelope.event)
  })}\n`

const payloadChars = 200

/**
 * A pretty line:
 * `<occurred_at> <event_type> <entity_type>/<entity_id> -> <route>/<topic> #<attempt> <event_id> <payload>`,
 * with the payload as compact JSON cut at 200 characters, then `\n`.
 */
// Source data may hold newlines or terminal escape sequences: shown raw they would break the one
// line per event rule, or drive the terminal. Control characters are shown as \u escapes.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const control = /[\u0000-\u001f\u007f-\u009f]/g
const printable = (text: string): string =>
  text.replace(control, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)

export const prettyLine = (envelope: Envelope): string => {
  const { event } = envelope
  const wire = encodeEvent(event)
  const payload = JSON.stringify(wire.payload) ?? "null"
  const shown = payload.length > payloadChars ? `${payload.slice(0, payloadChars)}…` : payload
  return (
    `${wire.occurred_at} ${event.event_type} ${printable(event.entity_type)}/${printable(event.entity_id)} -> ` +
    `${printable(envelope.route)}/${printable(envelope.topic)} #${envelope.attempt} ${event.event_id} ${shown}\n`
  )
}

/** The line writer for `format` on a sink that is (or is not) a terminal. */
export const formatter = (format: Format, isTTY: boolean): ((envelope: Envelope) => string) =>
  format === "json" || (format === "auto" && !isTTY) ? jsonLine : prettyLine

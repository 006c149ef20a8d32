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
export const prettyLine = (envelope: Envelope): string => {
  const { event } = envelope
  const wire = encodeEvent(event)
  const payload = JSON.stringify(wire.payload) ?? "null"
  const shown = payload.length > payloadChars ? `${payload.slice(0, payloadChars)}…` : payload
  return (
    `${wire.occurred_at} ${event.event_type} ${event.entity_type}/${event.entity_id} -> ` +
    `${envelope.route}/${envelope.topic} #${envelope.attempt} ${event.event_id} ${shown}\n`
  )
}

/** The line writer for `format` on a sink that is (or is not) a terminal. */
export const formatter = (format: Format, isTTY: boolean): ((envelope: Envelope) => string) =>
  format === "json" || (format === "auto" && !isTTY) ? jsonLine : prettyLine

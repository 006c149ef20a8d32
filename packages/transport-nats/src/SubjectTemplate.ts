/**
 * The subject an envelope is published to: a template such as `sluice.{topic}.{event_type}` whose
 * placeholders are filled from the envelope. The template is checked once, when the config is
 * decoded (unknown placeholders, empty tokens, wildcards, whitespace); the values are checked at
 * publish time, since a topic or an entity type only exists then.
 *
 * A value may contain dots: it then spans several tokens (topic `orders.eu` in `sluice.{topic}`
 * gives `sluice.orders.eu`), so consumers can filter on its parts. A value that would make an
 * invalid subject (whitespace or control characters, `*` or `>`, an empty token from a leading,
 * trailing or doubled dot, or an empty value) makes that envelope Permanent, naming the subject.
 */
import type { Envelope } from "@sluice/core"

/** The placeholders a template may use. */
export const placeholders = ["topic", "event_type", "entity_type"] as const
export type Placeholder = (typeof placeholders)[number]

/** A parsed template: literal text and placeholders, in order. */
export type Part = { readonly text: string } | { readonly placeholder: Placeholder }

/** The longest subject accepted (the server's limit is the max payload; this keeps headers sane). */
export const maxSubjectLength = 1024

/** Whether `text` has whitespace or a control character (either ends a subject in the protocol). */
export const hasSpaceOrControl = (text: string): boolean => {
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0
    if (code <= 0x20 || code === 0x7f || /\s/u.test(char)) return true
  }
  return false
}

const isPlaceholder = (name: string): name is Placeholder => (placeholders as ReadonlyArray<string>).includes(name)

/** Why `subject` is not a subject one can publish to, or undefined when it is one. */
export const subjectProblem = (subject: string): string | undefined => {
  if (subject.length === 0) return "it is empty"
  if (subject.length > maxSubjectLength) return `it is longer than ${maxSubjectLength} characters`
  if (hasSpaceOrControl(subject)) return "it contains whitespace or a control character"
  if (/[*>]/.test(subject)) return "it contains a wildcard (* or >): one publishes to a literal subject"
  if (subject.split(".").some((token) => token.length === 0)) {
    return "it has an empty token (a leading, trailing or doubled dot)"
  }
  return undefined
}

/** Parses a template, or says why it is not one (the caller names the field). */
export const parse = (template: string): { readonly parts: ReadonlyArray<Part> } | { readonly problem: string } => {
  const parts: Array<Part> = []
  let rest = template
  while (rest.length > 0) {
    const open = rest.indexOf("{")
    const close = rest.indexOf("}")
    if (close !== -1 && (open === -1 || close < open))
      return { problem: `unmatched "}" in ${JSON.stringify(template)}` }
    if (open === -1) {
      parts.push({ text: rest })
      break
    }
    if (open > 0) parts.push({ text: rest.slice(0, open) })
    const end = rest.indexOf("}", open)
    if (end === -1) return { problem: `unclosed "{" in ${JSON.stringify(template)}` }
    const name = rest.slice(open + 1, end)
    if (!isPlaceholder(name)) {
      return {
        problem: `unknown placeholder {${name}} (known: ${placeholders.map((p) => `{${p}}`).join(", ")})`
      }
    }
    parts.push({ placeholder: name })
    rest = rest.slice(end + 1)
  }
  // Checked with a one-token value in each placeholder: what is left to fail is the literal text.
  const sample = parts.map((part) => ("text" in part ? part.text : "x")).join("")
  const problem = subjectProblem(sample)
  return problem === undefined
    ? { parts }
    : { problem: `the subject ${JSON.stringify(template)} is invalid: ${problem}` }
}

const fieldOf = (envelope: Envelope, placeholder: Placeholder): string =>
  placeholder === "topic"
    ? envelope.topic
    : placeholder === "event_type"
      ? envelope.event.event_type
      : envelope.event.entity_type

/** Whether the parts read the event (so the event is decoded only when the subject needs it). */
export const readsEvent = (parts: ReadonlyArray<Part>): boolean =>
  parts.some((part) => "placeholder" in part && part.placeholder !== "topic")

/** The subject of `envelope`, or the problem that makes it invalid (its text quoted). */
export const render = (
  parts: ReadonlyArray<Part>,
  envelope: Envelope
): { readonly subject: string } | { readonly problem: string } => {
  let subject = ""
  for (const part of parts) subject += "text" in part ? part.text : fieldOf(envelope, part.placeholder)
  const problem = subjectProblem(subject)
  return problem === undefined
    ? { subject }
    : { problem: `invalid subject ${JSON.stringify(subject)} (from the event's fields): ${problem}` }
}

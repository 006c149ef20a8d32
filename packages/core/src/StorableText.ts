/**
 * Text a database can keep: PostgreSQL refuses U+0000 in `text` ("invalid byte sequence") and in
 * `jsonb` ("unsupported Unicode escape sequence"), refuses lone UTF-16 surrogates in `jsonb`, and
 * silently turns them into U+FFFD in `text`. JavaScript strings hold both. So:
 *
 * - events are validated against it (Event.ts): such a draft is refused, naming the field;
 * - a raw payload is made storable before it is appended (`storableRaw`): kept, never refused;
 * - stores refuse a batch that still holds such text (`batchProblem`), memory and PostgreSQL alike,
 *   instead of failing inside the database or changing the text.
 */
import { Effect, Schema } from "effect"
import { Base64 } from "effect/encoding"
import type { RawPayload } from "./Event.ts"
import type { AppendBatch } from "./EventStore.ts"
import { utf8 } from "./internal/hash.ts"

// U+0000, a high surrogate not followed by a low one, a low surrogate not preceded by a high one.
// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is exactly what is looked for
const unstorable = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
const unstorableAll = new RegExp(unstorable.source, "g")

/** Problems reported per value at most: a payload full of NULs gives a readable message. */
const maxProblems = 10

const codeOf = (char: string): string => `U+${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`

// Any U+0000 or surrogate at all: one character class is much cheaper to scan for than `unstorable`
// with its lookarounds, and almost no text has one (this runs on every string of every payload).
// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is exactly what is looked for
const suspect = /[\u0000\ud800-\udfff]/

/** Why PostgreSQL cannot store `text` as it is, or undefined when it can. */
export const textProblem = (text: string): string | undefined => {
  if (!suspect.test(text)) return undefined
  const match = unstorable.exec(text)
  if (match === null) return undefined
  const char = match[0]
  return char === "\u0000"
    ? `contains U+0000 at character ${match.index} (PostgreSQL cannot store it)`
    : `contains a lone surrogate ${codeOf(char)} at character ${match.index} (not valid Unicode; PostgreSQL cannot store it)`
}

/** A text problem and where it is, as a path from the value checked. */
export interface TextProblem {
  readonly path: ReadonlyArray<PropertyKey>
  readonly issue: string
}

/** The strings and object keys of a JSON value that PostgreSQL cannot store (at most 10). */
export const jsonProblems = (value: unknown): ReadonlyArray<TextProblem> => {
  const found: Array<TextProblem> = []
  // One mutable path, copied only when a problem is found: this runs on every event validated.
  const path: Array<PropertyKey> = []
  const visit = (node: unknown): void => {
    if (found.length >= maxProblems) return
    if (typeof node === "string") {
      const issue = textProblem(node)
      if (issue !== undefined) found.push({ path: [...path], issue })
    } else if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        path.push(i)
        visit(node[i])
        path.pop()
      }
    } else if (typeof node === "object" && node !== null) {
      for (const key of Object.keys(node)) {
        path.push(key)
        const issue = textProblem(key)
        if (issue !== undefined && found.length < maxProblems) found.push({ path: [...path], issue: `key ${issue}` })
        visit((node as Record<string, unknown>)[key])
        path.pop()
      }
    }
  }
  visit(value)
  return found
}

/** A path as Effect's Schema formats it: `["payload"]["name"][0]`. Escapes what it quotes. */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.map((key) => (typeof key === "number" ? `[${key}]` : `[${JSON.stringify(String(key))}]`)).join("")

/** Schema check: a string PostgreSQL can store. */
export const isStorableText = Schema.makeFilter<string>((text) => textProblem(text) ?? true, {
  expected: "text without U+0000 or lone surrogates"
})

/** Schema check: a JSON value whose strings and keys PostgreSQL can store; each problem names its path. */
export const isStorableJson = Schema.makeFilter<Schema.Json>((value) => jsonProblems(value), {
  expected: "JSON without U+0000 or lone surrogates in its strings and keys"
})

/** `text` with U+0000 and lone surrogates written as the escapes `\u0000`, `\ud800`: readable, storable. */
export const escapeText = (text: string): string =>
  text.replace(unstorableAll, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`)

const escapeJson = (value: unknown): unknown => {
  if (typeof value === "string") return escapeText(value)
  if (Array.isArray(value)) return value.map(escapeJson)
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [escapeText(key), escapeJson(item)]))
  }
  return value
}

/** The suffix of a raw payload's content type when its body was stored as base64 (as in data URLs). */
export const base64Suffix = ";base64"

/** A raw payload made storable, and what was changed to make it so (empty: nothing). */
export interface StorableRaw {
  readonly raw: RawPayload
  readonly changes: ReadonlyArray<string>
}

/**
 * A raw payload as it can be stored, never refused: a body PostgreSQL cannot store is kept as base64
 * of its UTF-8 bytes (the bytes `content_hash` covers), its content type ending in `;base64`; other
 * text fields and the request's strings and keys get visible escapes (`\u0000`). Each change is
 * said in `transform_error`, and listed for the caller to log (`storableRaw` logs them).
 */
export const makeStorable = (raw: RawPayload): StorableRaw => {
  const notes: Array<string> = []
  let { body, content_type, source } = raw
  for (const [field, text] of [
    ["source", source],
    ["content_type", content_type]
  ] as const) {
    const issue = textProblem(text)
    if (issue !== undefined) notes.push(`${field} ${issue}: stored with escapes (\\u0000)`)
  }
  const bodyIssue = textProblem(body)
  if (bodyIssue !== undefined) {
    body = Base64.encode(utf8(body))
    content_type = `${content_type}${base64Suffix}`
    notes.push(`body ${bodyIssue}: stored as base64 of its UTF-8 bytes (content_type ends in ${base64Suffix})`)
  }
  const requestIssues = jsonProblems(raw.request)
  for (const { path, issue } of requestIssues) {
    notes.push(`request${formatPath(path)} ${issue}: stored with escapes (\\u0000)`)
  }
  if (notes.length === 0 && (raw.transform_error === null || textProblem(raw.transform_error) === undefined)) {
    return { raw, changes: notes }
  }
  const errors = [...(raw.transform_error === null ? [] : [escapeText(raw.transform_error)]), ...notes]
  return {
    raw: {
      ...raw,
      source: escapeText(source),
      content_type: escapeText(content_type),
      body,
      request: requestIssues.length === 0 ? raw.request : (escapeJson(raw.request) as RawPayload["request"]),
      transform_error: errors.join("\n")
    },
    changes: notes
  }
}

/** `makeStorable`, logging a warning with the changes when there were any. */
export const storableRaw = (raw: RawPayload): Effect.Effect<RawPayload> => {
  const storable = makeStorable(raw)
  return storable.changes.length === 0
    ? Effect.succeed(storable.raw)
    : Effect.as(
        Effect.logWarning("raw payload changed to be storable").pipe(
          Effect.annotateLogs({ changes: storable.changes })
        ),
        storable.raw
      )
}

const eventFields = ["event_type", "entity_type", "entity_id"] as const
const rawFields = ["source", "content_type", "body"] as const
const outboxFields = ["route", "topic", "ordering_key"] as const

/**
 * The first text of a batch that PostgreSQL cannot store, naming where it is, or undefined. Stores
 * refuse such a batch (not retryable) rather than fail inside the database or alter the text.
 * `events: false` leaves out the events (for events already checked, see `appendBatchProblem`).
 */
export const batchProblem = (batch: AppendBatch, options?: { readonly events: boolean }): string | undefined => {
  for (const event of options?.events === false ? [] : batch.events) {
    for (const field of eventFields) {
      const issue = textProblem(event[field])
      if (issue !== undefined) return `event ${event.event_id}: ${field} ${issue}`
    }
    const [first] = jsonProblems(event.payload)
    if (first !== undefined) return `event ${event.event_id}: payload${formatPath(first.path)} ${first.issue}`
  }
  const raw = batch.raw
  if (raw !== null) {
    for (const field of rawFields) {
      const issue = textProblem(raw[field])
      if (issue !== undefined) return `raw payload ${raw.raw_id}: ${field} ${issue}`
    }
    const transformError = raw.transform_error === null ? undefined : textProblem(raw.transform_error)
    if (transformError !== undefined) return `raw payload ${raw.raw_id}: transform_error ${transformError}`
    const [first] = jsonProblems(raw.request)
    if (first !== undefined) return `raw payload ${raw.raw_id}: request${formatPath(first.path)} ${first.issue}`
  }
  for (const draft of batch.outbox) {
    for (const field of outboxFields) {
      const text = draft[field]
      const issue = text === null ? undefined : textProblem(text)
      if (issue !== undefined) return `outbox row of event ${draft.event_id}: ${field} ${issue}`
    }
  }
  return undefined
}

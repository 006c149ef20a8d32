/**
 * One rule for the case of field names in core's public API: snake_case only for records that go
 * on the wire or into the database (and the drafts and keys made of their fields); camelCase for
 * every other API (options, results, reports, errors). Log annotation keys and the runner's JSON
 * are wire formats too; the runner encodes its JSON explicitly where core's value is camelCase
 * (`sluice prune --json`, `sluice rederive --json`).
 *
 * This test lists the declarations in packages/core/src whose fields are snake_case; a new one
 * fails it until it is named here, with the reason.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"

const coreSrc = join(import.meta.dirname, "..", "packages/core/src")

/** The declarations allowed snake_case fields, and why. */
const wireRecords: Record<string, string> = {
  Event: "the canonical event, on the wire and in the database",
  RawPayload: "a stored row",
  OutboxEntry: "a stored row",
  Lease: "part of OutboxEntry",
  OutboxDraft: "becomes an outbox row",
  StoredEvent: "a stored row",
  StoredRaw: "a stored row",
  Checkpoint: "a stored row",
  PausedRoute: "a stored row",
  LogPosition: "a stored position",
  LoggedEvent: "a StoredEvent with its stored position",
  Envelope: "what a transport publishes",
  EventDraft: "becomes an Event: a source writes its fields",
  RawFetch: "becomes a RawPayload: a source writes its fields",
  StreamName: "an Event's entity_type and entity_id",
  EncodedDomainEvent: "becomes an Event (schema_version)",
  DomainEvent: "becomes an Event (schema_version)",
  Upcaster: "keyed by the stored event's event_type"
}

/** `declaration: field` for every snake_case field declared in a core source file. */
const snakeCaseFields = (): Array<string> =>
  readdirSync(coreSrc)
    .filter((name) => name.endsWith(".ts"))
    .flatMap((name) => {
      let declaration = "(none)"
      return readFileSync(join(coreSrc, name), "utf8")
        .split("\n")
        .flatMap((line) => {
          const opened = /^export (?:interface|class|const|type) (\w+)/.exec(line)
          if (opened !== null) declaration = opened[1]!
          // A type member (`readonly x_y:`) or a Schema.Struct field (`  x_y: Schema...`).
          const field =
            /^\s+readonly ([a-z]+(?:_[a-z0-9]+)+)\??:/.exec(line) ??
            /^ {2}([a-z]+(?:_[a-z0-9]+)+)\??: (?:Schema\.|[A-Z]\w*(?:,|\.pipe|$))/.exec(line)
          return field === null ? [] : [`${declaration}: ${field[1]}`]
        })
    })

describe("names", () => {
  it("core declares snake_case fields only on wire and stored records", () => {
    const others = snakeCaseFields().filter((entry) => !(entry.split(":")[0]! in wireRecords))
    expect(others).toEqual([])
  })

  it("finds the snake_case fields it checks (the scan still matches the sources)", () => {
    const found = snakeCaseFields()
    expect(found).toContain("Event: event_id")
    expect(found).toContain("OutboxEntry: next_attempt_at")
  })
})

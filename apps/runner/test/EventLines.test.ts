/** The text lines of `sluice events tail`: columns aligned however wide the row numbers grow. */
import { assert, describe, it } from "@effect/vitest"
import { eventLines } from "../src/EventLines.ts"
import type { ShownEvent } from "../src/Inspect.ts"

const shown = (position: number, type = "quote.updated", entity = "AAPL"): ShownEvent => ({
  position,
  revision: 1,
  recorded_at: "2026-12-07T15:00:00.000Z",
  raw_id: null,
  event: { event_id: `id-${position}`, event_type: type, entity_type: "symbol", entity_id: entity }
})

/** Where each column of `line` starts (columns are separated by two spaces or more). */
const starts = (line: string) => [...line.matchAll(/(?:^|\s{2,})(\S)/g)].map((m) => m.index + m[0].length - 1)

describe("events tail lines", () => {
  it("pads each column to the widest, past #9 and with types and entities of any length", () => {
    const { lines } = eventLines([shown(8), shown(9, "bar.closed"), shown(10, "quote.updated", "MSFT.O"), shown(11)])
    assert.strictEqual(lines[0], "#8   2026-12-07T15:00:00.000Z  quote.updated  symbol/AAPL    id-8")
    assert.strictEqual(lines[2], "#10  2026-12-07T15:00:00.000Z  quote.updated  symbol/MSFT.O  id-10")
    for (const line of lines) assert.deepStrictEqual(starts(line), starts(lines[0]!))
  })

  it("a later page keeps the widths of the lines printed before, and widens them when it must", () => {
    const first = eventLines([shown(99), shown(100)])
    const second = eventLines([shown(101, "a.b")], first.widths)
    assert.deepStrictEqual(starts(second.lines[0]!), starts(first.lines[0]!))
    const third = eventLines([shown(1000)], second.widths)
    assert.strictEqual(third.lines[0], "#1000  2026-12-07T15:00:00.000Z  quote.updated  symbol/AAPL  id-1000")
  })

  it("no events: no lines", () => {
    assert.deepStrictEqual(eventLines([]).lines, [])
  })
})

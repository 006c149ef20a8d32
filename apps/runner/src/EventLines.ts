/**
 * The text lines of `sluice events tail`: one per event, `#position  recorded_at  type  entity  id`,
 * each column padded to the widest value printed so far so the columns stay aligned (from #9 to
 * #10, and as `--follow` prints longer types or entities on later pages).
 */
import type { ShownEvent } from "./Inspect.ts"

/** The widths of the padded columns (all but the last), as far as printed. */
export type Widths = ReadonlyArray<number>

/** No line printed yet. */
export const noWidths: Widths = []

const columns = (e: ShownEvent): ReadonlyArray<string> => [
  `#${e.position}`,
  e.recorded_at,
  String(e.event.event_type),
  `${String(e.event.entity_type)}/${String(e.event.entity_id)}`,
  String(e.event.event_id)
]

/** The lines of `events`, padded to the widest column of them and of the lines before (`widths`). */
export const eventLines = (
  events: ReadonlyArray<ShownEvent>,
  widths: Widths = noWidths
): { readonly lines: ReadonlyArray<string>; readonly widths: Widths } => {
  const rows = events.map(columns)
  const wider = [...widths]
  for (const row of rows) {
    for (let i = 0; i < row.length - 1; i++) wider[i] = Math.max(wider[i] ?? 0, row[i]!.length)
  }
  const lines = rows.map((row) => row.map((cell, i) => (i < row.length - 1 ? cell.padEnd(wider[i]!) : cell)).join("  "))
  return { lines, widths: wider }
}

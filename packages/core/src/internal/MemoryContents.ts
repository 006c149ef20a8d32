/**
 * What the in-memory store holds: raw payloads and stored events by id, the log in position order,
 * the streams (MemoryStreams.ts) and the corrections' index (MemoryCorrections.ts). Positions come
 * from a counter, so a rolled-back append leaves a gap, as a database sequence does.
 */
import type { EventId, RawPayload } from "../Event.ts"
import type { StoredEvent } from "../EventStore.ts"
import * as MemoryCorrections from "./MemoryCorrections.ts"
import * as MemoryStreams from "./MemoryStreams.ts"

export interface MemoryContents {
  readonly raws: Map<string, RawPayload>
  readonly events: Map<EventId, StoredEvent>
  /** Every stored event, in position order. */
  readonly log: Array<StoredEvent>
  readonly streams: MemoryStreams.MemoryStreams
  readonly corrections: MemoryCorrections.MemoryCorrections
  /** The next event's position; never given back. */
  readonly takePosition: () => number
}

/** An empty store's contents. */
export const make = (): MemoryContents => {
  const raws = new Map<string, RawPayload>()
  const events = new Map<EventId, StoredEvent>()
  let nextPosition = 1
  return {
    raws,
    events,
    log: [],
    streams: MemoryStreams.make(),
    corrections: MemoryCorrections.make(events, raws),
    takePosition: () => nextPosition++
  }
}

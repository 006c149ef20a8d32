/**
 * The memory store's streams: each stream's stored events in a list, so that an event's revision is
 * its index there. Removing the last event (a rolled-back append) gives its revision back: no gap.
 */
import type { StoredEvent } from "../EventStore.ts"
import { defaultReadLimit, type ReadStreamOptions, type StreamName, type StreamRevision } from "../Stream.ts"

export interface MemoryStreams {
  /** The stream's current revision. */
  readonly revisionOf: (stream: StreamName) => StreamRevision
  /** The revision the stream's next event gets. */
  readonly nextRevision: (stream: StreamName) => number
  readonly add: (stored: StoredEvent) => void
  /** Takes back `stored`, which must be its stream's last event. */
  readonly removeLast: (stored: StoredEvent) => void
  /** `readStream`, on options already checked. */
  readonly read: (stream: StreamName, options: ReadStreamOptions) => ReadonlyArray<StoredEvent>
}

const keyOf = (stream: StreamName) => `${stream.entity_type}\u0000${stream.entity_id}`

export const make = (): MemoryStreams => {
  const streams = new Map<string, Array<StoredEvent>>()
  const nextRevision = (stream: StreamName) => streams.get(keyOf(stream))?.length ?? 0
  return {
    revisionOf: (stream) => {
      const next = nextRevision(stream)
      return next === 0 ? "no_stream" : next - 1
    },
    nextRevision,
    add: (stored) => {
      const key = keyOf(stored.event)
      const events = streams.get(key)
      if (events === undefined) streams.set(key, [stored])
      else events.push(stored)
    },
    removeLast: (stored) => {
      const key = keyOf(stored.event)
      const events = streams.get(key)
      if (events?.at(-1) !== stored) throw new Error("MemoryStreams: undo out of order")
      events.pop()
      if (events.length === 0) streams.delete(key)
    },
    read: (stream, options) => {
      const all = streams.get(keyOf(stream)) ?? []
      const limit = options.limit ?? defaultReadLimit
      if (options.direction !== "backwards") return all.slice(options.from ?? 0, (options.from ?? 0) + limit)
      const out: Array<StoredEvent> = []
      for (let r = Math.min(options.from ?? all.length - 1, all.length - 1); r >= 0 && out.length < limit; r--)
        out.push(all[r]!)
      return out
    }
  }
}

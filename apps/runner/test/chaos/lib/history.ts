/**
 * Chaos harness: the history of one scenario, on one logical clock (`seq`). The webhook receiver
 * appends every request (receipt) and every response it finished sending; the scenario appends its
 * faults (kills, freezes, restarts) as markers. The checker reads only this and the database.
 */

/** What the receiver did with one request. */
export type Answer = "ok" | "retryable" | "retry-after" | "timeout" | "permanent"

export interface Receipt {
  /** Position of the request's arrival in the history. */
  readonly seq: number
  readonly event_id: string
  readonly entity_id: string
  /** The `sluice-attempt` header: the attempt number the relay believed it was making. */
  readonly attempt: number
  readonly at: number
  answer: Answer | null
  /** Position at which a 2xx response was fully sent (the relay may have seen it); null otherwise. */
  ackSeq: number | null
  /** Position at which any response (or the hang-up of a timeout) was finished. */
  doneSeq: number | null
}

export interface Marker {
  readonly seq: number
  readonly kind: string
  readonly detail: string
  /** For a fault that lasts (a restart): where it ended. A point fault ends where it starts. */
  endSeq?: number
}

export class History {
  private counter = 0
  readonly receipts: Array<Receipt> = []
  readonly markers: Array<Marker> = []

  next(): number {
    this.counter += 1
    return this.counter
  }

  mark(kind: string, detail = ""): Marker {
    const marker: Marker = { seq: this.next(), kind, detail }
    this.markers.push(marker)
    return marker
  }

  /** Closes a lasting fault. */
  end(marker: Marker): void {
    marker.endSeq = this.next()
  }
}

/**
 * Chaos harness: reading a whole JetStream stream back, to hold it against the database. Each
 * message is identified by its `Nats-Msg-Id` header (the transport sets it to the event id), or by
 * the `event_id` of its JSON body when the header is missing.
 */
import { jetstream, jetstreamManager } from "@nats-io/jetstream"
import { connect, type NatsConnection } from "@nats-io/transport-node"
import type { StreamMessage } from "./streamChecker.ts"

/** A connection to the cluster that fails over between every node and tries for `timeoutMs`. */
export const connectCluster = (servers: ReadonlyArray<string>, timeoutMs = 20_000): Promise<NatsConnection> =>
  connect({ servers: [...servers], name: "chaos-harness", timeout: timeoutMs, maxReconnectAttempts: -1 })

const bodyEventId = (data: Uint8Array): string | null => {
  try {
    const body = JSON.parse(new TextDecoder().decode(data)) as { event_id?: unknown }
    return typeof body.event_id === "string" ? body.event_id : null
  } catch {
    return null
  }
}

/** What a plain subscriber on the stream's subjects saw: every publish, resends included. */
export interface PublishWatch {
  /** Publishes seen per event id (a count above 1 is a resend the stream's window must drop). */
  readonly seen: Map<string, number>
  /** Resolves at the next publish seen, or after `timeoutMs` (false). */
  readonly next: (timeoutMs: number) => Promise<boolean>
  readonly close: () => Promise<void>
}

/**
 * Watches the publishes on `subject` with a core subscription (JetStream does not deduplicate
 * what subscribers see). A best-effort count: a reconnect across a node's death may miss some.
 */
export const watchPublishes = async (servers: ReadonlyArray<string>, subject: string): Promise<PublishWatch> => {
  const nc = await connectCluster(servers)
  const seen = new Map<string, number>()
  const waiters: Array<() => void> = []
  nc.subscribe(subject, {
    callback: (error, m) => {
      if (error !== null) return
      const id = m.headers?.get("Nats-Msg-Id") || bodyEventId(m.data)
      if (id !== null) seen.set(id, (seen.get(id) ?? 0) + 1)
      for (const wake of waiters.splice(0)) wake()
    }
  })
  await nc.flush()
  return {
    seen,
    next: (timeoutMs) =>
      new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs)
        waiters.push(() => {
          clearTimeout(timer)
          resolve(true)
        })
      }),
    close: () => nc.close()
  }
}

/** The node leading `stream` (its RAFT leader), or undefined while it has none. */
export const streamLeader = async (servers: ReadonlyArray<string>, stream: string): Promise<string | undefined> => {
  const nc = await connectCluster(servers)
  try {
    const info = await (await jetstreamManager(nc, { timeout: 5000 })).streams.info(stream)
    return info.cluster?.leader
  } finally {
    await nc.close()
  }
}

/**
 * Waits until `stream` has a leader and every other replica is online and current (a restarted
 * node caught up): another node may be killed then without the stream waiting for it to catch up.
 */
export const awaitStreamCurrent = async (
  servers: ReadonlyArray<string>,
  stream: string,
  replicas: number,
  timeoutMs: number
): Promise<void> => {
  const nc = await connectCluster(servers)
  try {
    const jsm = await jetstreamManager(nc, { timeout: 2000 })
    const deadline = Date.now() + timeoutMs
    let last = "no answer"
    for (;;) {
      const cluster = await jsm.streams.info(stream).then(
        (info) => info.cluster,
        () => undefined
      )
      const followers = cluster?.replicas ?? []
      if (
        cluster?.leader !== undefined &&
        followers.length === replicas - 1 &&
        followers.every((r) => r.current && !r.offline)
      )
        return
      if (cluster !== undefined)
        last = `leader ${cluster.leader ?? "none"}, replicas ${followers.map((r) => `${r.name}${r.current ? "" : " (behind)"}${r.offline ? " (offline)" : ""}`).join(", ")}`
      if (Date.now() > deadline) throw new Error(`stream ${stream} not current within ${timeoutMs} ms: ${last}`)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  } finally {
    await nc.close()
  }
}

/** Every message of `stream`, in sequence order (an ordered consumer from the first message). */
export const readStream = async (
  servers: ReadonlyArray<string>,
  stream: string,
  timeoutMs = 60_000
): Promise<ReadonlyArray<StreamMessage>> => {
  const nc = await connectCluster(servers)
  try {
    const info = await (await jetstreamManager(nc, { timeout: 10_000 })).streams.info(stream)
    const total = info.state.messages
    const messages: Array<StreamMessage> = []
    if (total === 0) return messages
    const consumer = await jetstream(nc, { timeout: 10_000 }).consumers.get(stream)
    const iterator = await consumer.consume()
    const timer = setTimeout(() => void iterator.stop(), timeoutMs)
    try {
      for await (const m of iterator) {
        messages.push({
          seq: m.seq,
          subject: m.subject,
          msgId: m.headers?.get("Nats-Msg-Id") || null,
          eventId: bodyEventId(m.data)
        })
        if (m.info.pending === 0) break
      }
    } finally {
      clearTimeout(timer)
      await iterator.close().catch(() => undefined)
    }
    if (messages.length < total)
      throw new Error(`read ${messages.length} of the ${total} messages of ${stream} within ${timeoutMs} ms`)
    return messages
  } finally {
    await nc.close()
  }
}

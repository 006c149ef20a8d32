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

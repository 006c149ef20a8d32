/**
 * Where the transport's publishes get their acks: one subscription on a private inbox wildcard for
 * the connection's lifetime, each publish's reply subject ending in its own token. The client's
 * `request` (what `JetStreamClient.publish` uses) costs, per message, a timer, a promise race and an
 * Error built with its stack when the request is cleaned up, even after a successful ack: a fifth
 * of the CPU of a publish in a profile. Here a publish costs a map entry; the wait for acks is bounded
 * by the caller, once per window, not per message. The client restores the subscription after a
 * reconnect; an ack lost meanwhile is an unanswered publish (Retryable).
 */
import { createInbox, type Msg, type MsgHdrs, type NatsConnection } from "@nats-io/nats-core"

/** What JetStream (or the server) answered to one publish. */
export type Answer =
  | { readonly _tag: "Ack"; readonly stream: string; readonly duplicate: boolean }
  | { readonly _tag: "ApiError"; readonly status: number; readonly code: number; readonly description: string }
  /** No subscriber on the subject: the server's 503 status, sent because the connection asks for it. */
  | { readonly _tag: "NoResponders" }
  | { readonly _tag: "Unreadable"; readonly text: string }

const decoder = new TextDecoder()

/** Reads an answer: a status message, a JetStream ack or API error. */
export const answerOf = (msg: Pick<Msg, "data" | "headers">): Answer => {
  if (msg.data.length === 0 && msg.headers?.hasError === true && msg.headers.code === 503)
    return { _tag: "NoResponders" }
  const text = decoder.decode(msg.data)
  try {
    const body = JSON.parse(text) as {
      readonly stream?: unknown
      readonly duplicate?: unknown
      readonly error?: { readonly code?: unknown; readonly err_code?: unknown; readonly description?: unknown }
    }
    if (body.error !== undefined) {
      return {
        _tag: "ApiError",
        status: Number(body.error.code ?? 0),
        code: Number(body.error.err_code ?? 0),
        description: String(body.error.description ?? "")
      }
    }
    if (typeof body.stream === "string" && body.stream !== "") {
      return { _tag: "Ack", stream: body.stream, duplicate: body.duplicate === true }
    }
  } catch {
    // Not JSON: reported below.
  }
  return { _tag: "Unreadable", text: text.slice(0, 200) }
}

export interface AckInbox {
  /**
   * Publishes `data` to `subject` with `headers`; `settle` is called once with the answer, unless
   * `forget` comes first. Throws what the client's `publish` throws (a closed connection, a bad
   * subject, a payload over the server's limit): nothing was sent then.
   */
  readonly publish: (subject: string, data: string, headers: MsgHdrs, settle: (answer: Answer) => void) => string
  /** Stops waiting for these publishes' answers (their wait is over: answered, cut or interrupted). */
  readonly forget: (tokens: ReadonlyArray<string>) => void
}

/** Subscribes the inbox on `nc` (for as long as the connection lives). */
export const makeAckInbox = (nc: NatsConnection): AckInbox => {
  const prefix = `${createInbox()}.`
  const pending = new Map<string, (answer: Answer) => void>()
  let next = 0
  nc.subscribe(`${prefix}*`, {
    callback: (error, msg) => {
      // A subscription error (a permissions violation) leaves the publishes unanswered: Retryable.
      if (error !== null) return
      const token = msg.subject.slice(prefix.length)
      const settle = pending.get(token)
      if (settle === undefined) return
      pending.delete(token)
      settle(answerOf(msg))
    }
  })
  return {
    publish: (subject, data, headers, settle) => {
      const token = (next++).toString(36)
      pending.set(token, settle)
      try {
        nc.publish(subject, data, { reply: `${prefix}${token}`, headers })
      } catch (error) {
        pending.delete(token)
        throw error
      }
      return token
    },
    forget: (tokens) => {
      for (const token of tokens) pending.delete(token)
    }
  }
}

/**
 * How a publish's answer becomes an outcome. An ack (a duplicate too: the stream has the event) is
 * Delivered. A stream's refusal of the message itself (a 4xx API error: too large, a header over
 * the limit) is Permanent, as is a subject no stream captures. Anything else may pass on a later
 * try and is Retryable: no ack in time, a connection lost or closing, `503 no responders` while a
 * stream's leader is elected or the server restarts, a stream out of space.
 */
import {
  ClosedConnectionError,
  ConnectionError,
  DrainingConnectionError,
  InvalidArgumentError,
  InvalidSubjectError
} from "@nats-io/nats-core"
import { delivered, type PublishOutcome, permanent, retryable } from "@sluice/core"
import type { Answer } from "./AckInbox.ts"

const on = (subject: string) => `publishing to ${JSON.stringify(subject)}`

/**
 * The outcome of an answer, or "NoResponders" for the caller to look into (is there a stream for
 * the subject at all?).
 */
export const outcomeOfAnswer = (answer: Answer, subject: string): PublishOutcome | "NoResponders" => {
  switch (answer._tag) {
    case "Ack":
      return delivered
    case "NoResponders":
      return "NoResponders"
    case "ApiError": {
      const what = `JetStream refused the message ${on(subject)}: ${answer.description} (${answer.status}/${answer.code})`
      return answer.status >= 400 && answer.status < 500 ? permanent(what) : retryable(what)
    }
    case "Unreadable":
      return retryable(`an answer that is not a JetStream ack ${on(subject)}: ${JSON.stringify(answer.text)}`)
  }
}

/** The outcome of a publish the client refused to send (it threw): nothing went out. */
export const outcomeOfThrown = (error: unknown, subject: string): PublishOutcome => {
  if (error instanceof InvalidSubjectError || error instanceof InvalidArgumentError) {
    return permanent(`the client refused the message ${on(subject)}: ${messageOf(error)}`)
  }
  if (
    error instanceof ClosedConnectionError ||
    error instanceof DrainingConnectionError ||
    error instanceof ConnectionError
  ) {
    return retryable(`the connection to NATS is unavailable ${on(subject)}: ${messageOf(error)}`)
  }
  return retryable(`${on(subject)}: ${messageOf(error)}`)
}

/** No ack by the end of the wait. */
export const unanswered = (subject: string, waitMs: number, cutByDeadline: boolean): PublishOutcome =>
  retryable(
    `no ack from JetStream within ${waitMs} ms ${on(subject)}${cutByDeadline ? " (cut by the publish's deadline)" : ""}`
  )

/** A subject no stream captures: retrying cannot help until someone creates one. */
export const noStream = (subject: string): PublishOutcome =>
  permanent(
    `no JetStream stream captures the subject ${JSON.stringify(subject)}: create one (or set ensureStream) and retry the dead letter`
  )

/** No responders while a stream does capture the subject: its leader is being elected, or the server restarts. */
export const streamUnavailable = (subject: string, stream: string | undefined): PublishOutcome =>
  retryable(
    stream === undefined
      ? `no responders ${on(subject)} (JetStream unavailable)`
      : `no responders ${on(subject)}: stream ${stream} unavailable`
  )

export const messageOf = (error: unknown): string =>
  error instanceof Error ? (error.message === "" ? error.name : error.message) : String(error)

/**
 * How a publish's answer becomes an outcome. An ack (a duplicate too: the stream has the event) is
 * Delivered. A stream's refusal of the message itself (a 4xx API error: too large, a header over
 * the limit) is Permanent, as is a subject no stream captures. Anything else may pass on a later
 * try and is Retryable: no ack in time, a connection lost or closing, `503 no responders` while a
 * stream's leader is elected or the server restarts, a stream out of space.
 */

import { JetStreamApiError } from "@nats-io/jetstream"
import {
  ClosedConnectionError,
  ConnectionError,
  DrainingConnectionError,
  InvalidArgumentError,
  InvalidSubjectError,
  RequestError,
  TimeoutError
} from "@nats-io/nats-core"
import { type PublishOutcome, permanent, retryable } from "@sluice/core"

/** Why a publish failed, as the transport sorts it. */
export type Failure =
  /** No one answered on the subject: no stream captures it, or its stream has no leader now. */
  { readonly _tag: "NoResponders" } | { readonly _tag: "Outcome"; readonly outcome: PublishOutcome }

// The client wraps the request's no-responders error ("jetstream is not enabled"): look at the causes.
const isNoResponders = (error: unknown): boolean => {
  let current = error
  for (let depth = 0; depth < 3 && current instanceof Error; depth++) {
    if (current instanceof RequestError && current.isNoResponders()) return true
    current = current.cause
  }
  return false
}

/** The outcome of a failed publish to `subject`, or NoResponders for the caller to look into. */
export const classify = (error: unknown, subject: string, timeoutMs: number): Failure => {
  const on = `publishing to ${JSON.stringify(subject)}`
  const outcome = (o: PublishOutcome): Failure => ({ _tag: "Outcome", outcome: o })
  if (isNoResponders(error)) return { _tag: "NoResponders" }
  if (error instanceof TimeoutError) return outcome(retryable(`no ack from JetStream within ${timeoutMs} ms ${on}`))
  if (error instanceof JetStreamApiError) {
    const what = `JetStream refused the message ${on}: ${error.message} (${error.status}/${error.code})`
    return outcome(error.status >= 400 && error.status < 500 ? permanent(what) : retryable(what))
  }
  if (error instanceof InvalidSubjectError || error instanceof InvalidArgumentError) {
    return outcome(permanent(`the client refused the message ${on}: ${messageOf(error)}`))
  }
  if (
    error instanceof ClosedConnectionError ||
    error instanceof DrainingConnectionError ||
    error instanceof ConnectionError
  ) {
    return outcome(retryable(`the connection to NATS is unavailable ${on}: ${messageOf(error)}`))
  }
  return outcome(retryable(`${on}: ${messageOf(error)}`))
}

/** A subject no stream captures: retrying cannot help until someone creates one. */
export const noStream = (subject: string): PublishOutcome =>
  permanent(
    `no JetStream stream captures the subject ${JSON.stringify(subject)}: create one (or set ensureStream) and retry the dead letter`
  )

/** No responders while a stream does capture the subject: its leader is being elected, or the server restarts. */
export const streamUnavailable = (subject: string, stream: string | undefined): PublishOutcome =>
  retryable(
    stream === undefined
      ? `no responders publishing to ${JSON.stringify(subject)} (JetStream unavailable)`
      : `no responders publishing to ${JSON.stringify(subject)}: stream ${stream} unavailable`
  )

export const messageOf = (error: unknown): string =>
  error instanceof Error ? (error.message === "" ? error.name : error.message) : String(error)

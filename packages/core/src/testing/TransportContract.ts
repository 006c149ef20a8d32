/**
 * The Transport contract: the behaviour every transport (memory, HTTP, console...) must show.
 *
 * Cases are plain Effects so the suite runs under any test runner and runtime; `@sluice/core/vitest`
 * wraps them as `transportSuite(name, makeSubject)`. Each case builds a fresh subject: the transport
 * under test wired to a receiver the case can observe and steer.
 */
import { Cause, Clock, Duration, Effect, Exit, Fiber, type Scope } from "effect"
import { type Event, encodeEvent } from "../Event.ts"
import type { OutboxId } from "../Outbox.ts"
import { type Envelope, noDeadline, type PublishContext, type PublishOutcome, type Transport } from "../Transport.ts"
import * as check from "./check.ts"
import { makeEvent } from "./fixtures.ts"

export { makeReceiverControl, type ReceiverControl } from "./ReceiverControl.ts"

/** How the receiver answers a delivery: accept it, fail it temporarily, or refuse it for good. */
export type Answer = "accept" | "fail" | "reject"

/** What the receiver got, as it arrived. */
export interface Received {
  readonly event_id: string
  /** The event as the receiver decoded it from the wire, when the wire carries the whole event. */
  readonly event?: unknown
}

/** A delivery held at the receiver, unanswered, until released. */
export interface Hold {
  /** Completes once at least one delivery has reached the receiver and is being held. */
  readonly arrived: Effect.Effect<void>
  /** Lets held and later deliveries through (answered as usual). */
  readonly release: Effect.Effect<void>
}

/**
 * What a transport declares it cannot do, each gap with the reason (the vitest binding names the
 * gaps in the suite's title and leaves out the cases that need them). Omitted fields mean "supported".
 */
export interface Features {
  /**
   * Each envelope's outcome depends only on how the receiver answered that envelope. A transport
   * that sends several envelopes in one request (one answer for all of them) gives the reason it
   * cannot; the other cases answer whole topics alike, so they still apply.
   * @default supported
   */
  readonly perEnvelopeOutcomes?: { readonly unsupported: string }
  /**
   * The transport keeps `context.deadline`: it starts nothing once the deadline has passed
   * (`NotSent`) and cuts its waits for answers at it. A transport that cannot gives the reason (the
   * relay's publish timeout is then the only bound, and counts every envelope as retryable).
   * @default supported
   */
  readonly deadline?: { readonly unsupported: string }
}

/** The transport under test and a handle on its receiver. */
export interface TransportSubject {
  readonly transport: Transport
  /** Deliveries the receiver accepted, in arrival order (duplicates kept). */
  readonly accepted: Effect.Effect<ReadonlyArray<Received>>
  /** Decides how the receiver answers each later delivery, by event id. The default accepts all. */
  readonly answer: (decide: (eventId: string) => Answer) => Effect.Effect<void>
  /**
   * Holds later deliveries unanswered until released, so a case can interrupt a publish in flight.
   * Absent when publishing has no in-flight moment (a synchronous transport); the interruption
   * case then interrupts as early as it can.
   */
  readonly hold?: Effect.Effect<Hold>
}

export interface ContractCase {
  readonly name: string
  /** The feature the case needs; a suite whose subject declares it missing leaves the case out. */
  readonly requires?: keyof Features
  readonly run: (subject: TransportSubject) => Effect.Effect<void, unknown, Scope.Scope>
}

let outboxCounter = 0

/** An envelope for `event` on `route`/`topic` (first attempt unless told). */
export const envelope = (event: Event, route = "default", topic = `topic.${route}`, attempt = 1): Envelope => ({
  outbox_id: String(++outboxCounter) as OutboxId,
  event,
  route,
  topic,
  attempt
})

/** Publishes and checks the part of the contract every publish must keep: it succeeds, one outcome each. */
const publish = (subject: TransportSubject, envelopes: ReadonlyArray<Envelope>, context = noDeadline) =>
  Effect.gen(function* () {
    const exit = yield* Effect.exit(subject.transport.publish(envelopes, context))
    if (Exit.isFailure(exit)) {
      return yield* Effect.die(
        new check.ContractViolationError({ message: `publish must never fail, got ${Cause.pretty(exit.cause)}` })
      )
    }
    yield* check.equal(exit.value.length, envelopes.length, "one outcome per envelope")
    return exit.value
  })

/** A context with `deadline` whose `sending` records the event ids reported. */
const recording = (deadline: number) => {
  const reported = new Set<string>()
  const context: PublishContext = {
    deadline,
    sending: (envelopes) => {
      for (const e of envelopes) reported.add(e.event.event_id)
    }
  }
  return { context, reported }
}

/** The deadline cases wait for a real deadline whatever the suite's clock: the live one. */
const onLiveClock = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.provideService(effect, Clock.Clock, Clock.Clock.defaultValue())

/** How long a case waits for something that should happen at once; it only costs time on failure. */
const bound = Duration.seconds(15)

const tags = (outcomes: ReadonlyArray<PublishOutcome>) => outcomes.map((o) => o._tag)
const tagOf = (answer: Answer): PublishOutcome["_tag"] =>
  answer === "accept" ? "Delivered" : answer === "fail" ? "Retryable" : "Permanent"
const sorted = (ids: ReadonlyArray<string>) => [...ids].sort()

/** The accepted ids must be exactly `expected` as a multiset, and decoded events must match the sent ones. */
const checkAccepted = (subject: TransportSubject, expected: ReadonlyArray<Envelope>, what: string) =>
  Effect.gen(function* () {
    const accepted = yield* subject.accepted
    yield* check.equal(
      sorted(accepted.map((r) => r.event_id)),
      sorted(expected.map((e) => e.event.event_id)),
      `${what}: each envelope received exactly once`
    )
    const sent = new Map<string, unknown>(expected.map((e) => [e.event.event_id, encodeEvent(e.event)] as const))
    for (const received of accepted) {
      if (received.event !== undefined) {
        yield* check.equal(received.event, sent.get(received.event_id), `${what}: the event arrives unchanged`)
      }
    }
  })

/** A batch mixing two routes and three topics, with one event sent to two routes. */
const mixedBatch = (): ReadonlyArray<Envelope> => {
  const [a, b, c, d, e] = [makeEvent(), makeEvent(), makeEvent(), makeEvent(), makeEvent()]
  return [
    envelope(a, "r1", "orders"),
    envelope(b, "r1", "quotes"),
    envelope(c, "r2", "orders"),
    envelope(a, "r2", "audit"),
    envelope(d, "r1", "quotes", 3),
    envelope(e, "r1", "orders")
  ]
}

export const cases: ReadonlyArray<ContractCase> = [
  {
    name: "a single envelope is delivered and received once, unchanged",
    run: (subject) =>
      Effect.gen(function* () {
        const one = [envelope(makeEvent())]
        const outcomes = yield* publish(subject, one)
        yield* check.equal(tags(outcomes), ["Delivered"], "outcome")
        yield* checkAccepted(subject, one, "single")
      })
  },
  {
    name: "a batch across routes and topics gets one Delivered per envelope and each is received once",
    run: (subject) =>
      Effect.gen(function* () {
        const batch = mixedBatch()
        const outcomes = yield* publish(subject, batch)
        yield* check.equal(
          tags(outcomes),
          batch.map(() => "Delivered"),
          "outcomes"
        )
        yield* checkAccepted(subject, batch, "batch")
      })
  },
  {
    name: "an empty batch yields no outcome and sends nothing",
    run: (subject) =>
      Effect.gen(function* () {
        const outcomes = yield* publish(subject, [])
        yield* check.equal(outcomes.length, 0, "no outcome")
        yield* check.equal((yield* subject.accepted).length, 0, "nothing received")
      })
  },
  {
    name: "a failing receiver yields Retryable and a refusing one Permanent, for every envelope",
    run: (subject) =>
      Effect.gen(function* () {
        yield* subject.answer(() => "fail")
        const batch = mixedBatch()
        const failed = yield* publish(subject, batch)
        yield* check.equal(
          tags(failed),
          batch.map(() => "Retryable"),
          "failing receiver"
        )
        yield* subject.answer(() => "reject")
        const refused = yield* publish(subject, batch)
        yield* check.equal(
          tags(refused),
          batch.map(() => "Permanent"),
          "refusing receiver"
        )
        yield* check.that(
          [...failed, ...refused].every((o) => o._tag !== "Delivered" && o.error.length > 0),
          "every failure says why"
        )
        yield* check.equal((yield* subject.accepted).length, 0, "nothing accepted")
        yield* subject.answer(() => "accept")
        const recovered = yield* publish(subject, batch)
        yield* check.equal(
          tags(recovered),
          batch.map(() => "Delivered"),
          "the transport works again once the receiver recovers"
        )
        yield* checkAccepted(subject, batch, "after recovery")
      })
  },
  {
    name: "outcomes follow the envelopes' order when topics are answered differently",
    run: (subject) =>
      Effect.gen(function* () {
        const byTopic: Record<string, Answer> = { orders: "accept", quotes: "fail", audit: "reject" }
        const topics = ["orders", "quotes", "audit", "quotes", "orders", "audit", "orders"]
        const batch = topics.map((topic) => envelope(makeEvent(), "r1", topic))
        const answers = new Map<string, Answer>(batch.map((e) => [e.event.event_id, byTopic[e.topic]!] as const))
        yield* subject.answer((id) => answers.get(id) ?? "accept")
        const outcomes = yield* publish(subject, batch)
        yield* check.equal(
          tags(outcomes),
          batch.map((e) => tagOf(byTopic[e.topic]!)),
          "outcome i belongs to envelope i"
        )
        yield* checkAccepted(
          subject,
          batch.filter((e) => e.topic === "orders"),
          "mixed"
        )
      })
  },
  {
    name: "each envelope gets its own outcome when answers differ within a topic",
    requires: "perEnvelopeOutcomes",
    run: (subject) =>
      Effect.gen(function* () {
        const pattern: ReadonlyArray<Answer> = ["accept", "fail", "accept", "reject", "reject", "accept"]
        const batch = pattern.map(() => envelope(makeEvent(), "r1", "orders"))
        const answers = new Map<string, Answer>(batch.map((e, i) => [e.event.event_id, pattern[i]!] as const))
        yield* subject.answer((id) => answers.get(id) ?? "accept")
        const outcomes = yield* publish(subject, batch)
        yield* check.equal(tags(outcomes), pattern.map(tagOf), "outcome i belongs to envelope i")
        yield* checkAccepted(
          subject,
          batch.filter((_, i) => pattern[i] === "accept"),
          "per envelope"
        )
      })
  },
  {
    name: "interrupting a publish in flight neither crashes nor reports, and the transport keeps working",
    run: (subject) =>
      Effect.gen(function* () {
        const batch = [envelope(makeEvent()), envelope(makeEvent())]
        const hold = subject.hold === undefined ? undefined : yield* subject.hold
        const fiber = yield* Effect.forkChild(subject.transport.publish(batch, noDeadline))
        // A deadline, not a wait: generous for a busy machine, it only costs time when the case fails.
        if (hold !== undefined) yield* hold.arrived.pipe(Effect.timeout(bound))
        const exit = yield* Fiber.interrupt(fiber).pipe(Effect.andThen(Fiber.await(fiber)))
        yield* check.that(
          Exit.isSuccess(exit) ? hold === undefined : Cause.hasInterruptsOnly(exit.cause),
          `an interrupted publish ends interrupted, without error or outcomes (got ${
            Exit.isSuccess(exit) ? "outcomes" : Cause.pretty(exit.cause)
          })`
        )
        if (hold !== undefined) yield* hold.release
        const after = [envelope(makeEvent())]
        const outcomes = yield* publish(subject, after)
        yield* check.equal(tags(outcomes), ["Delivered"], "a publish after the interruption")
        const accepted = (yield* subject.accepted).map((r) => r.event_id)
        yield* check.that(accepted.includes(after[0]!.event.event_id), "the later event is received")
      })
  },
  {
    name: "given a deadline that has passed, a publish sends nothing and answers NotSent for each envelope",
    requires: "deadline",
    run: (subject) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const batch = mixedBatch()
        const outcomes = yield* publish(subject, batch, recording(now - 1).context)
        yield* check.equal(
          tags(outcomes),
          batch.map(() => "NotSent"),
          "outcomes"
        )
        yield* check.equal((yield* subject.accepted).length, 0, "nothing received")
      })
  },
  {
    name: "a publish whose receiver does not answer returns by its deadline: Retryable if sent, NotSent if not",
    requires: "deadline",
    run: (subject) =>
      Effect.gen(function* () {
        // Far enough ahead for the first request to reach a held receiver on a busy machine.
        const wait = Duration.millis(500)
        const hold = subject.hold === undefined ? undefined : yield* subject.hold
        const batch = [envelope(makeEvent()), envelope(makeEvent()), envelope(makeEvent())]
        const deadline = (yield* Clock.currentTimeMillis) + Duration.toMillis(wait)
        const fiber = yield* Effect.forkChild(subject.transport.publish(batch, recording(deadline).context))
        const exit = yield* Fiber.await(fiber).pipe(Effect.timeout(Duration.sum(wait, bound)), Effect.option)
        if (hold !== undefined) yield* hold.release
        yield* check.that(
          exit._tag === "Some",
          `the publish is still running ${Duration.format(bound)} after its deadline: it must return by then`
        )
        if (exit._tag === "None") return
        yield* check.that(Exit.isSuccess(exit.value), "a publish cut by its deadline still succeeds")
        const outcomes = Exit.isSuccess(exit.value) ? exit.value.value : []
        yield* check.equal(outcomes.length, batch.length, "one outcome per envelope")
        if (hold !== undefined) {
          yield* check.that(
            outcomes.every((o) => o._tag === "Retryable" || o._tag === "NotSent"),
            `an unanswered envelope is Retryable (it may have arrived) or NotSent (never sent); got ${tags(outcomes)}`
          )
        }
        // Once released, what the receiver got must not be among the envelopes said to be NotSent.
        yield* publish(subject, [envelope(makeEvent())])
        const received = new Set((yield* subject.accepted).map((r) => r.event_id))
        yield* check.that(
          batch.every((e, i) => outcomes[i]?._tag !== "NotSent" || !received.has(e.event.event_id)),
          "an envelope answered NotSent never reaches the receiver"
        )
      }).pipe(onLiveClock)
  },
  {
    name: "a transport that sets reportsSending reports each envelope before the receiver gets it, also when interrupted",
    run: (subject) =>
      Effect.gen(function* () {
        if (subject.transport.reportsSending !== true) return
        const batch = mixedBatch()
        const all = recording(Number.POSITIVE_INFINITY)
        yield* publish(subject, batch, all.context)
        const received = (yield* subject.accepted).map((r) => r.event_id)
        yield* check.that(
          received.every((id) => all.reported.has(id)),
          "every envelope received was reported through context.sending"
        )
        if (subject.hold === undefined) return
        const hold = yield* subject.hold
        const held = recording(Number.POSITIVE_INFINITY)
        const next = [envelope(makeEvent()), envelope(makeEvent()), envelope(makeEvent())]
        const fiber = yield* Effect.forkChild(subject.transport.publish(next, held.context))
        yield* hold.arrived.pipe(Effect.timeout(bound))
        yield* check.that(held.reported.size > 0, "a request that reached the receiver was reported before it was sent")
        yield* Fiber.interrupt(fiber)
        yield* hold.release
        // A later publish: by the time it is answered, the held requests were answered too.
        yield* publish(subject, [envelope(makeEvent())])
        const got = new Set((yield* subject.accepted).map((r) => r.event_id))
        yield* check.that(
          next.every((e) => !got.has(e.event.event_id) || held.reported.has(e.event.event_id)),
          "after an interruption, every envelope the receiver got had been reported"
        )
      })
  }
]

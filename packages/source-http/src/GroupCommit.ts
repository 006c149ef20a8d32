/**
 * Group commit of a push source's deliveries: a delivery that arrives while an append is in flight
 * waits, and the ones that waited are appended together by the next `appendAll` (one statement on
 * PostgreSQL) as soon as the append in flight ends. No timer: an idle source appends a delivery at
 * once. Each delivery gets its own batch's result (its event ids, its duplicates, `redelivered`),
 * and nothing is answered before its group is committed.
 *
 * A group holds independent batches only (no raw payload id or event id in two of them, all
 * appended `once` or none): a
 * delivery that shares one with a delivery before it waits for a later group, so two deliveries of
 * one webhook-id are appended one after the other and the second is a redelivery. When a group's
 * append fails for a reason not worth retrying (a bad batch, a bug), each of its batches is
 * appended alone, so one bad delivery cannot fail the others; a retryable failure (the store is
 * down) is every delivery's to retry.
 */
import type { AppendBatch, AppendResult, EventStore, StoreError } from "@sluice/core"
import { Cause, Effect, Exit } from "effect"

/** Appends a batch in the next group: as `EventStore.append` would, alone. */
export type GroupAppend = (batch: AppendBatch) => Effect.Effect<AppendResult, StoreError>

export interface GroupCommitOptions {
  /** Events per group at most (a delivery with more goes alone). @default 1000 */
  readonly maxEvents?: number
}

interface Waiting {
  readonly batch: AppendBatch
  readonly resume: (exit: Exit.Exit<AppendResult, StoreError>) => void
}

/** Whether `batch` shares a raw payload id or an event id with the batches whose ids are `raws` and `events`. */
const conflicts = (batch: AppendBatch, raws: ReadonlySet<string>, events: ReadonlySet<string>): boolean =>
  (batch.raw !== null && raws.has(batch.raw.raw_id)) || batch.events.some((event) => events.has(event.event_id))

const addIds = (batch: AppendBatch, raws: Set<string>, events: Set<string>): void => {
  if (batch.raw !== null) raws.add(batch.raw.raw_id)
  for (const event of batch.events) events.add(event.event_id)
}

/** Group-commit appends over `store`, run in the current context. */
export const make = (store: EventStore["Service"], options: GroupCommitOptions = {}): Effect.Effect<GroupAppend> =>
  Effect.map(Effect.context<never>(), (context) => {
    const maxEvents = options.maxEvents ?? 1000
    const fork = Effect.runForkWith(context)
    let queue: Array<Waiting> = []
    // One append in flight at a time: the next group forms while it runs. (With two, a group could
    // hold a delivery sharing an id with one in flight; `nextGroup` only looks at the waiting.)
    let busy = false

    /** The waiting deliveries that can go together, in arrival order; the others keep waiting. */
    const nextGroup = (): Array<Waiting> => {
      const group: Array<Waiting> = []
      const rest: Array<Waiting> = []
      // Ids of every delivery looked at, taken or not: a later one sharing an id stays behind it.
      const raws = new Set<string>()
      const events = new Set<string>()
      let size = 0
      for (const waiting of queue) {
        const { batch } = waiting
        // The first always goes, whatever its size (a batch repeating an event of its own included).
        // Batches appended `once` and plain ones are each one statement, but not together.
        const take =
          group.length === 0 ||
          (batch.once === group[0]!.batch.once &&
            size + batch.events.length <= maxEvents &&
            !conflicts(batch, raws, events))
        addIds(batch, raws, events)
        if (take) {
          group.push(waiting)
          size += batch.events.length
        } else rest.push(waiting)
      }
      queue = rest
      return group
    }

    const alone = (waiting: Waiting) =>
      Effect.map(Effect.exit(store.append(waiting.batch)), (exit) => waiting.resume(exit))

    /** Appends a group; a failure not worth retrying appends each of its batches alone. */
    const appendGroup = (group: ReadonlyArray<Waiting>): Effect.Effect<void> => {
      if (group.length === 1) return alone(group[0]!)
      return Effect.flatMap(Effect.exit(store.appendAll(group.map((w) => w.batch))), (exit) => {
        if (Exit.isSuccess(exit)) {
          for (const [i, waiting] of group.entries()) waiting.resume(Exit.succeed(exit.value[i]!))
          return Effect.void
        }
        const error = exit.cause.reasons.find(Cause.isFailReason)?.error
        if (error?.retryable === true) {
          for (const waiting of group) waiting.resume(Exit.fail(error))
          return Effect.void
        }
        return Effect.forEach(group, alone, { concurrency: "unbounded", discard: true })
      })
    }

    const dispatch = () => {
      if (!busy && queue.length > 0) {
        const group = nextGroup()
        busy = true
        // Interrupted (the runtime closing): whoever still waits is interrupted too.
        fork(
          appendGroup(group).pipe(
            Effect.onInterrupt(() =>
              Effect.sync(() => {
                for (const waiting of group) waiting.resume(Exit.interrupt())
              })
            ),
            Effect.ensuring(Effect.sync(release))
          )
        )
      }
    }

    const release = () => {
      busy = false
      dispatch()
    }

    return (batch) =>
      Effect.suspend(() => {
        // Nothing in flight or waiting: this delivery's own fiber appends it, at once.
        if (!busy && queue.length === 0) {
          busy = true
          return Effect.onExit(store.append(batch), () => Effect.sync(release))
        }
        return Effect.callback<AppendResult, StoreError>((resume) => {
          let resumed = false
          queue.push({
            batch,
            resume: (exit) => {
              if (resumed) return
              resumed = true
              resume(exit)
            }
          })
          dispatch()
        })
      })
  })

/**
 * The common ground of the fault scenarios (sigkill, terminate, restart): a webhook receiver, an
 * in-process writer appending on an ordered route, and a fleet of relay processes, with the writer
 * running in the background while the scenario injects its fault.
 */
import { type Fleet, relayConfig, startFleet } from "./fleet.ts"
import { type ChaosReceiver, startReceiver } from "./receiver.ts"
import type { Context } from "./scenario.ts"
import { makeWriter, type Writer, type WriterPlan } from "./writer.ts"

/** Relay settings shared by the fault scenarios: small batches and a short lease, so faults bite often. */
export const WORKERS = 2
export const BATCH = 8

export interface Load {
  readonly receiver: ChaosReceiver
  readonly writer: Writer
  readonly fleet: Fleet
  /** Settles when the writer has written its whole plan. */
  readonly writing: Promise<unknown>
  /** True once `writing` settled. */
  readonly done: () => boolean
}

export const startLoad = async (
  ctx: Context,
  random: () => number,
  options: {
    readonly receiverDelayMs: number
    readonly relays: number
    readonly plan: Partial<WriterPlan> & Pick<WriterPlan, "transactionsPerEntity">
  }
): Promise<Load> => {
  const receiver = await startReceiver(ctx.history, { delayMs: options.receiverDelayMs })
  ctx.cleanup.push(receiver.close)
  const writer = await makeWriter(ctx.pg.url)
  ctx.cleanup.push(writer.close)
  const settings = { workers: WORKERS, batchSize: BATCH, lease: "3 seconds", pollInterval: "300 millis", ordered: true }
  const fleet = startFleet(ctx.history, ctx.pg.url, relayConfig(receiver.url, settings))
  ctx.cleanup.push(fleet.destroy)
  await Promise.all(Array.from({ length: options.relays }, () => fleet.spawn()))
  let finished = false
  const plan: WriterPlan = {
    entities: 6,
    maxEvents: 3,
    rollbackRate: 0,
    slowRate: 0,
    slowMs: 0,
    pauseMs: 40,
    ...options.plan
  }
  const writing = writer.run(plan, random).then(() => {
    finished = true
  })
  return { receiver, writer, fleet, writing, done: () => finished }
}

/**
 * One worker process of a peer job queue for bench/peers.ts: graphile-worker or pg-boss running a
 * no-op handler on the schema it is given (PEER_WORKER, JSON). Started with `fork`, it says "ready"
 * once set up, starts working on "go", reports how many jobs its handler ran every 20 ms, and on
 * "stop" shuts down gracefully (every job it took is completed or given back), sends its final
 * count and exits. Its stdout is not read: the bench reads only its messages.
 */
import { Logger, run } from "graphile-worker"
import { PgBoss } from "pg-boss"
import type { PeerWorker, ToParent, ToWorker } from "./peers.ts"

const config = JSON.parse(process.env.PEER_WORKER ?? "null") as PeerWorker
let handled = 0
const send = (message: ToParent) => process.send?.(message)
const next = (type: ToWorker["type"]) =>
  new Promise<void>((resolve) => {
    const listener = (message: ToWorker) => {
      if (message.type !== type) return
      process.off("message", listener)
      resolve()
    }
    process.on("message", listener)
  })

/** Runs the peer from "go" to "stop": `start` begins working and returns how to stop. */
const serve = async (start: () => Promise<() => Promise<void>>) => {
  const go = next("go")
  const stopping = next("stop")
  send({ type: "ready" })
  await go
  const stop = await start()
  let reported = 0
  const progress = setInterval(() => {
    if (handled === reported) return
    reported = handled
    send({ type: "progress", handled })
  }, 20)
  await stopping
  clearInterval(progress)
  await stop()
  send({ type: "stopped", handled })
  process.disconnect()
}

if (config.peer === "graphile-worker") {
  // graphile-worker's run() checks its migrations and opens its pool when it starts: inside the
  // clock, as no option defers it (tens of ms, against drains of seconds).
  await serve(async () => {
    const runner = await run({
      taskList: {
        bench: async () => {
          handled++
        }
      },
      noHandleSignals: true,
      logger: new Logger(() => () => {}),
      preset: { worker: { connectionString: config.url, schema: config.schema, ...config.worker } }
    })
    return () => runner.stop()
  })
} else {
  const boss = new PgBoss({ connectionString: config.url, schema: config.schema })
  boss.on("error", (error) => console.error(`pg-boss worker: ${error.message}`))
  await boss.start()
  await serve(async () => {
    await boss.work("bench", config.work, async (jobs) => {
      handled += jobs.length
    })
    return () => boss.stop({ graceful: true })
  })
}

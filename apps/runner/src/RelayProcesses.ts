/**
 * `relay.processes`: on a PostgreSQL store, `sluice run` starts that many processes minus one
 * beside itself that run only the relay (the same command line, with RELAY_ONLY_ENV set), so the
 * relay uses more than one core. They share the outbox as separate `sluice run` processes do:
 * each claim leases its rows, every result is fenced by its lease token, ordered routes keep their
 * order across processes. A relay-only process that exits while this one runs is started again
 * after a second; stopping this process stops them (SIGTERM, each drains within the grace period).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { Duration, Effect, Fiber } from "effect"

/** Set in a relay-only process: it runs the relay and nothing else of the config. */
export const RELAY_ONLY_ENV = "SLUICE_RELAY_ONLY"

/** True in a process started by `start` below. */
export const isRelayOnly = (env: Readonly<Record<string, string | undefined>> = process.env): boolean =>
  env[RELAY_ONLY_ENV] === "1"

const exited = (child: ChildProcess) =>
  Effect.callback<number | null>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.succeed(child.exitCode))
    child.once("exit", (code) => resume(Effect.succeed(code)))
  })

/** One relay-only process: this process's command line again, its output into this one's. */
const spawnRelay = () =>
  spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    env: { ...process.env, [RELAY_ONLY_ENV]: "1" },
    stdio: ["ignore", "inherit", "inherit"]
  })

/**
 * Keeps `count` relay-only processes running in the current scope. Closing the scope sends each
 * SIGTERM and waits for it to exit, for at most `grace` and 5 seconds more, then kills it.
 */
export const start = (count: number, grace: Duration.Duration) =>
  Effect.gen(function* () {
    let stopping = false
    const current = new Set<ChildProcess>()
    const keep = (slot: number): Effect.Effect<void> =>
      Effect.gen(function* () {
        while (!stopping) {
          const child = spawnRelay()
          current.add(child)
          yield* Effect.logInfo("relay process started").pipe(Effect.annotateLogs({ pid: child.pid, slot }))
          const code = yield* exited(child)
          current.delete(child)
          if (stopping) return
          yield* Effect.logError("relay process exited; starting it again in 1 second").pipe(
            Effect.annotateLogs({ pid: child.pid, slot, code })
          )
          yield* Effect.sleep("1 second")
        }
      })
    const fibers = yield* Effect.forEach(
      Array.from({ length: count }, (_, i) => i + 1),
      (slot) => Effect.forkScoped(keep(slot))
    )
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        stopping = true
        yield* Fiber.interruptAll(fibers)
        const children = [...current]
        for (const child of children) child.kill("SIGTERM")
        yield* Effect.forEach(children, exited, { concurrency: "unbounded" }).pipe(
          Effect.timeoutOrElse({
            duration: Duration.sum(grace, Duration.seconds(5)),
            orElse: () =>
              Effect.sync(() => {
                for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill()
                return []
              })
          })
        )
      })
    )
  })

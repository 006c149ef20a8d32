/**
 * A nats-server of the test's own (JetStream on, a free port, its data in a temp dir), for the cases
 * that stop or restart a server: the shared one on 4222 is never stopped. Stopped with the scope.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, type Scope } from "effect"

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = createServer()
    probe.once("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

/** Starts nats-server on `port`; resolves once it is ready, rejects when it exits first. */
const startOn = (port: number, dir: string, args: ReadonlyArray<string>, js: boolean) =>
  new Promise<ChildProcess>((resolve, reject) => {
    const child = spawn(
      "nats-server",
      [...(js ? ["-js", "-sd", dir] : []), "-a", "127.0.0.1", "-p", String(port), ...args],
      {
        stdio: ["ignore", "ignore", "pipe"]
      }
    )
    let log = ""
    child.stderr?.on("data", (chunk: Buffer) => {
      log += chunk.toString()
      if (log.includes("Server is ready")) resolve(child)
    })
    child.once("exit", (code) => reject(new Error(`nats-server exited (${code}): ${log.slice(-500)}`)))
  })

export interface PrivateServer {
  readonly url: string
  /** Stops the server (SIGTERM) and waits for its exit. */
  readonly stop: Effect.Effect<void>
  /** Starts it again on the same port and data dir. */
  readonly start: Effect.Effect<void>
}

/**
 * A private JetStream server for the scope, on a free port (another is tried when one is taken);
 * `args` are more nats-server flags (`--user`, `--auth`...); `jetstream: false` leaves JetStream off.
 */
export const privateServer = (
  args: ReadonlyArray<string> = [],
  { jetstream = true }: { readonly jetstream?: boolean } = {}
): Effect.Effect<PrivateServer, never, Scope.Scope> =>
  Effect.gen(function* () {
    const dir = mkdtempSync(join(tmpdir(), "sluice-nats-"))
    let port = 0
    let child: ChildProcess | undefined
    for (let tries = 0; child === undefined; tries++) {
      port = yield* Effect.promise(freePort)
      child = yield* Effect.promise(() =>
        startOn(port, dir, args, jetstream).catch((error: unknown) => (tries < 5 ? undefined : Promise.reject(error)))
      )
    }
    const stop = Effect.promise(async () => {
      const running = child
      child = undefined
      if (running === undefined || running.exitCode !== null) return
      const exited = new Promise((resolve) => running.once("exit", resolve))
      running.kill("SIGTERM")
      await exited
    })
    const start = Effect.promise(async () => {
      child = await startOn(port, dir, args, jetstream)
    })
    yield* Effect.addFinalizer(() =>
      stop.pipe(Effect.andThen(Effect.sync(() => rmSync(dir, { recursive: true, force: true }))))
    )
    return { url: `nats://127.0.0.1:${port}`, stop, start }
  })

/**
 * Test support: a private `nats-server` with JetStream (a free port, its store in a temporary
 * directory), for tests that must not share the machine's server (they kill and restart things).
 * `nats-server` must be on the PATH (NATS_SERVER overrides the binary).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { connect } from "@nats-io/transport-node"

export interface NatsServer {
  readonly url: string
  readonly child: ChildProcess
  /** Stops the server (SIGKILL if it does not exit) and removes its store. */
  readonly stop: () => Promise<void>
}

/** A port nothing listens on right now (the server may still lose it to a race: `start` retries). */
const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address()
      probe.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject()))
    })
  })

/** Resolves once a client can connect to `url`, or rejects when the child exits or after `timeoutMs`. */
const ready = async (url: string, child: ChildProcess, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`nats-server exited with ${child.exitCode}`)
    try {
      const nc = await connect({ servers: url, reconnect: false, timeout: 1000 })
      await nc.close()
      return
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  throw new Error(`nats-server at ${url} not ready within ${timeoutMs} ms`)
}

/** Starts a private JetStream server; retries on another port when the chosen one was taken. */
export const startNatsServer = async (attempts = 5): Promise<NatsServer> => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-nats-"))
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    const child = spawn(
      process.env.NATS_SERVER ?? "nats-server",
      ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", dir],
      {
        stdio: ["ignore", "ignore", "pipe"]
      }
    )
    const url = `nats://127.0.0.1:${port}`
    try {
      await ready(url, child, 20_000)
      return {
        url,
        child,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) {
            const exited = new Promise((resolve) => child.once("exit", resolve))
            child.kill("SIGTERM")
            const timer = setTimeout(() => child.kill("SIGKILL"), 5000)
            await exited
            clearTimeout(timer)
          }
          rmSync(dir, { recursive: true, force: true, maxRetries: 5 })
        }
      }
    } catch (error) {
      child.kill("SIGKILL")
      if (attempt >= attempts) {
        rmSync(dir, { recursive: true, force: true, maxRetries: 5 })
        throw error
      }
    }
  }
}

/**
 * A PostgreSQL that never answers (a host that drops packets, a wrong port on a box that accepts
 * and stays silent): the store commands fail naming the address instead of waiting for good, and a
 * `run` still opening its store stops on the first SIGINT. Simulated on loopback by a server that
 * accepts connections and never writes.
 */
import { createServer, type Server, type Socket } from "node:net"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import { removeTempDirs, writeConfig } from "./support/config.ts"
import { kill, runToEnd, start } from "./support/sluice.ts"

const cleanup: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const task of cleanup.splice(0).reverse()) await task()
})
afterAll(removeTempDirs)

/** A TCP server on a free loopback port that accepts and never answers; returns its port. */
const silentServer = async (): Promise<number> => {
  const sockets: Array<Socket> = []
  const server: Server = createServer((socket) => sockets.push(socket))
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  cleanup.push(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => server.close(resolve))
  })
  const address = server.address()
  if (address === null || typeof address === "string") throw new Error("no port")
  return address.port
}

const within = <A>(promise: Promise<A>, ms: number, what: string): Promise<A> =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))
  ])

describe("a PostgreSQL that never answers", () => {
  const config = () =>
    writeConfig({ store: { driver: "postgres" }, admin: { port: 0 }, logging: { format: "json" } }).file

  it("status exits 1 naming the address and the wait, instead of hanging", async () => {
    const port = await silentServer()
    const env = { ...process.env, DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/sluice` }
    const status = await within(runToEnd(["status", "--config", config()], { env }), 50_000, "status")
    expect(status.code).toBe(1)
    expect(status.stderr).toContain(
      `error: cannot open the postgres store: no answer from PostgreSQL at 127.0.0.1:${port} within 10s`
    )
    // The URL came from the environment, not from the config file's store.url: the message says so.
    expect(status.stderr).toContain("(URL from DATABASE_URL)")
  }, 60_000)

  it("run, still opening its store, stops on the first SIGINT with exit 0", async () => {
    const port = await silentServer()
    const env = { ...process.env, DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/sluice` }
    const run = start(["run", "--config", config()], { env })
    cleanup.push(() => kill(run))
    await run.waitForLine("stderr", /starting sluice/)
    run.child.kill("SIGINT")
    expect(await within(run.exited, 20_000, "exit after SIGINT")).toEqual({ code: 0, signal: null })
  }, 60_000)
})

/**
 * Chaos harness: a private three-node JetStream cluster on loopback (`nats-server` processes with
 * routes between them, each its own store directory under one temporary directory). A node can be
 * SIGKILLed and restarted on the same ports and store, so it rejoins with what it had written.
 * Every process is SIGKILLed by `stop`, and by this process's exit if `stop` never ran.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Data } from "effect"
import { freePort } from "./privatePg.ts"
import { sleep } from "./random.ts"

export interface NatsNode {
  readonly name: string
  /** `nats://127.0.0.1:<client port>` */
  readonly url: string
  readonly monitorUrl: string
  /** The running server, or null while the node is down. */
  readonly process: ChildProcess | null
  /** The server's log (stderr) since it last started. */
  readonly log: ReadonlyArray<string>
}

export interface NatsCluster {
  /** The client URLs of every node (a client given them all fails over between them). */
  readonly servers: ReadonlyArray<string>
  readonly nodes: ReadonlyArray<NatsNode>
  /** SIGKILL one node and wait for its exit. */
  readonly kill: (index: number) => Promise<void>
  /** Start a killed node again (same ports and store) and wait until it sees a meta leader. */
  readonly restart: (index: number) => Promise<void>
  /** Waits until every live node names the same JetStream meta leader; returns its name. */
  readonly awaitMetaLeader: (timeoutMs?: number) => Promise<string>
  /** SIGKILL every node and remove the store directories. */
  readonly stop: () => Promise<void>
}

/** A node could not bind one of its ports: another process took it after `freePort` found it. */
export class PortTaken extends Data.TaggedError("PortTaken")<{ readonly message: string }> {}

interface Ports {
  readonly client: number
  readonly cluster: number
  readonly monitor: number
}

interface Slot {
  readonly name: string
  readonly ports: Ports
  readonly store: string
  readonly configFile: string
  process: ChildProcess | null
  log: Array<string>
}

const CLUSTER_NAME = "sluice-chaos"

/** One node's config: JetStream with a bounded store, a cluster listener and routes to its peers. */
const configText = (slot: Slot, peers: ReadonlyArray<Ports>): string =>
  [
    `server_name: ${slot.name}`,
    `listen: "127.0.0.1:${slot.ports.client}"`,
    `http: "127.0.0.1:${slot.ports.monitor}"`,
    `jetstream { store_dir: "${slot.store}", max_memory_store: 64MB, max_file_store: 1GB }`,
    "cluster {",
    `  name: ${CLUSTER_NAME}`,
    `  listen: "127.0.0.1:${slot.ports.cluster}"`,
    `  routes: [${peers.map((p) => `"nats-route://127.0.0.1:${p.cluster}"`).join(", ")}]`,
    "}"
  ].join("\n")

/** Starts the server of one slot; resolves once it logged "Server is ready". */
const launch = (slot: Slot, timeoutMs: number): Promise<void> =>
  new Promise((resolve, reject) => {
    const child = spawn("nats-server", ["-c", slot.configFile], { stdio: ["ignore", "ignore", "pipe"] })
    slot.process = child
    slot.log = []
    let settled = false
    const settle = (error?: Error) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (error === undefined) resolve()
      else reject(error)
    }
    const timer = setTimeout(
      () => settle(new Error(`${slot.name} not ready within ${timeoutMs} ms: ${slot.log.slice(-5).join(" | ")}`)),
      timeoutMs
    )
    let partial = ""
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      const lines = (partial + chunk).split("\n")
      partial = lines.pop() ?? ""
      slot.log.push(...lines)
      if (slot.log.length > 2000) slot.log.splice(0, slot.log.length - 1000)
      if (lines.some((l) => l.includes("Server is ready"))) settle()
      if (lines.some((l) => l.includes("address already in use")))
        settle(new PortTaken({ message: `${slot.name}: ${lines.find((l) => l.includes("address already in use"))}` }))
    })
    child.on("error", (e) => settle(e))
    child.on("exit", (code, signal) => {
      if (slot.process === child) slot.process = null
      const taken = slot.log.find((l) => l.includes("address already in use"))
      settle(
        taken !== undefined
          ? new PortTaken({ message: `${slot.name}: ${taken}` })
          : new Error(`${slot.name} exited (${code ?? signal}) before it was ready: ${slot.log.slice(-5).join(" | ")}`)
      )
    })
  })

const killSlot = async (slot: Slot): Promise<void> => {
  const child = slot.process
  if (child === null) return
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once("exit", () => resolve())
  })
  child.kill("SIGKILL")
  await exited
  slot.process = null
}

/** The meta leader a node's monitoring endpoint names, or undefined (none yet, or the node is down). */
const metaLeader = async (slot: Slot): Promise<string | undefined> => {
  try {
    const response = await fetch(`http://127.0.0.1:${slot.ports.monitor}/jsz`, { signal: AbortSignal.timeout(2000) })
    const body = (await response.json()) as { meta_cluster?: { leader?: string } }
    const leader = body.meta_cluster?.leader
    return leader === undefined || leader === "" ? undefined : leader
  } catch {
    return undefined
  }
}

const startOnce = async (dir: string, size: number, timeoutMs: number): Promise<Array<Slot>> => {
  const slots: Array<Slot> = []
  for (let i = 1; i <= size; i++) {
    const name = `n${i}`
    const store = join(dir, name)
    mkdirSync(store, { recursive: true })
    const ports = { client: await freePort(), cluster: await freePort(), monitor: await freePort() }
    slots.push({ name, ports, store, configFile: join(dir, `${name}.conf`), process: null, log: [] })
  }
  for (const slot of slots)
    writeFileSync(
      slot.configFile,
      configText(
        slot,
        slots.filter((s) => s !== slot).map((s) => s.ports)
      )
    )
  try {
    await Promise.all(slots.map((slot) => launch(slot, timeoutMs)))
  } catch (error) {
    await Promise.all(slots.map(killSlot))
    throw error
  }
  return slots
}

/**
 * Starts the cluster and waits until it has a meta leader. The ports come from `freePort`, and
 * another process may take one before the server binds it: then the whole start is retried.
 */
export const startNatsCluster = async (
  options: { readonly size?: number; readonly timeoutMs?: number } = {}
): Promise<NatsCluster> => {
  const size = options.size ?? 3
  const timeoutMs = options.timeoutMs ?? 30_000
  const dir = mkdtempSync(join(tmpdir(), "sluice-chaos-nats-"))
  let slots: Array<Slot> = []
  for (let attempt = 1; slots.length === 0; attempt++) {
    try {
      slots = await startOnce(join(dir, `try-${attempt}`), size, timeoutMs)
    } catch (error) {
      if (!(error instanceof PortTaken) || attempt >= 5) {
        rmSync(dir, { recursive: true, force: true })
        throw error
      }
    }
  }
  const started = slots
  const onExit = () => {
    for (const slot of started) slot.process?.kill("SIGKILL")
  }
  process.once("exit", onExit)

  const awaitMetaLeader = async (waitMs = timeoutMs): Promise<string> => {
    const deadline = Date.now() + waitMs
    for (;;) {
      const live = started.filter((s) => s.process !== null)
      const leaders = await Promise.all(live.map(metaLeader))
      const first = leaders[0]
      if (first !== undefined && leaders.every((l) => l === first)) return first
      if (Date.now() > deadline)
        throw new Error(`no JetStream meta leader within ${waitMs} ms (live nodes say: ${leaders.join(", ")})`)
      await sleep(100)
    }
  }

  const cluster: NatsCluster = {
    servers: started.map((s) => `nats://127.0.0.1:${s.ports.client}`),
    nodes: started.map((slot) => ({
      name: slot.name,
      url: `nats://127.0.0.1:${slot.ports.client}`,
      monitorUrl: `http://127.0.0.1:${slot.ports.monitor}`,
      get process() {
        return slot.process
      },
      get log() {
        return slot.log
      }
    })),
    kill: (index) => killSlot(started[index]!),
    restart: async (index) => {
      const slot = started[index]!
      if (slot.process !== null) throw new Error(`${slot.name} is running`)
      // Its ports were free a moment ago; if another process took one meanwhile, wait and retry.
      for (let attempt = 1; ; attempt++) {
        const outcome = await launch(slot, timeoutMs).then(
          () => undefined,
          (e: unknown) => e
        )
        if (outcome === undefined) break
        if (!(outcome instanceof PortTaken) || attempt >= 10) throw outcome
        await sleep(500)
      }
      await awaitMetaLeader()
    },
    awaitMetaLeader,
    stop: async () => {
      process.removeListener("exit", onExit)
      await Promise.all(started.map(killSlot))
      rmSync(dir, { recursive: true, force: true, maxRetries: 5 })
    }
  }
  try {
    await awaitMetaLeader()
  } catch (error) {
    await cluster.stop()
    throw error
  }
  return cluster
}

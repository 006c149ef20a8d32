/**
 * `sluice run` with a NATS transport (the local JetStream at NATS_URL, default 127.0.0.1:4222): it
 * starts, creating the configured stream, and warns at start for a route whose resends can outlast
 * the stream's duplicate window.
 */

import { jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { afterAll, describe, expect, it } from "vitest"
import { removeTempDirs, writeConfig } from "./support/config.ts"
import { envWithout, start } from "./support/sluice.ts"

afterAll(removeTempDirs)

const natsUrl = process.env.NATS_URL ?? "nats://127.0.0.1:4222"

describe("sluice run with a nats transport", () => {
  it("creates the stream and warns when the route's resends outlast its duplicate window", async () => {
    const stream = `E2E${process.pid}x${Date.now().toString(36)}`
    const { file } = writeConfig({
      store: { driver: "memory" },
      transports: [
        {
          name: "bus",
          plugin: "nats",
          options: {
            servers: [natsUrl],
            subject: `e2e${process.pid}.{topic}`,
            ensureStream: { name: stream, storage: "memory", duplicateWindow: "1 minute" }
          }
        }
      ],
      routes: [{ name: "quotes", transport: "bus", topic: "quotes", match: ["**"] }],
      admin: { enabled: false }
    })
    const sluice = start(["run", "--config", file], { env: envWithout() })
    try {
      const warning = await sluice.waitForLine("stderr", /route quotes: a resend can come/)
      expect(warning).toContain("2m 21s")
      expect(warning).toContain("1m duplicate window of transport bus")
      await sluice.waitForLine("stderr", /sluice is running/)
      const nc = await connect({ servers: natsUrl })
      const info = await (await jetstreamManager(nc)).streams.info(stream)
      await nc.close()
      expect(info.config.subjects).toEqual([`e2e${process.pid}.>`])
    } finally {
      sluice.child.kill("SIGTERM")
      await sluice.exited
      const nc = await connect({ servers: natsUrl })
      await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false)
      await nc.close()
    }
  }, 60_000)
})

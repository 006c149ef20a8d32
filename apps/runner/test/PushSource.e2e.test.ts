/**
 * End to end: `sluice run` with a push source (Standard Webhooks) on a free port, on embedded PGlite.
 * 1,000 signed webhooks POSTed 16 at a time, a tenth of them sent twice, are each stored exactly
 * once and delivered through a route to a webhook receiver; SIGTERM then exits 0.
 */
import { afterAll, describe, expect, it } from "vitest"
import { envRef, removeTempDirs, webhookSecret, writeConfig } from "./support/config.ts"
import { orderBody, signedHeaders } from "./support/pushWebhooks.ts"
import { startReceiver } from "./support/receiver.ts"
import { adminUrl, envWithout, eventually, killedAfterEach, pushUrl, start } from "./support/sluice.ts"

const pushSecret = `whsec_${Buffer.from("sluice-e2e-push-key-0123456789abc").toString("base64")}`

const post = async (url: string, n: number) => {
  const body = orderBody(n)
  const response = await fetch(url, { method: "POST", body, headers: signedHeaders(pushSecret, `msg_${n}`, body) })
  return { status: response.status, body: (await response.json()) as { event_ids: Array<string>; redelivery: boolean } }
}

const started = killedAfterEach()
afterAll(removeTempDirs)

describe("push source", () => {
  it("stores 1,000 signed webhooks exactly once and delivers them through a route", async () => {
    const receiver = await startReceiver()
    try {
      const { file } = writeConfig({
        store: { driver: "embedded" },
        sources: [
          {
            name: "inbox",
            plugin: "push",
            options: {
              port: 0,
              path: "/hooks",
              auth: { type: "standard-webhooks", secrets: [envRef("E2E_PUSH_SECRET")] }
            }
          }
        ],
        transports: [
          {
            name: "webhook",
            plugin: "@sluice/transport-http",
            options: { url: receiver.url, secrets: [envRef("E2E_WEBHOOK_SECRET")], concurrency: 4, timeoutMs: 5000 }
          }
        ],
        routes: [{ name: "orders", transport: "webhook", topic: "orders", match: ["order.*"] }],
        relay: { workers: 2, pollInterval: "200 millis" },
        admin: { port: 0 },
        logging: { format: "json" }
      })
      const sluice = start(["run", "--config", file], {
        env: envWithout({ E2E_PUSH_SECRET: pushSecret, E2E_WEBHOOK_SECRET: webhookSecret })
      })
      started.push(sluice)
      const url = await pushUrl(sluice, "inbox")
      expect(url).toMatch(/\/hooks$/)

      // 1,000 webhooks, then every tenth again: 16 requests in flight at a time.
      const work = [...Array.from({ length: 1000 }, (_, n) => n), ...Array.from({ length: 100 }, (_, n) => n * 10)]
      const answers = new Map<number, Array<{ status: number; ids: Array<string>; redelivery: boolean }>>()
      let next = 0
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < work.length) {
            const n = work[next++]!
            const answer = await post(url, n)
            answers.set(n, [
              ...(answers.get(n) ?? []),
              { status: answer.status, ids: answer.body.event_ids, redelivery: answer.body.redelivery }
            ])
          }
        })
      )
      const all = [...answers.values()].flat()
      expect(all.filter((a) => a.status !== 200)).toEqual([])
      // A redelivery is answered with the first delivery's id.
      for (let n = 0; n < 1000; n += 10) {
        const [first, second] = answers.get(n)!
        expect(second?.ids).toEqual(first?.ids)
      }
      expect(all.filter((a) => a.redelivery).length).toBe(100)
      const ids = new Set(all.flatMap((a) => a.ids))
      expect(ids.size).toBe(1000)

      await eventually("1,000 deliveries", () => new Set(receiver.received.map((d) => d.id)).size >= 1000, 120_000)
      expect(new Set(receiver.received.map((d) => d.id))).toEqual(ids)
      const metrics = await fetch(`${await adminUrl(sluice)}/metrics`).then((r) => r.text())
      expect(metrics).toMatch(/sluice_push_requests_total\{[^}]*status="200"[^}]*\} 1100/)
      expect(metrics).toMatch(/sluice_events_ingested_total\{source="inbox"\} 1000/)

      sluice.child.kill("SIGTERM")
      expect(await sluice.exited).toEqual({ code: 0, signal: null })
    } finally {
      await receiver.close()
    }
  }, 240_000)
})

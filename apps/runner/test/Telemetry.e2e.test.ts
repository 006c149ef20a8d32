/**
 * `telemetry.otlp`: a running `sluice` exports traces and metrics over OTLP/HTTP (JSON) to a local
 * receiver that decodes them. Each delivered event's trace — named by its `trace_id` — holds the
 * ingest of its payload, its relay attempt and the webhook request, parented as EventTrace.ts says,
 * and the receiver of the webhook is handed the request's span as `traceparent`.
 */
import { createServer, type IncomingHttpHeaders } from "node:http"
import type { AddressInfo } from "node:net"
import { EventTrace } from "@sluice/core"
import { afterAll, describe, expect, it } from "vitest"
import { counterPlugin, envRef, removeTempDirs, webhookSecret, writeConfig } from "./support/config.ts"
import { startReceiver } from "./support/receiver.ts"
import { envWithout, eventually, start } from "./support/sluice.ts"

afterAll(removeTempDirs)

interface OtlpSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly name: string
  readonly attributes: ReadonlyArray<{ readonly key: string; readonly value: Record<string, unknown> }>
}
interface Export {
  readonly path: string
  readonly headers: IncomingHttpHeaders
  readonly body: Record<string, unknown>
}

/** An OTLP/HTTP receiver on 127.0.0.1: every POST, its path, headers and decoded JSON body. */
const startCollector = async () => {
  const exports: Array<Export> = []
  const server = createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => {
      exports.push({
        path: req.url ?? "",
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>
      })
      res.writeHead(200, { "content-type": "application/json" }).end("{}")
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const spans = () =>
    exports
      .filter((e) => e.path === "/v1/traces")
      .flatMap((e) => e.body.resourceSpans as ReadonlyArray<{ scopeSpans: ReadonlyArray<{ spans: Array<OtlpSpan> }> }>)
      .flatMap((r) => r.scopeSpans.flatMap((s) => s.spans))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exports,
    spans,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

const attribute = (span: OtlpSpan, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value
  return value === undefined ? undefined : Object.values(value)[0]
}

describe("telemetry.otlp", () => {
  it("exports one trace per event: ingest, relay attempt and webhook request, continued by the receiver", async () => {
    const collector = await startCollector()
    const receiver = await startReceiver()
    const token = "otlp-secret-token-0123456789"
    try {
      const { file } = writeConfig({
        store: { driver: "memory" },
        sources: [{ name: "counter", plugin: counterPlugin, options: { total: 3, perTick: 3, prefix: "otel" } }],
        transports: [
          {
            name: "webhook",
            plugin: "@sluice/transport-http",
            options: { url: receiver.url, secrets: [envRef("E2E_WEBHOOK_SECRET")] }
          }
        ],
        routes: [{ name: "hooks", transport: "webhook", topic: "counter", match: ["counter.*"] }],
        admin: { enabled: false },
        logging: { format: "json" },
        telemetry: {
          otlp: {
            endpoint: collector.url,
            headers: { authorization: `Bearer ${envRef("OTLP_TOKEN")}` },
            exportInterval: "200 millis"
          }
        }
      })
      const sluice = start(["run", "--config", file], {
        env: envWithout({ E2E_WEBHOOK_SECRET: webhookSecret, OTLP_TOKEN: token })
      })
      await eventually("3 events delivered", () => receiver.acknowledged.size >= 3, 60_000)
      sluice.child.kill("SIGTERM")
      expect((await sluice.exited).code).toBe(0)

      const exports = collector.exports
      expect(exports.length).toBeGreaterThan(0)
      for (const e of exports) expect(e.headers.authorization).toBe(`Bearer ${token}`)
      expect(sluice.stderr.join("\n")).not.toContain(token)

      const spans = collector.spans()
      for (const delivery of receiver.received) {
        const event = JSON.parse(delivery.body) as { event_id: string; trace_id: string }
        const trace = spans.filter((s) => s.traceId === event.trace_id)
        const root = EventTrace.rootSpanId(event.trace_id)
        const ingest = trace.find((s) => s.name === "sluice.ingest.payload")
        expect(ingest?.parentSpanId, "the ingest of the event's payload").toBe(root)
        const attempt = trace.find(
          (s) => s.name === "sluice.relay.attempt" && attribute(s, "sluice.event_id") === event.event_id
        )
        expect(attempt?.parentSpanId, "the relay attempt").toBe(root)
        expect(attribute(attempt!, "sluice.outcome")).toBe("Delivered")
        const request = trace.find((s) => s.name === "sluice.transport.http.send" && s.parentSpanId === attempt!.spanId)
        expect(request, "the webhook request, a child of the attempt").toBeDefined()
        expect(delivery.traceparent).toBe(`00-${event.trace_id}-${request!.spanId}-01`)
      }

      const metrics = exports.filter((e) => e.path === "/v1/metrics").map((e) => JSON.stringify(e.body))
      expect(metrics.some((m) => m.includes("sluice_delivered_total") && m.includes('"stringValue":"sluice"'))).toBe(
        true
      )
    } finally {
      await receiver.close()
      await collector.close()
    }
  }, 120_000)

  it("refuses an endpoint that is not an http(s) URL, naming the field", async () => {
    const { file } = writeConfig({
      store: { driver: "memory" },
      admin: { enabled: false },
      telemetry: { otlp: { endpoint: "grpc://collector:4317" } }
    })
    const sluice = start(["run", "--config", file], { env: envWithout() })
    const exit = await sluice.exited
    expect(exit.code).toBe(2)
    const stderr = sluice.stderr.join("\n")
    expect(stderr).toContain("expected an http(s) URL, got grpc:")
    expect(stderr).toContain('at ["telemetry"]["otlp"]["endpoint"]')
  }, 60_000)
})

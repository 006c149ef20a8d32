/**
 * A push ingest server for the push rows (push.ts), run as a child process so that the load
 * generator does not share its event loop: PUSH_SIDE=sluice serves `@sluice/source-http`'s handler
 * over the PostgreSQL store through a node:http adapter (the runner's NodeWebServer, reduced);
 * PUSH_SIDE=raw is the reference, a plain node:http server verifying the Standard Webhooks signature
 * with node:crypto and writing raw payload + event + outbox rows with the store's one-statement
 * append, straight through postgres.js. PUSH_SCHEMA names the migrated schema, PUSH_SIGNED=1 turns
 * signatures on. Run by `deno run -A`, the Sluice side serves with `Deno.serve` instead. Prints `PORT <n>` once listening on 127.0.0.1.
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from "node:crypto"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import type { EventId, RawPayloadId, TraceId } from "@sluice/core"
import { ContentHash, makeRouterUnsafe } from "@sluice/core"
import { makePushHandler } from "@sluice/source-http"
import { DateTime, Effect, Layer, type Schema } from "effect"
import { PgEventStore } from "../src/index.ts"
import { databaseUrl, rawPg } from "./harness.ts"
import * as Raw from "./rawSql.ts"

export const pushSecret = `whsec_${Buffer.from("sluice-bench-push-key-0123456789ab").toString("base64")}`
export const pushPath = "/push"
export const pushSource = "bench-push"
const key = Buffer.from(pushSecret.slice("whsec_".length), "base64")
// The store's default pool (PostgresJs: 10) on both sides.
const poolSize = 10

const listen = (handle: (incoming: IncomingMessage, outgoing: ServerResponse) => void) => {
  const server = createServer({ keepAlive: true }, handle)
  server.listen({ host: "127.0.0.1", port: 0 }, () => console.log(`PORT ${(server.address() as AddressInfo).port}`))
}

const json = (outgoing: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body)
  outgoing.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
  outgoing.end(text)
}

const trace = "4bf92f3577b34da6a3ce929d0e0e4736" as TraceId

const nodeContentHash = (text: string) => createHash("sha256").update(text, "utf8").digest("hex")

/** The reference: read, verify, parse, one INSERT ... INSERT ... INSERT statement, answer. */
const raw = (schema: string, signed: boolean) => {
  const { query } = rawPg(schema, poolSize)
  listen((incoming, outgoing) => {
    const chunks: Array<Buffer> = []
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk))
    incoming.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8")
      const id = String(incoming.headers["webhook-id"] ?? "")
      const timestamp = String(incoming.headers["webhook-timestamp"] ?? "")
      if (signed) {
        const expected = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest()
        const given = String(incoming.headers["webhook-signature"] ?? "")
          .split(" ")
          .map((s) => Buffer.from(s.slice(3), "base64"))
        const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) <= 300
        if (!fresh || !given.some((g) => g.length === expected.length && timingSafeEqual(g, expected)))
          return json(outgoing, 401, { error: "unauthorized" })
      }
      let draft: Record<string, unknown>
      try {
        draft = JSON.parse(body) as Record<string, unknown>
      } catch {
        return json(outgoing, 400, { error: "bad_json" })
      }
      const now = DateTime.makeUnsafe(Date.now())
      const rawId = randomUUID() as RawPayloadId
      const eventId = randomUUID() as EventId
      Raw.append(query, {
        raw: {
          raw_id: rawId,
          source: pushSource,
          content_type: "application/json",
          body,
          request: { delivery_id: id, headers: { "webhook-id": id, "webhook-timestamp": timestamp } },
          received_at: now,
          trace_id: trace,
          content_hash: createHash("sha256").update(body).digest("hex"),
          transform_error: null
        },
        events: [
          {
            event_id: eventId,
            event_type: String(draft.event_type),
            entity_type: String(draft.entity_type),
            entity_id: String(draft.entity_id),
            trace_id: trace,
            schema_version: 1,
            occurred_at: now,
            payload: draft.payload as Schema.Json
          }
        ],
        outbox: [{ event_id: eventId, route: "bench", topic: "quotes", ordering_key: null }]
      }).then(
        () => json(outgoing, 200, { raw_id: rawId, event_ids: [eventId] }),
        () => json(outgoing, 503, { error: "unavailable" })
      )
    })
  })
}

/** The runner's NodeWebServer adapter (its `bodyOf` and `toWebRequest`), reduced to what one handler needs. */
const bodyOf = (incoming: IncomingMessage): ReadableStream<Uint8Array> => {
  let open = true
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        incoming.on("data", (chunk: Buffer) => {
          if (!open) return
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
          if ((controller.desiredSize ?? 1) <= 0) incoming.pause()
        })
        incoming.once("end", () => {
          if (open) controller.close()
          open = false
        })
        incoming.once("error", (error) => {
          if (open) controller.error(error)
          open = false
        })
      },
      pull() {
        incoming.resume()
      },
      // The rest is read and dropped: a socket closed with unread bytes is reset, and the client
      // would see the reset instead of the answer (413, sent with Connection: close).
      cancel() {
        open = false
        incoming.resume()
      }
    },
    { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength }
  )
}

const toWebRequest = (incoming: IncomingMessage): Request => {
  const headers = new Headers()
  const rawHeaders = incoming.rawHeaders
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) headers.append(rawHeaders[i]!, rawHeaders[i + 1]!)
  return new Request(`http://server${incoming.url ?? "/"}`, {
    method: incoming.method ?? "GET",
    headers,
    body: bodyOf(incoming),
    duplex: "half"
  } as RequestInit)
}

/** The part of Deno's API used here (the bench type-checks against Node's types). */
interface DenoServe {
  readonly serve: (
    options: { hostname: string; port: number; onListen: (address: { port: number }) => void },
    handler: (request: Request) => Promise<Response>
  ) => unknown
}

const sluice = (schema: string, signed: boolean) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const context = yield* Layer.build(PgEventStore.layer({ url: databaseUrl, schema, migrate: false, poolSize }))
        const handler = yield* makePushHandler({
          name: pushSource,
          router: makeRouterUnsafe([{ name: "bench", transport: "noop", topic: "quotes", match: ["**"] }]),
          config: {
            path: pushPath,
            auth: signed ? { type: "standard-webhooks", secrets: [pushSecret] } : { type: "none" }
          }
        }).pipe(
          Effect.provide(context),
          // As the runner does on Node and Deno (NodeContentHash.ts): node:crypto's digest.
          Effect.provideService(ContentHash, nodeContentHash)
        )
        // Under Deno (push.ts's "deno" side): Deno's own server, as a Deno program would serve it.
        const deno = (globalThis as { readonly Deno?: DenoServe }).Deno
        if (deno !== undefined) {
          deno.serve(
            { hostname: "127.0.0.1", port: 0, onListen: ({ port }) => console.log(`PORT ${port}`) },
            handler.fetch
          )
          return yield* Effect.never
        }
        listen((incoming, outgoing) => {
          handler
            .fetch(toWebRequest(incoming))
            .then(async (response) => {
              const body = Buffer.from(await response.arrayBuffer())
              outgoing.writeHead(response.status, Object.fromEntries(response.headers))
              outgoing.end(body)
            })
            .catch(() => json(outgoing, 500, { error: "internal" }))
        })
        return yield* Effect.never
      })
    )
  )

if (process.env.PUSH_SIDE !== undefined) {
  const schema = process.env.PUSH_SCHEMA!
  const signed = process.env.PUSH_SIGNED === "1"
  if (process.env.PUSH_SIDE === "raw") raw(schema, signed)
  else await sluice(schema, signed)
}

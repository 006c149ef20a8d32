/**
 * The admin API of the real `sluice run` process (memory store, admin on a free port, a token):
 * what a web page (DNS rebinding, cross-site POSTs), an oversized body or a malformed request
 * gets, and that a port already in use or an address that is not this machine's is reported
 * with the address and what to change.
 */
import { createServer, type Server } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { removeTempDirs, writeConfig } from "./support/config.ts"
import { send, sendUnfinished } from "./support/http.ts"
import { adminUrl, envWithout, runToEnd, type Sluice, start } from "./support/sluice.ts"

const token = "e2e-admin-token-0123456789"
const auth = { authorization: `Bearer ${token}` }
const json = { ...auth, "content-type": "application/json" }

let sluice: Sluice
let port = 0

beforeAll(async () => {
  const { file } = writeConfig({
    store: { driver: "memory" },
    admin: { port: 0, token, allowedHosts: ["sluice.internal"] },
    logging: { format: "json" }
  })
  sluice = start(["run", "--config", file], { env: envWithout() })
  port = Number(new URL(await adminUrl(sluice)).port)
}, 60_000)

afterAll(async () => {
  sluice.child.kill("SIGTERM")
  await sluice.exited
  removeTempDirs()
})

describe("the admin API refuses what a web page or a careless client sends", () => {
  it("answers only Host headers naming this server (DNS rebinding), /healthz included", async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, "sluice.internal"]) {
      expect((await send(port, { path: "/api/dead-letters", headers: { ...auth, host } })).status, host).toBe(200)
    }
    for (const host of [`evil.example:${port}`, "evil.example", `127.0.0.1:${port + 1}`]) {
      const answer = await send(port, { path: "/api/dead-letters", headers: { ...auth, host } })
      expect(answer.status, host).toBe(421)
      expect(answer.error).toContain("admin.allowedHosts")
      expect(answer.body).not.toContain("dead_letters")
      expect((await send(port, { path: "/healthz", headers: { host } })).status, host).toBe(421)
    }
  })

  it("refuses a cross-origin request (403) and a POST that is not JSON (415)", async () => {
    const replay = { method: "POST", path: "/api/dead-letters/replay", body: '{"all":true}' }
    const crossSite = await send(port, { ...replay, headers: { ...json, origin: "https://evil.example" } })
    expect(crossSite.status).toBe(403)
    expect(crossSite.error).toContain("cross-origin")
    const textPlain = await send(port, { ...replay, headers: { ...auth, "content-type": "text/plain" } })
    expect(textPlain.status).toBe(415)
    expect(textPlain.error).toBe("content-type must be application/json")
    expect((await send(port, { ...replay, headers: auth })).status).toBe(415)
    const sameOrigin = await send(port, { ...replay, headers: { ...json, origin: `http://127.0.0.1:${port}` } })
    expect(sameOrigin.status).toBe(200)
    expect(JSON.parse(sameOrigin.body)).toEqual({ replayed: 0, not_dead_letters: [] })
    const purge = { method: "POST", path: "/api/dead-letters/purge", body: '{"confirm":true}' }
    expect((await send(port, { ...purge, headers: { ...auth, "content-type": "text/plain" } })).status).toBe(415)
    expect((await send(port, { ...purge, headers: json })).status).toBe(200)
  })

  it("answers a body over 64 KiB with 413 at once, without reading it (declared or streamed)", async () => {
    const path = "/api/dead-letters/replay"
    // 300 MB announced, 1 KiB sent: refused on the announced length alone, before reading.
    const declared = await sendUnfinished(port, {
      path,
      headers: { ...json, "content-length": String(300 * 1024 * 1024) },
      bytes: 1024
    })
    expect(declared).toBe(413)
    // Chunked, no length: 128 KiB sent and the body never ends.
    const streamed = await sendUnfinished(port, {
      path,
      headers: { ...json, "transfer-encoding": "chunked" },
      bytes: 128 * 1024
    })
    expect(streamed).toBe(413)
    // The server still answers.
    expect((await send(port, { path: "/healthz" })).status).toBe(200)
  }, 30_000)

  it("names the parameter or field of a bad request (400), and says what is allowed (404, 405)", async () => {
    for (const [query, name] of [
      ["limit=abc", "limit"],
      ["limit=-1", "limit"],
      ["limit=0", "limit"],
      ["limit=1001", "limit"],
      ["after=xyz", "after"],
      ["lmit=5", '"lmit"']
    ] as const) {
      const answer = await send(port, { path: `/api/dead-letters?${query}`, headers: auth })
      expect(answer.status, query).toBe(400)
      expect(answer.error, query).toContain(name)
    }
    expect((await send(port, { path: "/api/status?sample_ms=soon", headers: auth })).error).toContain("sample_ms")
    const post = (body: string) => send(port, { method: "POST", path: "/api/dead-letters/replay", headers: json, body })
    const malformed = await post("{not json")
    expect(malformed.status).toBe(400)
    expect(malformed.error).toMatch(/^request body is not valid JSON: /)
    const unknown = await post('{"idz":["1"]}')
    expect(unknown.status).toBe(400)
    expect(unknown.error).toContain('["idz"]')
    const wrongType = await post('{"ids":[1]}')
    expect(wrongType.status).toBe(400)
    expect(wrongType.error).toContain('["ids"][0]')

    const get = await send(port, { method: "GET", path: "/api/dead-letters/replay", headers: auth })
    expect(get.status).toBe(405)
    expect(get.headers.allow).toBe("POST")
    const del = await send(port, { method: "DELETE", path: "/api/dead-letters", headers: auth })
    expect(del.status).toBe(405)
    expect(del.headers.allow).toBe("GET")
    const missing = await send(port, { path: "/api/nope", headers: auth })
    expect(missing.status).toBe(404)
    expect(missing.error).toContain("/api/nope")
  })

  it("takes the bearer scheme in any case, and refuses a wrong token", async () => {
    expect((await send(port, { path: "/readyz", headers: { authorization: `bearer ${token}` } })).status).toBe(200)
    expect((await send(port, { path: "/readyz", headers: { authorization: `BEARER ${token}` } })).status).toBe(200)
    expect((await send(port, { path: "/readyz", headers: { authorization: "Bearer wrong" } })).status).toBe(401)
    expect((await send(port, { path: "/readyz" })).status).toBe(401)
  })
})

describe("the admin server cannot listen", () => {
  let occupied: Server
  let taken = 0
  beforeAll(async () => {
    occupied = createServer()
    await new Promise<void>((resolve) => occupied.listen(0, "127.0.0.1", resolve))
    taken = (occupied.address() as { port: number }).port
  })
  afterAll(() => new Promise<void>((resolve) => occupied.close(() => resolve())))

  it("a port in use exits 1 naming the address and what to change", async () => {
    const { file } = writeConfig({ store: { driver: "memory" }, admin: { port: taken } })
    const run = await runToEnd(["run", "--config", file], { env: envWithout() })
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(`error: admin server: 127.0.0.1:${taken} is already in use`)
    expect(run.stderr).toContain("admin.port")
    expect(run.stderr).toContain("admin.enabled: false")
  }, 60_000)

  it("an address that is not this machine's, or a name that does not resolve, exits 1 saying so", async () => {
    const { file } = writeConfig({ store: { driver: "memory" }, admin: { host: "192.0.2.1", port: 0, token } })
    const run = await runToEnd(["run", "--config", file], { env: envWithout() })
    expect(run.code).toBe(1)
    expect(run.stderr).toContain("error: admin server: 192.0.2.1:0 is not an address of this machine")
    const unknown = writeConfig({
      store: { driver: "memory" },
      admin: { host: "no-such-host.invalid", port: 0, token }
    })
    const named = await runToEnd(["run", "--config", unknown.file], { env: envWithout() })
    expect(named.code).toBe(1)
    expect(named.stderr).toContain("error: admin server: cannot resolve the host of no-such-host.invalid:0")
  }, 60_000)
})

/**
 * The dashboard end to end, in headless Chromium (Debian's `chromium`, driven by playwright-core):
 * a real `sluice run` (memory store, a token) whose webhook receiver first answers 410 makes two
 * dead letters; the page asks for the token, lists them with their event and raw payload, replays
 * one once the receiver answers 200 (the receiver gets it), and purges the other after its
 * confirmation step; and the pause controls against answers the browser makes up (the pause
 * endpoints may not exist on this server). DASHBOARD_SCREENSHOT=<file.png> saves the page as the
 * README shows it.
 */
import { existsSync } from "node:fs"
import { type Browser, chromium, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { counterPlugin, envRef, removeTempDirs, webhookSecret, writeConfig } from "./support/config.ts"
import { type Receiver, startReceiver } from "./support/receiver.ts"
import { adminUrl, envWithout, eventually, type Sluice, start } from "./support/sluice.ts"

const token = "e2e-dashboard-token-0123456789"
/** Where Chromium is looked for: CHROMIUM_PATH, then Debian's and others' usual paths. */
const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"]
/** Generous: a page action on a busy 2-core machine can take seconds. */
const patience = 60_000

let sluice: Sluice
let receiver: Receiver
let browser: Browser
let url = ""
let answer = 410

beforeAll(async () => {
  const executablePath = candidates.find((path) => path !== undefined && path !== "" && existsSync(path))
  if (executablePath === undefined) {
    throw new Error(
      `the dashboard test needs Chromium and found none (looked at ${candidates.filter(Boolean).join(", ")}): ` +
        "install Debian's chromium package (bin/setup does it as root with apt-get) or set CHROMIUM_PATH"
    )
  }
  // As root (CI containers) Chromium refuses to start with its sandbox.
  browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-dev-shm-usage"] })
  receiver = await startReceiver({ status: () => answer })
  const { file } = writeConfig({
    store: { driver: "memory" },
    sources: [
      {
        name: "counter",
        plugin: counterPlugin,
        options: { total: 2, perTick: 2, prefix: "dashboard" },
        schedule: { every: "1 second" }
      }
    ],
    transports: [
      {
        name: "webhook",
        plugin: "@sluice/transport-http",
        options: { url: receiver.url, secrets: [envRef("E2E_WEBHOOK_SECRET")], timeoutMs: 5000 }
      }
    ],
    routes: [{ name: "hooks", transport: "webhook", topic: "counter", match: ["counter.*"] }],
    relay: { pollInterval: "200 millis", retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 500 } },
    admin: { port: 0, token },
    logging: { format: "json" }
  })
  sluice = start(["run", "--config", file], { env: envWithout({ E2E_WEBHOOK_SECRET: webhookSecret }) })
  url = await adminUrl(sluice)
}, 120_000)

afterAll(async () => {
  await browser?.close()
  sluice?.child.kill("SIGTERM")
  await sluice?.exited
  await receiver?.close()
  removeTempDirs()
})

/** Waits until `selector` matches `count` elements in the page (the page polls every 5 s). */
const countIs = (page: Page, selector: string, count: number) =>
  eventually(`${count} of ${selector}`, async () => (await page.locator(selector).count()) === count, patience)

describe("the dashboard", () => {
  it("shows the dead letters with their event, replays one (delivered) and purges one after confirming", async () => {
    // The 410s: both events are dead letters (permanent failures are not retried).
    await eventually("two webhook deliveries answered 410", () => receiver.received.length >= 2, patience)
    const ids = [...new Set(receiver.received.map((d) => d.id))]
    expect(ids).toHaveLength(2)

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    const problems: Array<string> = []
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`))
    // A CSP violation shows up as a console error; the 401 before the token is entered and the
    // probe of the pause endpoints (404 on a server without them) are expected.
    page.on("console", (message) => {
      const expected = /\b401\b/.test(message.text()) || /\/api\/routes$/.test(message.location().url)
      if (message.type() === "error" && !expected) problems.push(`${message.text()} (${message.location().url})`)
    })
    await page.goto(`${url}/`)

    // Without a token the page shows nothing but the token form.
    await page.locator("#token-panel").waitFor({ state: "visible", timeout: patience })
    expect(await page.locator("tr[data-outbox-id]").count()).toBe(0)
    await page.locator("#token-input").fill(token)
    await page.locator("#token-form button[type=submit]").click()
    await page.locator("#token-panel").waitFor({ state: "hidden", timeout: patience })
    expect(page.url()).not.toContain(token)
    expect(await page.evaluate(() => sessionStorage.getItem("sluice-admin-token"))).toBe(token)

    for (const id of ids) {
      await page.locator(`tr[data-event-id="${id}"]`).waitFor({ timeout: patience })
    }
    const [first, second] = ids as [string, string]
    const firstRow = page.locator(`tr[data-event-id="${first}"]`)
    expect(await firstRow.textContent()).toContain("HTTP 410")

    // Its event and the raw payload it came from.
    await firstRow.getByRole("button", { name: "Show" }).click()
    const event = page.locator(`pre[data-event="${first}"]`)
    await event.waitFor({ timeout: patience })
    expect(JSON.parse((await event.textContent()) ?? "{}").event.event_type).toBe("counter.ticked")
    const raw = page.locator("pre[data-raw]")
    await raw.waitFor({ timeout: patience })
    expect(JSON.parse((await raw.textContent()) ?? "{}")).toEqual({ from: 0, to: 2 })

    // The source ticked, and the route is listed with its dead letters.
    const outcome = page.locator('tr[data-source="counter"] td').nth(2)
    await eventually("the source's last tick ok", async () => (await outcome.textContent()) === "ok", patience)
    const routeRow = page.locator('#routes tr[data-route="hooks"]')
    expect(await routeRow.locator("td").nth(3).textContent()).toBe("2")
    // Pause controls only where the server has the routes endpoint.
    const routesEndpoint = await fetch(`${url}/api/routes`, { headers: { authorization: `Bearer ${token}` } })
    expect(await page.locator("th.pause-column").isVisible()).toBe(routesEndpoint.status !== 404)

    if (process.env.DASHBOARD_SCREENSHOT)
      await page.screenshot({ path: process.env.DASHBOARD_SCREENSHOT, fullPage: true })

    // Replay the first once the receiver accepts: it is delivered and leaves the list.
    answer = 200
    await firstRow.getByRole("button", { name: "Replay" }).click()
    await eventually("the replayed event delivered", () => receiver.acknowledged.has(first), patience)
    await countIs(page, "tr[data-outbox-id]", 1)
    await page.locator(`tr[data-event-id="${second}"]`).waitFor({ timeout: patience })

    // Purge asks first; cancelling keeps the dead letter.
    const actions = page.locator('[data-route-actions="hooks"]')
    await actions.getByRole("button", { name: "Purge…" }).click()
    const confirm = page.locator('[data-confirm-purge="hooks"]')
    await confirm.waitFor({ timeout: patience })
    await confirm.getByRole("button", { name: "Cancel" }).click()
    await confirm.waitFor({ state: "detached", timeout: patience })
    expect(await page.locator(`tr[data-event-id="${second}"]`).count()).toBe(1)
    await actions.getByRole("button", { name: "Purge…" }).click()
    await confirm.getByRole("button", { name: "Confirm purge" }).click()
    await countIs(page, "tr[data-outbox-id]", 0)
    await page.locator("#dead-letters-empty").waitFor({ state: "visible", timeout: patience })
    expect(await page.locator("#message").textContent()).toContain("1 purged")
    // Purged, not delivered.
    expect(receiver.acknowledged.has(second)).toBe(false)
    expect(problems).toEqual([])
    await page.close()
  }, 240_000)

  it("shows paused routes with Resume, and Pause on running ones, where the server has /api/routes", async () => {
    // The page's side of the pause endpoints, whatever this server has: the browser answers them.
    const page = await browser.newPage()
    const posted: Array<Record<string, string | null | undefined>> = []
    let paused = true
    await page.route("**/api/routes", (route) =>
      route.fulfill({
        json: [
          {
            route: "hooks",
            paused,
            paused_at: paused ? new Date().toISOString() : null,
            reason: paused ? "receiver down" : null,
            rate_limit_per_s: null
          },
          { route: "other", paused: false, paused_at: null, reason: null, rate_limit_per_s: 50 }
        ]
      })
    )
    await page.route("**/api/routes/*/*", (route) => {
      const request = route.request()
      const headers = request.headers()
      posted.push({
        path: new URL(request.url()).pathname,
        authorization: headers.authorization,
        type: headers["content-type"],
        body: request.postData()
      })
      if (request.url().endsWith("/hooks/resume")) paused = false
      return route.fulfill({ json: { route: "hooks", paused: false, changed: true } })
    })
    await page.goto(`${url}/`)
    await page.locator("#token-input").fill(token)
    await page.locator("#token-form button[type=submit]").click()
    const hooks = page.locator('#routes tr[data-route="hooks"]')
    await hooks.getByRole("button", { name: "Resume" }).waitFor({ timeout: patience })
    expect(await hooks.textContent()).toContain("receiver down")
    expect(await page.locator("th.pause-column").isVisible()).toBe(true)
    const other = page.locator('#routes tr[data-route="other"]')
    expect(await other.textContent()).toContain("≤ 50/s")
    await hooks.getByRole("button", { name: "Resume" }).click()
    await hooks.getByRole("button", { name: "Pause" }).waitFor({ timeout: patience })
    await other.getByRole("button", { name: "Pause" }).click()
    await eventually("the pause request", () => posted.length === 2, patience)
    const sent = { authorization: `Bearer ${token}`, type: "application/json" }
    expect(posted).toEqual([
      { path: "/api/routes/hooks/resume", ...sent, body: "{}" },
      { path: "/api/routes/other/pause", ...sent, body: '{"reason":"paused from the dashboard"}' }
    ])
    await page.close()
  }, 120_000)
})

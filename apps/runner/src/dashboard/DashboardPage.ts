/**
 * The dashboard page: `GET /` (index.html, its CSS inline) and `GET /dashboard.js` (its script),
 * served without the token since they hold no data: the script asks the API for everything, with
 * the token the operator enters. Served with a Content-Security-Policy that allows only this origin's
 * script, the page's own inline style (by hash) and requests to this origin, and that no page may
 * frame it (it has replay and purge buttons: clickjacking).
 */
import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { HttpServerResponse } from "effect/http"
import type { Endpoint } from "../AdminEndpoint.ts"
import { runnerRoot } from "../PluginManifest.ts"

interface Assets {
  readonly html: string
  readonly script: string
  readonly csp: string
}

// Read from the runner's folder (also shipped in the published package: package.json `files`).
const load = (): Assets => {
  const dir = join(runnerRoot(), "src", "dashboard")
  const html = readFileSync(join(dir, "index.html"), "utf8")
  const script = readFileSync(join(dir, "dashboard.js"), "utf8")
  const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map(
    (match) => `'sha256-${createHash("sha256").update(match[1]!).digest("base64")}'`
  )
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    `style-src ${styles.join(" ") || "'none'"}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'"
  ].join("; ")
  return { html, script, csp }
}

let assets: Assets | undefined
const loaded = () => (assets ??= load())

/** Headers of every dashboard file. */
const common = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store"
}

/** `GET /` and `GET /dashboard.js`. */
export const endpoints: ReadonlyArray<Endpoint> = [
  {
    path: /^\/$/,
    open: true,
    methods: {
      GET: () =>
        Effect.sync(() => {
          const { html, csp } = loaded()
          return HttpServerResponse.text(html, {
            contentType: "text/html; charset=utf-8",
            headers: { ...common, "content-security-policy": csp, "cross-origin-opener-policy": "same-origin" }
          })
        })
    }
  },
  {
    path: /^\/dashboard\.js$/,
    open: true,
    methods: {
      GET: () =>
        Effect.sync(() =>
          HttpServerResponse.text(loaded().script, { contentType: "text/javascript; charset=utf-8", headers: common })
        )
    }
  }
]

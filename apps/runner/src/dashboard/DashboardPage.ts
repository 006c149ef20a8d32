/**
 * The dashboard page: `GET /` (index.html, its CSS inline) and `GET /<name>.js` (its script,
 * dashboard.js, and the modules it imports: every .js file beside it), served without the token
 * since they hold no data: the script asks the API for everything, with the token the operator
 * enters. Served with a Content-Security-Policy that allows only this origin's scripts, the page's
 * own inline style (by hash) and requests to this origin, and that no page may frame it (it has
 * replay and purge buttons: clickjacking).
 */
import { createHash } from "node:crypto"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { HttpServerResponse } from "effect/http"
import type { Endpoint } from "../AdminEndpoint.ts"
import * as Guards from "../AdminGuards.ts"
import { runnerRoot } from "../PluginManifest.ts"

interface Assets {
  readonly html: string
  /** The scripts by file name. */
  readonly scripts: ReadonlyMap<string, string>
  readonly csp: string
}

// Read from the runner's folder (also shipped in the published package: package.json `files`).
const load = (): Assets => {
  const dir = join(runnerRoot(), "src", "dashboard")
  const html = readFileSync(join(dir, "index.html"), "utf8")
  const scripts = new Map(
    readdirSync(dir)
      .filter((name) => name.endsWith(".js"))
      .map((name) => [name, readFileSync(join(dir, name), "utf8")] as const)
  )
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
  return { html, scripts, csp }
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

/** `GET /` and `GET /<name>.js`. */
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
    path: /^\/([a-z]+\.js)$/,
    open: true,
    methods: {
      GET: (_, [name = ""]) =>
        Effect.suspend(() => {
          const script = loaded().scripts.get(name)
          return script === undefined
            ? Effect.fail(Guards.error(404, `no such script: /${name}`))
            : Effect.succeed(
                HttpServerResponse.text(script, { contentType: "text/javascript; charset=utf-8", headers: common })
              )
        })
    }
  }
]

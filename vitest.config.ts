import { defineConfig } from "vitest/config"

const packages = ["core", "store-postgres", "plugin-yfinance", "transport-http", "transport-console"]

/**
 * Projects whose tests talk to a database, a server or a child process. Vitest's 5 s default is
 * for code that only computes: on a busy 2-core machine a fresh schema's migrations, a PGlite
 * statement or a spawned process can take seconds. A hang still fails, later. Shared resources start
 * in `beforeAll` with their own timeout (e.g. store-postgres/test/utils.ts `sharedPglite`).
 */
const io = new Set(["store-postgres", "transport-http", "runner", "examples"])
const timeouts = (name: string) => (io.has(name) ? { testTimeout: 30_000, hookTimeout: 60_000 } : {})

// One project per package so a runtime can run a subset (`--project core` under Deno).
export default defineConfig({
  test: {
    passWithNoTests: true,
    projects: [
      ...packages.map((name) => ({
        test: { name, root: `packages/${name}`, include: ["test/**/*.test.ts"], ...timeouts(name) }
      })),
      { test: { name: "runner", root: "apps/runner", include: ["test/**/*.test.ts"], ...timeouts("runner") } },
      { test: { name: "examples", root: "examples", include: ["*.test.ts"], ...timeouts("examples") } },
      { test: { name: "repo", root: "scripts", include: ["*.test.ts"] } }
    ]
  }
})

import { availableParallelism } from "node:os"
import { defineConfig } from "vitest/config"

const packages = [
  "core",
  "store-postgres",
  "plugin-yfinance",
  "transport-http",
  "transport-console",
  "source-nats",
  "source-http",
  "transport-nats"
]

/**
 * Projects whose tests talk to a database, a server or a child process. Vitest's 5 s default is
 * for code that only computes: on a busy 2-core machine a fresh schema's migrations, a PGlite
 * statement or a spawned process can take seconds. A hang still fails, later. Shared resources start
 * in `beforeAll` with their own timeout (e.g. store-postgres/test/utils.ts `sharedPglite`).
 */
const io = new Set([
  "store-postgres",
  "runtime-node",
  "transport-http",
  "source-nats",
  "transport-nats",
  "runner",
  "examples",
  "repo"
])
// The others only compute, but share the machine with several test files at once (see `workers`):
// a property test that takes 2 s alone may take 10 on a busy machine.
const timeouts = (name: string) =>
  io.has(name) ? { testTimeout: 30_000, hookTimeout: 60_000 } : { testTimeout: 20_000, hookTimeout: 30_000 }

/**
 * Test files run at once. Most of a file's time is waiting (for a spawned `sluice`, for PostgreSQL,
 * for a deadline poll), not computing, so more files than cores: Vitest's default (cores - 1) runs
 * the whole suite one file at a time on 2 cores. Capped, as each file may hold a few PostgreSQL
 * connections (the server's default max_connections is 100). SLUICE_TEST_WORKERS overrides it.
 */
const workers = Number(process.env.SLUICE_TEST_WORKERS ?? Math.min(Math.max(2 * availableParallelism(), 4), 8))

// One project per package so a runtime can run a subset (`--project core` under Deno).
export default defineConfig({
  test: {
    passWithNoTests: true,
    maxWorkers: workers,
    projects: [
      ...packages.map((name) => ({
        test: { name, root: `packages/${name}`, include: ["test/**/*.test.ts"], ...timeouts(name) }
      })),
      { test: { name: "runner", root: "apps/runner", include: ["test/**/*.test.ts"], ...timeouts("runner") } },
      { test: { name: "examples", root: "examples", include: ["*.test.ts"], ...timeouts("examples") } },
      { test: { name: "repo", root: "scripts", include: ["*.test.ts"], ...timeouts("repo") } },
      // runtime-tests/deno has its own config, run under Deno (runtime-tests/README.md).
      {
        test: { name: "runtime-node", root: "runtime-tests", include: ["node/*.test.ts"], ...timeouts("runtime-node") }
      }
    ]
  }
})

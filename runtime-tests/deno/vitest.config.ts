/**
 * The runtime tests under Deno: `deno run -A node_modules/vitest/vitest.mjs run --config
 * runtime-tests/deno/vitest.config.ts`. The store's contract suites run from store-postgres's own
 * test files (not copies), the push end to end from runtime-tests.
 */
import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: [
      "packages/store-postgres/test/PgliteEventStore.integration.test.ts",
      "packages/store-postgres/test/PgliteSubscriptionStore.integration.test.ts",
      "packages/store-postgres/test/PgEventStore.integration.test.ts",
      "packages/store-postgres/test/PgSubscriptionStore.integration.test.ts",
      "runtime-tests/deno/*.test.ts"
    ],
    // A database, a server, PGlite's start: seconds each on a busy machine (see the root config).
    testTimeout: 30_000,
    hookTimeout: 120_000,
    maxWorkers: Number(process.env.SLUICE_TEST_WORKERS ?? 2)
  }
})

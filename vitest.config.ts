import { existsSync, readdirSync } from "node:fs"
import { availableParallelism } from "node:os"
import { fileURLToPath } from "node:url"
import { configDefaults, defineConfig } from "vitest/config"

const root = fileURLToPath(new URL(".", import.meta.url))

/**
 * Test tiers, by the file name's suffix: `*.test.ts` unit (in-process and in memory: no database
 * engine, server or child process), `*.integration.test.ts` (PostgreSQL, PGlite, NATS, local HTTP
 * servers, child processes other than `sluice`), `*.e2e.test.ts` (spawned `sluice` processes, packed
 * packages), `*.chaos.test.ts` (kills and crashes, seconds each). SLUICE_TEST_TIER=unit,integration
 * runs those tiers only (`pnpm test:unit` sets it); unset, all of them.
 */
const tiers = ["unit", "integration", "e2e", "chaos"] as const
const selected = (process.env.SLUICE_TEST_TIER ?? tiers.join(",")).split(",").map((tier) => tier.trim())
for (const tier of selected)
  if (!(tiers as ReadonlyArray<string>).includes(tier))
    throw new Error(`SLUICE_TEST_TIER: unknown tier "${tier}" (known: ${tiers.join(", ")})`)

/**
 * The unit tier alone (`pnpm test:unit`) reuses a worker's modules across its test files: most of a
 * unit file's time is importing Effect, so this halves the tier's time. The other tiers, and every
 * tier in `pnpm test`, run each file in a fresh module graph (isolated).
 */
const isolate = !(selected.length === 1 && selected[0] === "unit")

/** The include and exclude globs of the selected tiers, for test files matching `${dir}*.test.ts`. */
const files = (dir: string) => ({
  include: selected.map((tier) => (tier === "unit" ? `${dir}*.test.ts` : `${dir}*.${tier}.test.ts`)),
  exclude: [
    ...configDefaults.exclude,
    ...(selected.includes("unit") ? tiers.filter((tier) => tier !== "unit" && !selected.includes(tier)) : []).map(
      (tier) => `${dir}*.${tier}.test.ts`
    )
  ]
})

/** Every folder under `parent` (packages, apps) with a `test` folder: one project each, named after it. */
const withTests = (parent: string) =>
  readdirSync(`${root}/${parent}`, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(`${root}/${parent}/${entry.name}/test`))
    .map((entry) => ({ name: entry.name, root: `${parent}/${entry.name}`, dir: "test/**/" }))

/**
 * Projects Deno does not run from this config: the store and the runner need Node's own APIs in
 * their tests (runtime-tests/deno runs their Deno side), the repository checks spawn npm and pnpm.
 * Under Deno (`pnpm test:deno`) the config lists the other projects only.
 */
const nodeOnly = new Set(["store-postgres", "runner", "repo", "runtime-node"])
const onDeno = "Deno" in globalThis

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

const projects = [
  ...withTests("packages"),
  ...withTests("apps"),
  { name: "examples", root: "examples", dir: "" },
  { name: "repo", root: "scripts", dir: "" },
  // runtime-tests/deno has its own config, run under Deno (runtime-tests/README.md).
  { name: "runtime-node", root: "runtime-tests", dir: "node/" }
].filter((project) => !(onDeno && nodeOnly.has(project.name)))

// One project per package so a runtime can run a subset (`--project core`).
export default defineConfig({
  test: {
    passWithNoTests: true,
    maxWorkers: workers,
    projects: projects.map(({ name, root, dir }) => ({
      test: { name, root, isolate, ...files(dir), ...timeouts(name) }
    }))
  }
})

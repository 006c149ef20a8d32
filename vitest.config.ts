import { defineConfig } from "vitest/config"

const packages = ["core", "store-postgres", "plugin-yfinance", "transport-http", "transport-console"]

// One project per package so a runtime can run a subset (`--project core` under Deno).
export default defineConfig({
  test: {
    passWithNoTests: true,
    projects: [
      ...packages.map((name) => ({
        test: { name, root: `packages/${name}`, include: ["test/**/*.test.ts"] }
      })),
      { test: { name: "runner", root: "apps/runner", include: ["test/**/*.test.ts"] } },
      { test: { name: "examples", root: "examples", include: ["*.test.ts"] } },
      { test: { name: "repo", root: "scripts", include: ["*.test.ts"] } }
    ]
  }
})

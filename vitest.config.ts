import { defineConfig } from "vitest/config"

// One project per package so a runtime can run a subset (`--project core` under Deno).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "core",
          root: "packages/core",
          include: ["test/**/*.test.ts"]
        }
      }
    ]
  }
})

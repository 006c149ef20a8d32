/** The linked `sluice` bin of the workspace, as a contributor runs it. */
import { spawnSync } from "node:child_process"
import { join } from "node:path"
import { expect, it } from "@effect/vitest"

const root = join(import.meta.dirname, "..")

it("pnpm exec sluice runs the workspace's bin, with no pnpm lines around it", { timeout: 60_000 }, () => {
  const result = spawnSync("pnpm", ["exec", "sluice", "--help"], { cwd: root, encoding: "utf8", timeout: 50_000 })
  expect(result.stderr).not.toContain("not found")
  expect(result.status).toBe(0)
  expect(result.stdout).toContain("USAGE")
  expect(`${result.stdout}${result.stderr}`).not.toContain("ELIFECYCLE")
})

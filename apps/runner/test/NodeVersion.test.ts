/**
 * The Node version the bin refuses to start on: older than the package's `engines.node`, said with
 * both versions; Deno and Bun are not held to the Node version they emulate.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { describe, expect, it } from "vitest"
import { nodeVersionProblem, requiredNode } from "../src/NodeVersion.ts"

const engines = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).engines.node as string

describe("nodeVersionProblem", () => {
  it("refuses a Node older than the range, naming the running and the required version", () => {
    expect(nodeVersionProblem({ node: "20.20.2" }, ">=22.19.0")).toBe(
      "sluice needs Node.js >=22.19.0, and this is Node.js 20.20.2: install Node.js 22.19.0 or later (e.g. nvm install 22)"
    )
    for (const old of ["22.18.9", "22.9.0", "21.99.99", "18.0.0"]) {
      expect(nodeVersionProblem({ node: old }, ">=22.19.0"), old).toContain(`this is Node.js ${old}:`)
    }
  })

  it("accepts the minimum and anything newer, by number (22.100 is newer than 22.19)", () => {
    for (const ok of ["22.19.0", "22.19.1", "22.100.0", "23.0.0", "24.1.0", "100.0.0"]) {
      expect(nodeVersionProblem({ node: ok }, ">=22.19.0"), ok).toBeUndefined()
    }
  })

  it("does not hold Deno or Bun to the Node version they report", () => {
    expect(nodeVersionProblem({ node: "20.11.1", deno: "2.1.0" }, ">=22.19.0")).toBeUndefined()
    expect(nodeVersionProblem({ node: "18.0.0", bun: "1.2.0" }, ">=22.19.0")).toBeUndefined()
  })
})

describe("requiredNode", () => {
  it("is the runner's engines.node, read beside src/ in the repository", () => {
    expect(engines).toBe(">=22.19.0")
    expect(requiredNode(new URL("../src/main.ts", import.meta.url).href)).toBe(engines)
  })

  it("finds the package.json above dist/src/ once installed", () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-node-version-"))
    try {
      mkdirSync(join(dir, "dist", "src"), { recursive: true })
      writeFileSync(join(dir, "package.json"), JSON.stringify({ engines: { node: ">=99.0.0" } }))
      expect(requiredNode(pathToFileURL(join(dir, "dist", "src", "main.js")).href)).toBe(">=99.0.0")
    } finally {
      rmSync(dir, { recursive: true, force: true, maxRetries: 5 })
    }
  })
})

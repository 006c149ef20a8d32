#!/usr/bin/env node
/**
 * The `sluice` executable. Checks the Node.js version first (NodeVersion.ts), importing nothing
 * else until it passes: an older Node would fail while loading the dependencies, without saying
 * why. Then runs the CLI (Executable.ts).
 */
import { nodeVersionProblem, requiredNode } from "./NodeVersion.ts"

const problem = nodeVersionProblem(process.versions, requiredNode(import.meta.url))
if (problem === undefined) await import("./Executable.ts")
else {
  process.stderr.write(`error: ${problem}\n`)
  process.exitCode = 1
}

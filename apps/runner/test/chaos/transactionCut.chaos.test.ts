/**
 * A user transaction whose connection the server cuts mid-statement (what a PostgreSQL restart does
 * to every open transaction) must fail with a SqlError, never end the process. Runs the minimal
 * reproduction apps/runner/chaos/repro/transactionCrash.ts in a child process, since the bug kills
 * the process it happens in.
 */
import { execFile } from "node:child_process"
import { promisify } from "node:util"
import { expect, it } from "vitest"

const script = new URL("../../chaos/repro/transactionCrash.ts", import.meta.url).pathname

it("a user transaction cut by the server fails with a SqlError and the process survives", async () => {
  const run = await promisify(execFile)(process.execPath, [script], { timeout: 60_000 }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, out: `${e.stdout}${e.stderr}` })
  )
  expect(run.out).toContain("the transaction ended with Failure")
  expect(run.out).toContain("survived")
  expect(run.code).toBe(0)
}, 90_000)

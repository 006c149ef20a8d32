/**
 * The short version of a scenario, as the test suite runs it (seed 1), with the checks every
 * scenario shares: no violation, nothing lost, something committed. Tests add their own facts.
 */
import { expect } from "vitest"
import type { Scenario, ScenarioReport } from "./scenario.ts"

export const runShort = async (scenario: Scenario): Promise<ScenarioReport> => {
  const report = await scenario.run({ seed: 1, long: false })
  expect(report.violations).toEqual([])
  expect(report.counts.lost).toBe(0)
  expect(report.counts.committed).toBeGreaterThan(0)
  return report
}

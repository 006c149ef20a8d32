/**
 * The real `sluice run` builds core's Pipeline from the config: a source plugin that registers its
 * source under another name than its instance is refused at start, naming both, exit 1.
 */
import { afterAll, describe, expect, it } from "vitest"
import { removeTempDirs, writeConfig } from "./support/config.ts"
import { envWithout, runToEnd } from "./support/sluice.ts"

afterAll(removeTempDirs)

const misnamedPlugin = new URL("./fixtures/misnamed-source.ts", import.meta.url).pathname

describe("sluice run: the config becomes a Pipeline", () => {
  it("a source plugin whose source is not named after its instance fails start, exit 1", async () => {
    const { file } = writeConfig({
      store: { driver: "memory" },
      sources: [{ name: "prices", plugin: misnamedPlugin, options: {} }],
      admin: { enabled: false }
    })
    const run = await runToEnd(["run", "--config", file], { env: envWithout() })
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(
      'error: prices (plugin misnamed-source) could not start: the plugin registered no source named "prices" (registered: fixed-name)'
    )
  }, 60_000)
})

/**
 * Keeps docs/writing-a-plugin.md true: a block marked `<!-- scaffold KIND:PATH -->` must be exactly
 * the file PATH that `sluice new plugin` writes for `my-transport` or `my-source` (outside a
 * workspace), files that NewPlugin.e2e.test.ts builds, typechecks and tests (a JSON file the same
 * value: Biome lays out JSON in Markdown its way, npm writes package.json its way); a block marked
 * `<!-- config -->` must be a valid sluice config. (Blocks marked `<!-- region FILE#NAME -->` are
 * checked by examples/readme.test.ts.)
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { decodeConfig } from "../src/ConfigFile.ts"
import { createPlugin } from "../src/NewPlugin.ts"

const guideFile = join(import.meta.dirname, "../../../docs/writing-a-plugin.md")
const guide = readFileSync(guideFile, "utf8")
const scaffoldBlocks = [...guide.matchAll(/<!-- scaffold (source|transport):(\S+) -->\n```\w*\n([\s\S]*?)```/g)].map(
  ([, kind, path, text]) => ({ kind: kind as "source" | "transport", path: path!, text: text! })
)
const configBlocks = [...guide.matchAll(/<!-- config -->\n```json\n([\s\S]*?)```/g)].map(([, text]) => text!)

const dir = mkdtempSync(join(tmpdir(), "sluice-guide-"))
afterAll(() => rmSync(dir, { recursive: true, force: true, maxRetries: 5 }))

const generated = {
  transport: Effect.runSync(createPlugin({ name: "my-transport", kind: "transport", dir })),
  source: Effect.runSync(createPlugin({ name: "my-source", kind: "source", dir }))
}

describe("docs/writing-a-plugin.md", () => {
  it("shows every file of the transport but README.md and .gitignore, and the source's code", () => {
    const shown = (kind: string) => scaffoldBlocks.filter((b) => b.kind === kind).map((b) => b.path)
    expect(shown("transport").sort()).toEqual(
      generated.transport.files.map((f) => f.path).filter((path) => path !== "README.md" && path !== ".gitignore")
    )
    expect(shown("source")).toEqual(["src/MySource.ts", "test/MySource.test.ts"])
  })

  for (const block of scaffoldBlocks) {
    it(`its ${block.kind} ${block.path} is the generated file`, () => {
      const file = generated[block.kind].files.find((f) => f.path === block.path)
      if (block.path.endsWith(".json")) expect(JSON.parse(file?.text ?? "null")).toEqual(JSON.parse(block.text))
      else expect(file?.text).toBe(block.text)
    })
  }

  it.effect("its configs are valid sluice configs", () =>
    Effect.gen(function* () {
      expect(configBlocks.length).toBe(2)
      for (const block of configBlocks) yield* decodeConfig("guide", JSON.parse(block))
    })
  )
})

/**
 * Keeps the docs honest: every code block of the README and of docs/*.md marked
 * `<!-- region FILE#NAME -->` must be exactly the `// #region NAME` ... `// #endregion NAME` part of
 * FILE, which is compiled and tested.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"

const root = join(import.meta.dirname, "..")
const docs = ["README.md", ...readdirSync(join(root, "docs")).map((name) => `docs/${name}`)].filter((file) =>
  file.endsWith(".md")
)
const blocks = (doc: string) =>
  [...readFileSync(join(root, doc), "utf8").matchAll(/<!-- region ([^#\s]+)#(\S+) -->\n```ts\n([\s\S]*?)\n```/g)].map(
    ([, file, name, block]) => ({ doc, file: file!, name: name!, block: block! })
  )
const marked = docs.flatMap(blocks)

const region = (file: string, name: string): string => {
  const text = readFileSync(join(root, file), "utf8")
  const match = text.match(new RegExp(`// #region ${name}\\n([\\s\\S]*?)\\n// #endregion ${name}`))
  if (match?.[1] === undefined) throw new Error(`${file} has no region ${name}`)
  return match[1]
}

describe("code blocks of the README and docs/", () => {
  it("there are blocks to check, in the README and in the plugin guide", () => {
    expect(marked.filter((m) => m.doc === "README.md").length).toBeGreaterThanOrEqual(5)
    expect(marked.filter((m) => m.doc === "docs/writing-a-plugin.md").length).toBeGreaterThanOrEqual(1)
  })
  for (const { doc, file, name, block } of marked) {
    it(`${doc}: ${file}#${name} matches the tested source`, () => {
      expect(block).toBe(region(file, name))
    })
  }
})

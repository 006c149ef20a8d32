/**
 * Keeps the docs honest: every code block of the READMEs and of docs/*.md marked
 * `<!-- region FILE#NAME -->` must be exactly the `// #region NAME` ... `// #endregion NAME` part of
 * FILE (a path from the repository's root), which is compiled and tested.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"

const root = join(import.meta.dirname, "..")
/** Each checked document, with the fewest marked blocks it must hold (so a broken marker is noticed). */
const least: Record<string, number> = { "README.md": 5, "packages/core/README.md": 5, "docs/writing-a-plugin.md": 1 }
const docs = [
  ...new Set([
    ...Object.keys(least),
    ...readdirSync(join(root, "docs"))
      .filter((name) => name.endsWith(".md"))
      .map((name) => `docs/${name}`)
  ])
]
const blocks = (doc: string) =>
  [...readFileSync(join(root, doc), "utf8").matchAll(/<!-- region ([^#\s]+)#(\S+) -->\n```ts\n([\s\S]*?)\n```/g)].map(
    ([, file, name, block]) => ({ file: file!, name: name!, block: block! })
  )

const region = (file: string, name: string): string => {
  const text = readFileSync(join(root, file), "utf8")
  const match = text.match(new RegExp(`// #region ${name}\\n([\\s\\S]*?)\\n// #endregion ${name}`))
  if (match?.[1] === undefined) throw new Error(`${file} has no region ${name}`)
  return match[1]
}

for (const doc of docs) {
  describe(`${doc} code blocks`, () => {
    it("there are blocks to check", () => {
      expect(blocks(doc).length).toBeGreaterThanOrEqual(least[doc] ?? 0)
    })
    for (const { file, name, block } of blocks(doc)) {
      it(`${file}#${name} matches the tested source`, () => {
        expect(block).toBe(region(file, name))
      })
    }
  })
}

/**
 * Keeps the READMEs honest: every code block marked `<!-- region FILE#NAME -->` must be exactly the
 * `// #region NAME` ... `// #endregion NAME` part of FILE (a path from the repository's root), which
 * is compiled and tested.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"

const root = join(import.meta.dirname, "..")
const markedIn = (readme: string) => [
  ...readFileSync(join(root, readme), "utf8").matchAll(/<!-- region ([^#\s]+)#(\S+) -->\n```ts\n([\s\S]*?)\n```/g)
]
const readmes = { "README.md": 5, "packages/core/README.md": 3 }

const region = (file: string, name: string): string => {
  const text = readFileSync(join(root, file), "utf8")
  const match = text.match(new RegExp(`// #region ${name}\\n([\\s\\S]*?)\\n// #endregion ${name}`))
  if (match?.[1] === undefined) throw new Error(`${file} has no region ${name}`)
  return match[1]
}

for (const [readme, least] of Object.entries(readmes)) {
  describe(`${readme} code blocks`, () => {
    it("there are blocks to check", () => {
      expect(markedIn(readme).length).toBeGreaterThanOrEqual(least)
    })
    for (const [, file, name, block] of markedIn(readme)) {
      it(`${file}#${name} matches the tested source`, () => {
        expect(block).toBe(region(file!, name!))
      })
    }
  })
}

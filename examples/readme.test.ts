/**
 * Keeps the README honest: every code block marked `<!-- region FILE#NAME -->` must be exactly the
 * `// #region NAME` ... `// #endregion NAME` part of FILE, which is compiled and tested.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"

const root = join(import.meta.dirname, "..")
const readme = readFileSync(join(root, "README.md"), "utf8")
const marked = [...readme.matchAll(/<!-- region ([^#\s]+)#(\S+) -->\n```ts\n([\s\S]*?)\n```/g)]

const region = (file: string, name: string): string => {
  const text = readFileSync(join(root, file), "utf8")
  const match = text.match(new RegExp(`// #region ${name}\\n([\\s\\S]*?)\\n// #endregion ${name}`))
  if (match?.[1] === undefined) throw new Error(`${file} has no region ${name}`)
  return match[1]
}

describe("README code blocks", () => {
  it("there are blocks to check", () => {
    expect(marked.length).toBeGreaterThanOrEqual(5)
  })
  for (const [, file, name, block] of marked) {
    it(`${file}#${name} matches the tested source`, () => {
      expect(block).toBe(region(file!, name!))
    })
  }
})

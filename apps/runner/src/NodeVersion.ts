/**
 * The Node.js version the `sluice` bin needs, checked before anything else is loaded: on an older
 * Node the dependencies fail while loading, with errors that do not say why. The required version
 * is the package's `engines.node` (one place to change it). This module imports only what every
 * Node since 16 has, so that it runs on the Node it refuses.
 */
import { readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

type Version = readonly [number, number, number]

const parse = (text: string): Version | undefined => {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(text.trim())
  return match === null ? undefined : [Number(match[1]), Number(match[2]), Number(match[3])]
}

const older = (a: Version, b: Version) => (a[0] !== b[0] ? a[0] < b[0] : a[1] !== b[1] ? a[1] < b[1] : a[2] < b[2])

/**
 * What is wrong with running on `versions` (a `process.versions`) given the range `required`
 * (`>=X.Y.Z`, the only form the engines field uses), or undefined when nothing is. Deno and Bun
 * report a Node version they are compatible with, not one to hold them to: they are not checked.
 */
export const nodeVersionProblem = (
  versions: Readonly<Record<string, string | undefined>>,
  required: string
): string | undefined => {
  if (versions.deno !== undefined || versions.bun !== undefined) return undefined
  const minimum = /^>=\s*(\S+)$/.exec(required.trim())
  const wanted = minimum === null ? undefined : parse(minimum[1]!)
  const running = parse(versions.node ?? "")
  if (wanted === undefined || running === undefined || !older(running, wanted)) return undefined
  return (
    `sluice needs Node.js ${required.trim()}, and this is Node.js ${versions.node}: ` +
    `install Node.js ${wanted.join(".")} or later (e.g. nvm install ${wanted[0]})`
  )
}

/**
 * `engines.node` of the package that holds `moduleUrl` (the nearest package.json above it:
 * `src/` in the repository, `dist/src/` once installed).
 */
export const requiredNode = (moduleUrl: string): string => {
  let dir = dirname(fileURLToPath(moduleUrl))
  for (;;) {
    let text: string | undefined
    try {
      text = readFileSync(join(dir, "package.json"), "utf8")
    } catch {
      text = undefined
    }
    if (text !== undefined) return (JSON.parse(text) as { engines?: { node?: string } }).engines?.node ?? ""
    const parent = dirname(dir)
    if (parent === dir) return ""
    dir = parent
  }
}

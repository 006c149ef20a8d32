/**
 * `--break KIND`: breaks one packed tarball on purpose (unpack, edit, repack), to prove the outside
 * test fails when a package is broken as a careless release would be:
 * - `missing-dependency`: @sluice/runner no longer declares @sluice/store-postgres, which it imports.
 *   Everything still runs (the project installs store-postgres itself, and npm hoists it), so only
 *   the declared-imports check can see it;
 * - `missing-export`: @sluice/transport-http exports `./testing`, a file that is not in the package;
 * - `bad-types`: @sluice/transport-http's `HttpTransportConfig.d.ts` is missing, so its `index.d.ts`
 *   names a declaration file that is not there (the JavaScript is intact).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { run } from "../checks.ts"

export const breakages = ["missing-dependency", "missing-export", "bad-types"] as const
export type Breakage = (typeof breakages)[number]

export const isBreakage = (value: string): value is Breakage => (breakages as ReadonlyArray<string>).includes(value)

interface Manifest {
  dependencies?: Record<string, string>
  exports?: Record<string, unknown>
}

/** The package each breakage edits, and the edit (on the unpacked `package/` folder); returns what it did. */
const edits: Record<Breakage, { readonly dir: string; readonly edit: (pkg: string) => string }> = {
  "missing-dependency": {
    dir: "apps/runner",
    edit: (pkg) => {
      editManifest(pkg, (manifest) => {
        delete manifest.dependencies?.["@sluice/store-postgres"]
      })
      return "@sluice/runner: removed @sluice/store-postgres from dependencies"
    }
  },
  "missing-export": {
    dir: "packages/transport-http",
    edit: (pkg) => {
      editManifest(pkg, (manifest) => {
        manifest.exports = {
          ...manifest.exports,
          "./testing": { types: "./dist/src/testing/index.d.ts", default: "./dist/src/testing/index.js" }
        }
      })
      return "@sluice/transport-http: added the export ./testing -> ./dist/src/testing/index.js (no such file)"
    }
  },
  "bad-types": {
    dir: "packages/transport-http",
    edit: (pkg) => {
      rmSync(join(pkg, "dist/src/HttpTransportConfig.d.ts"))
      return "@sluice/transport-http: deleted dist/src/HttpTransportConfig.d.ts"
    }
  }
}

const editManifest = (pkg: string, edit: (manifest: Manifest) => void) => {
  const file = join(pkg, "package.json")
  const manifest = JSON.parse(readFileSync(file, "utf8")) as Manifest
  edit(manifest)
  writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`)
}

/** Applies `breakage` to the tarball of its package among `packed`, in place; returns what it did. */
export const applyBreakage = (
  breakage: Breakage,
  packed: ReadonlyArray<{ readonly dir: string; readonly tarball: string }>
): string => {
  const { dir, edit } = edits[breakage]
  const target = packed.find((p) => p.dir === dir)
  if (target === undefined) throw new Error(`--break ${breakage}: ${dir} was not packed`)
  const work = mkdtempSync(`${target.tarball}-`)
  try {
    const steps = [
      ["-xzf", target.tarball, "-C", work],
      ["-czf", target.tarball, "-C", work, "package"]
    ]
    const unpacked = run("tar", steps[0]!, work)
    if (!unpacked.ok) throw new Error(`tar: ${unpacked.output}`)
    const done = edit(join(work, "package"))
    const repacked = run("tar", steps[1]!, work)
    if (!repacked.ok) throw new Error(`tar: ${repacked.output}`)
    return done
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

/**
 * The published packages as a registry would receive them: built with tsc (`tsconfig.build.json`),
 * then `pnpm pack`ed, which applies `publishConfig` and turns `workspace:` ranges into versions.
 * Used by check-packages.ts (publint, attw, deno) and outside-test.ts (installed with npm elsewhere).
 */
import { mkdirSync, readdirSync } from "node:fs"
import { join } from "node:path"
import type { Checks } from "./checks.ts"
import { packageDirs } from "./package-manifests.ts"

export const root = join(import.meta.dirname, "..")

/** Builds every package to `dist/` (one check). */
export const buildPackages = (checks: Checks): boolean =>
  checks.check("build (tsc -b tsconfig.build.json)", "pnpm", ["exec", "tsc", "-b", "tsconfig.build.json"], root).ok

export interface Packed {
  /** The package's folder in the repository, e.g. `packages/core`. */
  readonly dir: string
  readonly tarball: string
}

/**
 * Packs each package into its own folder under `out` (one check each); returns the tarballs made.
 * A package that fails to pack is missing from the result (its check failed).
 */
export const packPackages = (checks: Checks, out: string): ReadonlyArray<Packed> =>
  packageDirs.flatMap((dir) => {
    const dest = join(out, dir.replaceAll("/", "-"))
    mkdirSync(dest, { recursive: true })
    if (!checks.check(`${dir}: pnpm pack`, "pnpm", ["pack", "--pack-destination", dest], join(root, dir)).ok) return []
    const name = readdirSync(dest).find((file) => file.endsWith(".tgz"))
    return name === undefined ? [] : [{ dir, tarball: join(dest, name) }]
  })

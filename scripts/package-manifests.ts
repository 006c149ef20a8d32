/**
 * A package's `exports` (and `bin`) in package.json, pointing at `src/*.ts`, are the one place its
 * entry points are written. The published ones (`publishConfig.exports`/`bin`, pointing at `dist/`)
 * and the JSR ones (deno.json `exports`) are derived from them here, so adding a subpath is one line
 * in `exports` and `node scripts/check-packages.ts --fix`.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"

type Entries = Record<string, string>

interface Manifest {
  readonly exports: Entries
  readonly bin?: Entries
  publishConfig?: { bin?: Entries; exports?: Record<string, { readonly types: string; readonly default: string }> }
}

/** `./src/Foo.ts` -> `./dist/src/Foo` (tsc's outDir `dist`, rootDir the package). */
const distBase = (source: string) => `./dist/${source.replace(/^\.\//, "").replace(/\.ts$/, "")}`

const mapValues = <A>(entries: Entries, f: (value: string) => A): Record<string, A> =>
  Object.fromEntries(Object.entries(entries).map(([key, value]) => [key, f(value)]))

const publishConfig = (manifest: Manifest) => ({
  ...(manifest.bin === undefined ? {} : { bin: mapValues(manifest.bin, (source) => `${distBase(source)}.js`) }),
  exports: mapValues(manifest.exports, (source) => ({
    types: `${distBase(source)}.d.ts`,
    default: `${distBase(source)}.js`
  }))
})

const readJson = <A>(file: string): A => JSON.parse(readFileSync(file, "utf8")) as A
const writeJson = (file: string, value: unknown) => writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`)

/** The published packages' folders, in dependency order. */
export const packageDirs: ReadonlyArray<string> = [
  "packages/core",
  "packages/store-postgres",
  "packages/plugin-yfinance",
  "packages/transport-http",
  "packages/transport-console",
  "packages/source-nats",
  "packages/source-http",
  "packages/transport-nats",
  "apps/runner"
]

/**
 * Whether the package's derived manifests match its `exports`; with `fix`, rewrites them first.
 * Returns the files that were (or, without `fix`, would be) changed.
 */
export const syncManifests = (dir: string, fix: boolean): ReadonlyArray<string> => {
  const packageFile = join(dir, "package.json")
  const denoFile = join(dir, "deno.json")
  const manifest = readJson<Manifest>(packageFile)
  const deno = readJson<{ exports?: Entries }>(denoFile)
  const stale: Array<string> = []
  const wanted = publishConfig(manifest)
  if (JSON.stringify(manifest.publishConfig) !== JSON.stringify({ ...manifest.publishConfig, ...wanted })) {
    stale.push(packageFile)
    if (fix) writeJson(packageFile, { ...manifest, publishConfig: { ...manifest.publishConfig, ...wanted } })
  }
  if (JSON.stringify(deno.exports) !== JSON.stringify(manifest.exports)) {
    stale.push(denoFile)
    if (fix) writeJson(denoFile, { ...deno, exports: manifest.exports })
  }
  return stale
}

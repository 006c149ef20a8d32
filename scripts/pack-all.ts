/**
 * `pnpm pack:all DIR`: builds every published package and packs it into DIR (made if missing), as
 * `pnpm check:outside` does, for installing Sluice in a project of your own before it is on a
 * registry: `npm install DIR/*.tgz effect`.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { basename, join, resolve } from "node:path"
import { makeChecks } from "./checks.ts"
import { buildPackages, packPackages } from "./pack.ts"

const target = process.argv[2]
if (target === undefined || target.startsWith("-")) {
  console.error("usage: pnpm pack:all DIR   (the folder the tarballs go to)")
  process.exit(2)
}
const dest = resolve(process.cwd(), target)
mkdirSync(dest, { recursive: true })
const checks = makeChecks()
// packPackages puts each tarball in a folder of its own; DIR gets them side by side.
const work = mkdtempSync(join(tmpdir(), "sluice-pack-all-"))
try {
  if (buildPackages(checks))
    for (const { tarball } of packPackages(checks, work)) copyFileSync(tarball, join(dest, basename(tarball)))
} finally {
  rmSync(work, { recursive: true, force: true })
}
console.log(`\ntarballs in ${dest}`)
checks.finish(undefined)

/**
 * `pnpm pack:all DIR`: builds every published package and packs it into DIR (made if missing), as
 * `pnpm check:outside` does, for installing Sluice in a project of your own before it is on a
 * registry: `npm install DIR/*.tgz effect`. Older `sluice-*.tgz` in DIR are removed first.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { basename, join, resolve } from "node:path"
import { makeChecks } from "./checks.ts"
import { buildPackages, packPackages } from "./pack.ts"

const target = process.argv[2]
if (target === undefined || target.startsWith("-")) {
  console.error("usage: pnpm pack:all DIR   (the folder the tarballs go to)")
  process.exit(2)
}
// pnpm runs scripts at the workspace's root; INIT_CWD is where the command was typed.
const dest = resolve(process.env.INIT_CWD ?? process.cwd(), target)
mkdirSync(dest, { recursive: true })
// Older tarballs would put two versions of a package in `npm install DIR/*.tgz`.
for (const file of readdirSync(dest)) if (/^sluice-.*\.tgz$/.test(file)) rmSync(join(dest, file))
const checks = makeChecks()
// packPackages puts each tarball in a folder of its own; DIR gets them side by side.
const work = mkdtempSync(join(tmpdir(), "sluice-pack-all-"))
let copied = 0
try {
  if (buildPackages(checks))
    for (const { tarball } of packPackages(checks, work)) {
      copyFileSync(tarball, join(dest, basename(tarball)))
      copied++
    }
} finally {
  rmSync(work, { recursive: true, force: true })
}
if (copied > 0) console.log(`\n${copied} tarballs in ${dest}`)
checks.finish(undefined)

/**
 * How the store starts PGlite to keep its memory down: PostgreSQL's page cache is 16MB unless
 * set, and a new data directory is initialised in a child process, so that this process only ever
 * opens a directory that already holds a database (and keeps nothing initdb used).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { PGlite } from "@electric-sql/pglite"
import { afterAll, afterEach, describe, expect, it, vi } from "vitest"
import { Pglite } from "../src/index.ts"

const dirs: Array<string> = []
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-pglite-"))
  dirs.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true, maxRetries: 5 })
})
afterEach(() => {
  vi.restoreAllMocks()
})

const sharedBuffers = async (pg: PGlite) =>
  (await pg.query<{ shared_buffers: string }>("SHOW shared_buffers")).rows[0]?.shared_buffers

// Starting PGlite takes seconds on a busy 2-core machine (initdb more): generous limits.
describe("Pglite.create", { timeout: 120_000 }, () => {
  it("sets shared_buffers to 16MB unless told otherwise", async () => {
    const pg = await Pglite.create()
    try {
      expect(await sharedBuffers(pg)).toBe("16MB")
    } finally {
      await pg.close()
    }
    const larger = await Pglite.create({ sharedBuffers: "32MB" })
    try {
      expect(await sharedBuffers(larger)).toBe("32MB")
    } finally {
      await larger.close()
    }
  })

  it("initialises a new data directory before this process opens it, and reopens it with its rows", async () => {
    const dataDir = join(tempDir(), "db")
    // What PGlite finds when this process opens the directory: a database, never an empty directory.
    const initialised: Array<boolean> = []
    const create = PGlite.create.bind(PGlite)
    vi.spyOn(PGlite, "create").mockImplementation((options) => {
      initialised.push(existsSync(join(dataDir, "PG_VERSION")))
      return create(options)
    })
    const first = await Pglite.create({ dataDir })
    await first.exec("CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)")
    await first.close()
    const second = await Pglite.create({ dataDir })
    try {
      expect((await second.query<{ n: number }>("SELECT n FROM kept")).rows).toEqual([{ n: 42 }])
      expect(await sharedBuffers(second)).toBe("16MB")
    } finally {
      await second.close()
    }
    expect(initialised).toEqual([true, true])
  })

  it("names the data directory when it cannot be initialised", async () => {
    const file = join(tempDir(), "not-a-directory")
    writeFileSync(file, "")
    const dataDir = join(file, "db")
    await expect(Pglite.create({ dataDir })).rejects.toThrow(`initialising the data directory ${dataDir} failed`)
  })
})

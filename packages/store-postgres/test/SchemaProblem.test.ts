/**
 * What a migration status means for a tool that opens a schema without migrating it, and how its
 * differences read in a health check's detail.
 */
import { assert, describe, it } from "@effect/vitest"
import { describeDifferences, type MigrationStatus, migrations, schemaProblem } from "../src/index.ts"

const current: MigrationStatus = {
  schema: "s",
  exists: true,
  migrated: true,
  applied: migrations,
  pending: [],
  unknown: [],
  changed: []
}

describe("schemaProblem", () => {
  it("none for a current schema, or one merely behind (it still reads)", () => {
    assert.isUndefined(schemaProblem(current))
    assert.isUndefined(schemaProblem({ ...current, applied: migrations.slice(0, 1), pending: migrations.slice(1) }))
  })

  it("missing, unmigrated, newer and changed schemas, with what is wrong", () => {
    const none = { ...current, applied: [], pending: migrations }
    assert.deepStrictEqual(schemaProblem({ ...none, exists: false, migrated: false }), { reason: "missing" })
    assert.deepStrictEqual(schemaProblem({ ...none, migrated: false }), { reason: "unmigrated" })
    assert.deepStrictEqual(schemaProblem(none), { reason: "unmigrated" })
    assert.deepStrictEqual(schemaProblem({ ...current, unknown: [{ id: 99, name: "later" }] }), {
      reason: "newer",
      detail: "migration 99 (later)"
    })
    assert.deepStrictEqual(schemaProblem({ ...current, changed: migrations.slice(0, 1) }), {
      reason: "changed",
      detail: migrations[0]!.file
    })
  })
})

describe("describeDifferences", () => {
  it("is empty when current, else names every difference", () => {
    assert.strictEqual(describeDifferences(current), "")
    assert.strictEqual(
      describeDifferences({ ...current, exists: false, migrated: false, applied: [], pending: migrations }),
      "schema s is not migrated"
    )
    assert.strictEqual(
      describeDifferences({
        ...current,
        pending: migrations.slice(-1),
        unknown: [{ id: 99, name: "later" }],
        changed: migrations.slice(0, 1)
      }),
      `not applied: ${migrations.at(-1)!.file}, unknown to this version: 99 (later), changed after it was applied: ${migrations[0]!.file}`
    )
  })
})

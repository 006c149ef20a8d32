// Scratch probe (not committed): the full claim statement's plan after prune, with and without ANALYZE.
import { Duration } from "effect"
import * as OutboxSql from "../src/OutboxSql.ts"
import { tableNames } from "../src/Tables.ts"
import { dropPg, migratePg, PREFILL, rawPg, schemaName } from "./harness.ts"
import { addHistory, checkpoint, pruneHistory } from "./retention.ts"

const explain = async (schema: string, label: string) => {
  const st = OutboxSql.statements(tableNames(schema)).claimInTransaction
  const params = st.params({ owner: "w", limit: 500, lease: Duration.seconds(30), routes: ["bench"] })
  const { sql } = rawPg(schema, 1)
  for (let i = 0; i < 3; i++) {
    await sql
      .begin(async (tx) => {
        const rows = await tx.unsafe(`EXPLAIN (ANALYZE, BUFFERS, COSTS ON) ${st.text}`, params as never)
        if (i === 2) console.log(`--- ${label}\n${rows.map((r) => r["QUERY PLAN"]).join("\n")}`)
        else console.log(`--- ${label} run ${i}: ${rows.at(-1)?.["QUERY PLAN"]}`)
        throw new Error("rollback")
      })
      .catch(() => {})
  }
  await sql.end()
}

for (const mode of ["empty", "pruned", "pruned+analyze"] as const) {
  const schema = schemaName("probe")
  await migratePg(schema)
  const { sql } = rawPg(schema, 1)
  await sql.unsafe(PREFILL, [50_000])
  await sql.unsafe("VACUUM ANALYZE outbox")
  await sql.unsafe("VACUUM ANALYZE events")
  if (mode !== "empty") {
    await addHistory(schema, 1_000_000)
    await pruneHistory(schema, 1000, true)
    if (mode === "pruned+analyze") await sql.unsafe("ANALYZE outbox")
  }
  await sql.end()
  await checkpoint(schema)
  await explain(schema, mode)
  await dropPg(schema)
}
process.exit(0)

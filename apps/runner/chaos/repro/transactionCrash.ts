/**
 * Minimal reproduction (found by the chaos scenario postgres-restart): a connection terminated by
 * the server WHILE a statement of a user transaction runs ends the whole Node process with an
 * uncaught `TypeError: Cannot read properties of null (reading 'write')` from postgres.js, instead
 * of failing the transaction with a SqlError.
 *
 *   node apps/runner/chaos/repro/transactionCrash.ts     # prints "survived" when fixed
 */
import { PgEventStore } from "@sluice/store-postgres"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { startPrivatePg } from "../../test/chaos/lib/privatePg.ts"

const pg = await startPrivatePg()
process.on("exit", (code) => {
  if (code !== 0) console.log(`process exits ${code}: a cut transaction crashed it (the bug)`)
})
try {
  const program = Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const cut = Effect.promise(async () => {
      await new Promise((resolve) => setTimeout(resolve, 300))
      await pg.query(
        `WITH v AS MATERIALIZED (SELECT pid FROM pg_stat_activity WHERE application_name = 'repro' AND query LIKE '%pg_sleep%')
         SELECT pg_terminate_backend(pid) FROM v`
      )
    })
    const transaction = sql.withTransaction(sql`SELECT pg_sleep(3)`).pipe(Effect.result)
    const [result] = yield* Effect.all([transaction, cut], { concurrency: 2 })
    console.log(
      `the transaction ended with ${result._tag} (${result._tag === "Failure" ? result.failure.message : "ok"})`
    )
    yield* Effect.sleep("500 millis")
  }).pipe(Effect.provide(PgEventStore.layer({ url: pg.url, schema: "repro", applicationName: "repro", poolSize: 2 })))
  await Effect.runPromise(program)
  console.log("survived")
} finally {
  await pg.destroy()
}

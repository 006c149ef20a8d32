/**
 * The RawPayloadStore on PostgreSQL: a source's raw payloads read back in raw id order (for
 * `sluice rederive`), and transform resolutions (0005's transform_resolutions).
 *
 * Paging walks the raw_payloads primary key (raw ids are UUIDv7: stored order) and filters by
 * source, failure and time: no index on (source, received_at) nor on failures, which every ingest
 * would pay for, for commands an operator runs now and then (`sluice rederive`, `sluice raw list
 * --failed`). A re-derivation therefore reads the whole table once.
 */
import { RawPayloadStore } from "@sluice/core"
import { DateTime, Effect } from "effect"
import type { SqlClient } from "effect/sql"
import { toStoreError } from "./PgErrors.ts"
import * as Prune from "./Prune.ts"
import { type RawRow, toRaw } from "./Rows.ts"
import { tables } from "./Tables.ts"

/** `schema` must already be validated (see `validateSchema`). */
export const make = (sql: SqlClient.SqlClient, schema: string): RawPayloadStore["Service"] => {
  const raw = sql(`${schema}.raw_payloads`)
  const resolutions = sql(`${schema}.transform_resolutions`)
  const pruneTables = { ...tables(sql, schema), resolutions }
  return RawPayloadStore.of({
    pruneRaw: (policy) => Prune.pruneRaw(sql, pruneTables, policy).pipe(Effect.withSpan("PgRawPayloadStore.pruneRaw")),
    readRaw: (page) =>
      sql<RawRow & { readonly resolved_at: Date | null }>`
        SELECT r.raw_id::text AS raw_id, r.source, r.content_type, r.body, r.request, r.received_at, r.trace_id,
               r.content_hash, r.transform_error, s.resolved_at
        FROM ${raw} r LEFT JOIN ${resolutions} s ON s.raw_id = r.raw_id
        WHERE (${page.source ?? null}::text IS NULL OR r.source = ${page.source ?? null})
          AND (${page.failed === true} = false OR (r.transform_error IS NOT NULL AND s.raw_id IS NULL))
          AND r.raw_id > ${page.after ?? "00000000-0000-0000-0000-000000000000"}::uuid
          AND r.received_at >= ${page.since === undefined ? "-infinity" : DateTime.formatIso(page.since)}::text::timestamptz
        ORDER BY r.raw_id LIMIT ${Math.max(0, Math.floor(page.limit))}`.pipe(
        Effect.map((rows) =>
          rows.map(({ resolved_at, ...row }) => ({
            raw: toRaw(row),
            resolved_at: resolved_at === null ? null : DateTime.makeUnsafe(resolved_at)
          }))
        ),
        Effect.mapError(toStoreError("readRaw")),
        Effect.withSpan("PgRawPayloadStore.readRaw")
      ),
    resolve: (raw_id, trace_id) =>
      sql`INSERT INTO ${resolutions} (raw_id, trace_id) VALUES (${raw_id}::uuid, ${trace_id})
          ON CONFLICT (raw_id) DO NOTHING`.pipe(Effect.asVoid, Effect.mapError(toStoreError("resolve")))
  })
}

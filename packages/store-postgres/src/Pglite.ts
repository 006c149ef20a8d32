/**
 * Effect's SqlClient on PGlite (PostgreSQL compiled to WASM, in process). PGlite has one
 * connection, so a semaphore gives it to one statement, or to one whole transaction, at a time:
 * without it another fiber's statement could land inside someone else's transaction. This is the
 * only file that knows PGlite.
 */
import { execFile } from "node:child_process"
import { existsSync } from "node:fs"
import { createRequire } from "node:module"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { setFlagsFromString } from "node:v8"
import { PGlite } from "@electric-sql/pglite"
import { Config, Context, Effect, Layer, Semaphore, Stream } from "effect"
import { Reactivity } from "effect/reactivity"
import { SqlClient, type SqlConnection, type SqlError } from "effect/sql"
import * as DirectStatement from "./DirectStatement.ts"
import { makeCompiler } from "./PgCompiler.ts"
import { toSqlError } from "./PgErrors.ts"
import { PgNotifications } from "./PgNotifications.ts"

/** Where PGlite keeps its data, and how much memory it may hold. */
export interface PgliteOptions {
  /** A directory for the database files; in memory (gone with the process) when absent. @default undefined */
  readonly dataDir?: string
  /**
   * PostgreSQL's `shared_buffers`: its page cache, inside PGlite's WASM heap and touched as it fills.
   * PostgreSQL's 128MB made a third of an idle runner's memory; pages it no longer holds are read back
   * from the data directory (the OS caches it) or, in memory, from PGlite's own file system.
   * @default "16MB"
   */
  readonly sharedBuffers?: string
  /**
   * Let V8 optimise PGlite's WASM with TurboFan. Off, it stays on V8's baseline compiler (this sets
   * V8's `--liftoff-only` for the process, before the first PGlite starts): TurboFan's compilations
   * of PostgreSQL's large functions left 50-130 MB in the process's malloc arenas for good, and the
   * bench's PGlite ingest and drain rows were no slower without it on 2 cores.
   * @default false
   */
  readonly optimizeWasm?: boolean
}

const run = <A>(operation: string, query: () => Promise<A>): Effect.Effect<A, SqlError.SqlError> =>
  Effect.tryPromise({ try: query, catch: (cause) => toSqlError(cause, operation) })

const makeConnection = (pg: PGlite): SqlConnection.Connection => {
  const rows = (sql: string, params: ReadonlyArray<unknown>) =>
    run("execute", () => pg.query<Record<string, unknown>>(sql, [...params])).pipe(Effect.map((r) => r.rows))
  const values = (sql: string, params: ReadonlyArray<unknown>) =>
    run("executeValues", () => pg.query<Array<unknown>>(sql, [...params], { rowMode: "array" })).pipe(
      Effect.map((r) => r.rows)
    )
  return {
    execute: (sql, params, transformRows) =>
      Effect.map(rows(sql, params), (r) => (transformRows ? transformRows(r) : r)),
    executeRaw: (sql, params) => run("executeRaw", () => pg.query(sql, [...params])),
    // PGlite returns whole results; the stream replays them.
    executeStream: (sql, params, transformRows) =>
      Stream.fromIterableEffect(Effect.map(rows(sql, params), (r) => (transformRows ? transformRows(r) : r))),
    executeValues: values,
    executeValuesUnprepared: values,
    // Without parameters, `exec` runs a script of several statements (migrations need that).
    executeUnprepared: (sql, params, transformRows) =>
      params.length > 0
        ? Effect.map(rows(sql, params), (r) => (transformRows ? transformRows(r) : r))
        : run("executeUnprepared", () => pg.exec(sql)).pipe(
            Effect.map((results) => {
              const last = (results.at(-1)?.rows ?? []) as ReadonlyArray<Record<string, unknown>>
              return transformRows ? transformRows(last) : last
            })
          )
  }
}

/** Node (not Deno or Bun, whose executables take other flags): where `initInChild` can run. */
const isNode = typeof process.versions.deno !== "string" && typeof process.versions.bun !== "string"

// PGlite's file system errors are objects, not Errors: print them as JSON.
const INIT_SCRIPT = `
const [module, dataDir] = process.argv.slice(1)
try {
  const { PGlite } = await import(module)
  await (await PGlite.create({ dataDir })).close()
} catch (error) {
  process.stderr.write(error instanceof Error ? error.message : JSON.stringify(error))
  process.exitCode = 1
}`

/**
 * Creates the database files of a new data directory in a child process. PGlite's initdb copies its
 * whole WASM heap and starts a second PostgreSQL; done in this process, the native memory it used
 * (about 110 MB, measured) stayed with the process for good.
 */
const initInChild = (dataDir: string) =>
  new Promise<void>((resolve, reject) => {
    const module = pathToFileURL(createRequire(import.meta.url).resolve("@electric-sql/pglite")).href
    execFile(
      process.execPath,
      ["--liftoff-only", "--input-type=module", "-e", INIT_SCRIPT, module, dataDir],
      (error, _stdout, stderr) =>
        error === null
          ? resolve()
          : reject(new Error(`initialising the data directory ${dataDir} failed: ${stderr.trim() || error.message}`))
    )
  })

/**
 * A PGlite with these options (a Promise, for callers outside Effect such as the bench; `open` is
 * the scoped version). A new data directory is initialised in a child process first (under Node).
 */
export const create = async (options: PgliteOptions = {}): Promise<PGlite> => {
  if (options.optimizeWasm !== true) setFlagsFromString("--liftoff-only")
  const { dataDir } = options
  const onDisk = dataDir !== undefined && !dataDir.includes("://")
  if (onDisk && isNode && !existsSync(join(dataDir, "PG_VERSION"))) await initInChild(dataDir)
  return PGlite.create({
    ...(dataDir === undefined ? {} : { dataDir }),
    startParams: [...PGlite.defaultStartParams, "-c", `shared_buffers=${options.sharedBuffers ?? "16MB"}`]
  })
}

/** Opens PGlite, closed with the scope. */
export const open = (options: PgliteOptions = {}) =>
  Effect.acquireRelease(
    run("open", () => create(options)),
    (pg) => Effect.promise(() => pg.close())
  )

/** A SqlClient and the LISTEN port over an open PGlite (which the caller closes). */
export const fromInstance = (pg: PGlite) =>
  Effect.gen(function* () {
    const connection = makeConnection(pg)
    const semaphore = Semaphore.makeUnsafe(1)
    const lease = Effect.uninterruptibleMask((restore) => Effect.as(restore(semaphore.takeScoped(1)), connection))
    const sql = yield* SqlClient.make({
      acquirer: lease,
      transactionAcquirer: lease,
      borrower: (f) => semaphore.withPermit(f(connection)),
      compiler: makeCompiler(),
      driver: "pglite",
      spanAttributes: [["db.system.name", "postgresql"]]
    })
    DirectStatement.register(sql, (f) => semaphore.withPermit(f(connection)))
    const notifications = PgNotifications.of({
      listen: (channel, onNotify) =>
        Effect.acquireRelease(
          run("listen", () => pg.listen(channel, (payload) => onNotify(payload))),
          (unlisten) => Effect.promise(() => unlisten())
        ).pipe(Effect.asVoid)
    })
    return { sql, notifications }
  }).pipe(Effect.provide(Reactivity.layer))

/** A SqlClient and the LISTEN port on a PGlite of its own, closed with the scope. */
export const make = (options: PgliteOptions = {}) => Effect.flatMap(open(options), fromInstance)

/** SqlClient and PgNotifications on a PGlite that lives as long as the layer. */
export const layer = (
  options: PgliteOptions = {}
): Layer.Layer<SqlClient.SqlClient | PgNotifications, SqlError.SqlError> =>
  Layer.effectContext(
    Effect.map(make(options), ({ sql, notifications }) =>
      Context.make(SqlClient.SqlClient, sql).pipe(Context.add(PgNotifications, notifications))
    )
  )

/** `layer` with its options read through Effect's `Config`, e.g. `layerConfig({ dataDir: Config.String("DATA_DIR") })`. */
export const layerConfig = (
  config: Config.Wrap<PgliteOptions>
): Layer.Layer<SqlClient.SqlClient | PgNotifications, SqlError.SqlError | Config.ConfigError> =>
  Layer.unwrap(Effect.map(Config.unwrap(config), layer))

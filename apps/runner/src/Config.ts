/**
 * The runner's config file, as an Effect Schema: the one source of truth for decoding (every error
 * names its field path), for the defaults, and for the JSON Schema that `sluice config schema`
 * prints for editors. Plugin `options` are opaque here; they are decoded by each plugin's own
 * Schema once the plugin is resolved (see PluginLoader.ts), with paths prefixed to the field.
 */
import { DurationText, defaultRetryPolicy, RetryPolicy, Route, toDuration } from "@sluice/core"
import { Effect, Schema } from "effect"
import { TelemetryConfig } from "./Telemetry.ts"

/** Durations are core's `DurationText` (re-exported: the runner's config and its docs refer to it). */
export { DurationText, toDuration }

const positiveInt = Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(1)))
const InstanceName = Schema.String.pipe(
  Schema.check(
    Schema.isPattern(/^[A-Za-z0-9_.-]{1,100}$/, { expected: "a name of letters, digits, '_', '.' or '-' (1-100)" })
  )
)
const PluginName = Schema.String.pipe(Schema.check(Schema.isNonEmpty({ expected: "a plugin package name or path" })))
const Options = Schema.Record(Schema.String, Schema.Unknown)

const withDefault =
  <S extends Schema.Top>(value: S["Encoded"]) =>
  (self: S) =>
    self.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)))

/** Where events, raw payloads and the outbox live. */
export const StoreConfig = Schema.Struct({
  /**
   * `auto`: PostgreSQL when a URL is given (`url` or the `DATABASE_URL` environment variable),
   * otherwise embedded PGlite in `dataDir`. `memory` keeps nothing across restarts (for trials).
   * @default "auto"
   */
  driver: Schema.Literals(["auto", "postgres", "embedded", "memory"]).pipe(withDefault("auto")),
  /** PostgreSQL URL (kept Redacted). `DATABASE_URL` in the environment overrides it. @default none */
  url: Schema.optionalKey(Schema.RedactedFromValue(Schema.String)),
  /** PGlite's data directory, relative to the config file's folder (like every path in the file). @default ".sluice" */
  dataDir: Schema.String.pipe(Schema.check(Schema.isNonEmpty()), withDefault(".sluice")),
  /** The database schema holding Sluice's tables (migrated on start). @default "sluice" */
  schema: Schema.String.pipe(
    Schema.check(Schema.isPattern(/^[a-z_][a-z0-9_]{0,62}$/, { expected: "a lower-case SQL identifier" })),
    withDefault("sluice")
  ),
  /** PostgreSQL connections in the pool. @default 10 */
  poolSize: positiveInt.pipe(withDefault(10))
})
export type StoreConfig = typeof StoreConfig.Type

/** When a source ticks. */
export const ScheduleConfig = Schema.Struct({
  /** Time between ticks. @default the source's own `pollInterval` if it has one, else "1 minute" */
  every: Schema.optionalKey(DurationText),
  /** Largest wait after consecutive failed ticks (the wait doubles per failure). @default "5 minutes" */
  maxBackoff: DurationText.pipe(withDefault("5 minutes"))
})

/** A source instance: a source plugin with its options and schedule. */
export const SourceConfig = Schema.Struct({
  /** Instance name; part of every deterministic event id, so keep it stable. */
  name: InstanceName,
  /**
   * Plugin package name (`@sluice/plugin-yfinance`, `@sluice/plugin-yfinance/replay`) or a path to
   * a module exporting a Plugin.
   */
  plugin: PluginName,
  /** The plugin's options (see the plugin's README). @default {} */
  options: Options.pipe(withDefault({})),
  /** @default { "maxBackoff": "5 minutes" } */
  schedule: ScheduleConfig.pipe(withDefault({}))
})
export type SourceConfig = typeof SourceConfig.Type

/** A transport instance: a transport plugin with its options. */
export const TransportConfig = Schema.Struct({
  /** Instance name that routes refer to. */
  name: InstanceName,
  /** Plugin package name (`@sluice/transport-http`, `@sluice/transport-console`) or a path. */
  plugin: PluginName,
  /** The plugin's options; strings may reference `${ENV_VAR}`s (for secrets). @default {} */
  options: Options.pipe(withDefault({}))
})
export type TransportConfig = typeof TransportConfig.Type

const policy = RetryPolicy.fields

/** Retry policy of failed deliveries: core's RetryPolicy, every field defaulting to `defaultRetryPolicy`'s. */
export const RetryConfig = Schema.Struct({
  /** Attempts before a row is dead-lettered (the first delivery counts). @default 5 */
  maxAttempts: policy.maxAttempts.pipe(withDefault(defaultRetryPolicy.maxAttempts)),
  /** Ceiling of the first retry's delay, doubled per attempt (full jitter). @default 1000 */
  baseDelayMs: policy.baseDelayMs.pipe(withDefault(defaultRetryPolicy.baseDelayMs)),
  /** Largest backoff delay. @default 300000 */
  maxDelayMs: policy.maxDelayMs.pipe(withDefault(defaultRetryPolicy.maxDelayMs)),
  /** Largest wait a receiver may ask for with Retry-After. @default 3600000 */
  maxRetryAfterMs: policy.maxRetryAfterMs.pipe(withDefault(defaultRetryPolicy.maxRetryAfterMs))
})

/** The relay: how outbox rows are claimed and delivered. */
export const RelayConfig = Schema.Struct({
  /** Run the relay in this process. @default true */
  enabled: Schema.Boolean.pipe(withDefault(true)),
  /** Concurrent relay workers. @default 2 */
  workers: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 64 })), withDefault(2)),
  /** Rows claimed per batch. @default 500 (see core's Relay.defaultBatchSize) */
  batchSize: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 10_000 })), withDefault(500)),
  /** How long a claim holds its rows; keep it well above a batch's publish time. @default "30 seconds" */
  lease: DurationText.pipe(withDefault("30 seconds")),
  /** Longest idle wait between claims when no notification arrives. @default "1 second" */
  pollInterval: DurationText.pipe(withDefault("1 second")),
  /** On SIGTERM/SIGINT: how long in-flight batches may take to finish before they are released. @default "10 seconds" */
  gracePeriod: DurationText.pipe(withDefault("10 seconds")),
  /** @default { "maxAttempts": 5, "baseDelayMs": 1000, "maxDelayMs": 300000, "maxRetryAfterMs": 3600000 } */
  retry: RetryConfig.pipe(withDefault({}))
})
export type RelayConfig = typeof RelayConfig.Type

/** The admin HTTP server. */
export const AdminConfig = Schema.Struct({
  /** Serve /healthz, /readyz, /metrics and /api/dead-letters. @default true */
  enabled: Schema.Boolean.pipe(withDefault(true)),
  /** Address to bind. Anything but a loopback address requires `token`. @default "127.0.0.1" */
  host: Schema.String.pipe(Schema.check(Schema.isNonEmpty()), withDefault("127.0.0.1")),
  /** Port (0 picks a free one, logged at start). @default 9464 */
  port: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 65535 })), withDefault(9464)),
  /** Bearer token required on every endpoint but /healthz (kept Redacted). Use `${SLUICE_ADMIN_TOKEN}`. @default none */
  token: Schema.optionalKey(Schema.RedactedFromValue(Schema.String.pipe(Schema.check(Schema.isMinLength(16))))),
  /**
   * More `Host` header values to answer besides the loopback names and `host` (requests naming any
   * other host get 421, so a web page cannot reach the API through DNS rebinding): `name` (with or
   * without the bound port, e.g. behind a reverse proxy) or `name:port`. @default []
   */
  allowedHosts: Schema.Array(Schema.String.pipe(Schema.check(Schema.isNonEmpty()))).pipe(withDefault([]))
})
export type AdminConfig = typeof AdminConfig.Type

/**
 * A log level by the names `--log-level` takes (lower case, `warning` for `warn`), or Effect's
 * capitalised names (accepted as before); decoded to Effect's LogLevel.
 */
export const LogLevelName = Schema.Literals([
  "all",
  "trace",
  "debug",
  "info",
  "warn",
  "warning",
  "error",
  "fatal",
  "none",
  "All",
  "Trace",
  "Debug",
  "Info",
  "Warn",
  "Error",
  "Fatal",
  "None"
]).transform([
  "All",
  "Trace",
  "Debug",
  "Info",
  "Warn",
  "Warn",
  "Error",
  "Fatal",
  "None",
  "All",
  "Trace",
  "Debug",
  "Info",
  "Warn",
  "Error",
  "Fatal",
  "None"
])

/** Log output. */
export const LoggingConfig = Schema.Struct({
  /** Lowest level logged (the names `--log-level` takes). @default "info" */
  level: LogLevelName.pipe(withDefault("info")),
  /** `auto`: pretty on a terminal, JSON lines otherwise. Logs go to stderr. @default "auto" */
  format: Schema.Literals(["auto", "json", "pretty"]).pipe(withDefault("auto"))
})
export type LoggingConfig = typeof LoggingConfig.Type

/**
 * A projection instance: a projection plugin's read model, kept up to date from the log beside the
 * relay (see Projections.ts). Its name is its checkpoint's key: renaming it rebuilds it.
 */
export const ProjectionConfig = Schema.Struct({
  /** Instance name: the projection's subscriber name (`sluice status`, `sluice projection rebuild NAME`). */
  name: InstanceName,
  /** Projection plugin package name (`@sluice/plugin-yfinance/read-model`) or a path. */
  plugin: PluginName,
  /** The plugin's options (see the plugin's README). @default {} */
  options: Options.pipe(withDefault({})),
  /** Events per batch (one transaction with the checkpoint). @default 500 */
  batchSize: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 10_000 })), withDefault(500)),
  /** Longest wait for new events when no wake-up arrives; also the pause after a failed batch. @default "1 second" */
  pollInterval: DurationText.pipe(withDefault("1 second"))
})
export type ProjectionConfig = typeof ProjectionConfig.Type

/** A retention age: a duration, or `null` to keep those rows forever. */
const RetentionAge = Schema.NullOr(DurationText)

/** One route's retention ages; a field left out takes the section's. */
export const RouteRetentionConfig = Schema.Struct({
  /** Delivered rows of this route older than this are deleted; `null` keeps them. @default the section's `delivered` */
  delivered: Schema.optionalKey(RetentionAge),
  /** Dead rows of this route older than this are deleted; `null` keeps them. @default the section's `dead` */
  dead: Schema.optionalKey(RetentionAge)
})

/**
 * Raw payload retention, opt-in: raw payloads are the audit trail and the input of `sluice
 * rederive`. Refused (logged, nothing deleted) while a payload that old has events with pending
 * outbox rows.
 */
export const RawRetentionConfig = Schema.Struct({
  /** Raw payloads received longer ago than this are deleted (their events stay). */
  olderThan: DurationText
})

/**
 * Retention of settled outbox rows (see the README's Retention section): `sluice run` deletes
 * delivered and dead rows older than their age on a schedule, in small batches, then vacuums the
 * outbox; `sluice prune [--dry-run]` does it once. Events are never deleted; pending rows never.
 */
export const RetentionConfig = Schema.Struct({
  /** Prune on a schedule while `sluice run` runs (`sluice prune` works either way). @default true */
  enabled: Schema.Boolean.pipe(withDefault(true)),
  /** Time between scheduled prunes (the first runs at start). @default "1 hour" */
  every: DurationText.pipe(withDefault("1 hour")),
  /** Delivered outbox rows older than this (since delivery) are deleted; `null` keeps them forever. @default "7 days" */
  delivered: RetentionAge.pipe(withDefault("7 days")),
  /**
   * Dead outbox rows older than this (since their last attempt) are deleted; `null` keeps them
   * forever. Keep it longer than `delivered`: dead letters wait for an operator. @default "30 days"
   */
  dead: RetentionAge.pipe(withDefault("30 days")),
  /** Per-route ages, by route name (each must name a route of `routes`). @default {} */
  routes: Schema.Record(Schema.String, RouteRetentionConfig).pipe(withDefault({})),
  /** Rows deleted per transaction: each batch holds its row locks and writes its WAL briefly. @default 1000 */
  batchSize: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 10_000 })), withDefault(1000)),
  /** Opt-in raw payload retention. @default none (raw payloads are kept forever) */
  raw: Schema.optionalKey(RawRetentionConfig)
})
export type RetentionConfig = typeof RetentionConfig.Type

const isLoopback = (host: string): boolean =>
  host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)

/** True when `host` is a loopback address (no token needed). */
export const loopbackHost = isLoopback

const duplicates = (names: ReadonlyArray<string | undefined>): Array<number> => {
  const seen = new Set<string>()
  const out: Array<number> = []
  names.forEach((name, i) => {
    if (name === undefined) return
    if (seen.has(name)) out.push(i)
    seen.add(name)
  })
  return out
}

const field = (value: unknown, key: string): unknown =>
  typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined
const list = (value: unknown): ReadonlyArray<unknown> => (Array.isArray(value) ? value : [])
const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined)

/**
 * The checks across fields (unique names, routes naming a transport, the admin token off loopback).
 * They read the input leniently, any field possibly malformed, so that they also run when other
 * fields fail to decode: a file's problems are all reported in one pass, not in stages.
 */
export const crossFieldIssues = (
  input: unknown
): Array<{ readonly path: Array<PropertyKey>; readonly issue: string }> => {
  const issues: Array<{ readonly path: Array<PropertyKey>; readonly issue: string }> = []
  const names = (key: string) => list(field(input, key)).map((entry) => text(field(entry, "name")))
  for (const [key, what] of [
    ["sources", "source"],
    ["transports", "transport"],
    ["routes", "route"],
    ["projections", "projection"]
  ] as const) {
    const named = names(key)
    for (const i of duplicates(named))
      issues.push({ path: [key, i, "name"], issue: `duplicate ${what} name ${JSON.stringify(named[i])}` })
  }
  const transports = new Set(names("transports").filter((name) => name !== undefined))
  list(field(input, "routes")).forEach((route, i) => {
    const transport = text(field(route, "transport"))
    if (transport !== undefined && !transports.has(transport)) {
      const known = [...transports].join(", ") || "none"
      issues.push({
        path: ["routes", i, "transport"],
        issue: `no transport named ${JSON.stringify(transport)} (known: ${known})`
      })
    }
  })
  const routeNames = new Set(names("routes").filter((name) => name !== undefined))
  const retentionRoutes = field(field(input, "retention"), "routes")
  if (typeof retentionRoutes === "object" && retentionRoutes !== null && !Array.isArray(retentionRoutes)) {
    for (const name of Object.keys(retentionRoutes)) {
      if (!routeNames.has(name)) {
        issues.push({
          path: ["retention", "routes", name],
          issue: `no route named ${JSON.stringify(name)} (routes: ${[...routeNames].join(", ") || "none"})`
        })
      }
    }
  }
  const admin = field(input, "admin")
  const host = text(field(admin, "host")) ?? "127.0.0.1"
  if (field(admin, "enabled") !== false && field(admin, "token") === undefined && !isLoopback(host)) {
    issues.push({
      path: ["admin", "token"],
      issue: `a bearer token is required when the admin server binds ${host} (not a loopback address)`
    })
  }
  return issues
}

/** The whole config file. */
export const SluiceConfig = Schema.Struct({
  /** Editors use it to find this file's JSON Schema (`sluice config schema > sluice.schema.json`). */
  $schema: Schema.optionalKey(Schema.String),
  /** @default { "driver": "auto", "dataDir": ".sluice", "schema": "sluice", "poolSize": 10 } */
  store: StoreConfig.pipe(withDefault({})),
  /** Source instances. @default [] */
  sources: Schema.Array(SourceConfig).pipe(withDefault([])),
  /** Transport instances. @default [] */
  transports: Schema.Array(TransportConfig).pipe(withDefault([])),
  /** Routes: event type patterns -> transport + topic (core's Route). @default [] */
  routes: Schema.Array(Route).pipe(withDefault([])),
  /** @default see RelayConfig */
  relay: RelayConfig.pipe(withDefault({})),
  /** @default see AdminConfig */
  admin: AdminConfig.pipe(withDefault({})),
  /** @default { "level": "info", "format": "auto" } */
  logging: LoggingConfig.pipe(withDefault({})),
  /** Projection instances: read models kept from the log beside the relay. @default [] */
  projections: Schema.Array(ProjectionConfig).pipe(withDefault([])),
  /** OpenTelemetry export (traces and metrics over OTLP/HTTP). @default {} (nothing exported) */
  telemetry: TelemetryConfig.pipe(withDefault({})),
  /** @default { "enabled": true, "every": "1 hour", "delivered": "7 days", "dead": "30 days", "routes": {}, "batchSize": 1000 } */
  retention: RetentionConfig.pipe(withDefault({}))
}).check(Schema.makeFilter(crossFieldIssues))
export type SluiceConfig = typeof SluiceConfig.Type
/** The config as written in a file (every defaulted field optional). */
export type SluiceConfigInput = typeof SluiceConfig.Encoded

/**
 * Types a config written in TypeScript (`sluice.config.ts` exporting `config = defineConfig({...})`);
 * it is decoded and checked exactly like a JSON file.
 */
export const defineConfig = (config: SluiceConfigInput): SluiceConfigInput => config

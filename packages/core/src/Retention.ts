/**
 * Retention: how long settled outbox rows are kept (`OutboxAdmin.prune`), and the separate, opt-in
 * policy for raw payloads (`RawPayloadStore.pruneRaw`). Events are never deleted: the log is
 * immutable. These are the reference semantics (which rows a policy deletes); the memory store
 * runs them directly and the SQL store mirrors them, both held to them by the contract suites.
 */
import { Data, DateTime, Duration } from "effect"
import type { OutboxEntry } from "./Outbox.ts"

/**
 * How long one route's settled rows are kept after they settled. A field left out inherits the
 * policy's; `null` keeps those rows forever.
 */
export interface RouteRetention {
  /** Delivered rows older than this (since `delivered_at`) are deleted. */
  readonly delivered?: Duration.Duration | null
  /**
   * Dead rows older than this are deleted. The outbox records no time of death: a dead row's age
   * counts from its last attempt's due time (`next_attempt_at`), at most the backlog's wait
   * before it died; a replayed row starts again from its replay.
   */
  readonly dead?: Duration.Duration | null
}

/** Which settled outbox rows `prune` deletes. Pending and leased rows are never deleted. */
export interface RetentionPolicy {
  /** Delivered rows of every route older than this. @default null (kept forever) */
  readonly delivered?: Duration.Duration | null
  /** Dead rows of every route older than this. @default null (kept forever) */
  readonly dead?: Duration.Duration | null
  /** Per-route overrides, by route name. @default {} */
  readonly routes?: Readonly<Record<string, RouteRetention>>
  /** Rows deleted per transaction (1 to 10,000): a batch holds its row locks only that long. @default 1000 */
  readonly batchSize?: number
  /** Count what would be deleted, delete nothing. @default false */
  readonly dryRun?: boolean
  /**
   * Stores that need it (PostgreSQL, PGlite) VACUUM the outbox after deleting, so the claim's
   * index stops visiting the deleted rows without waiting for autovacuum. @default true
   */
  readonly vacuum?: boolean
}

export const defaultBatchSize = 1000
export const maxBatchSize = 10_000

export interface PruneCounts {
  readonly delivered: number
  readonly dead: number
}

/** What a prune deleted (or, on a dry run, would delete). */
export interface PruneReport extends PruneCounts {
  readonly dryRun: boolean
  /** The routes that had rows to delete. */
  readonly byRoute: Readonly<Record<string, PruneCounts>>
  /** Transactions that deleted rows (0 on a dry run). */
  readonly batches: number
}

/** A policy `prune` or `pruneRaw` refuses before touching anything, with the field at fault. */
export class RetentionPolicyError extends Data.TaggedError("RetentionPolicyError")<{
  readonly field: string
  readonly reason: string
}> {
  override get message() {
    return `retention policy: ${this.field}: ${this.reason}`
  }
}

/** A route's ages in milliseconds; null: kept forever. */
export interface RouteAges {
  readonly delivered: number | null
  readonly dead: number | null
}

const millis = (d: Duration.Duration | null | undefined): number | null =>
  d === null || d === undefined ? null : Duration.toMillis(d)

/** The ages that apply to `route`. */
export const agesOf = (policy: RetentionPolicy, route: string): RouteAges => {
  const override = policy.routes?.[route]
  return {
    delivered: millis(override !== undefined && "delivered" in override ? override.delivered : policy.delivered),
    dead: millis(override !== undefined && "dead" in override ? override.dead : policy.dead)
  }
}

const checkAge = (field: string, d: Duration.Duration | null | undefined): RetentionPolicyError | undefined =>
  d === null || d === undefined || (Duration.isFinite(d) && !Duration.isNegative(d))
    ? undefined
    : new RetentionPolicyError({ field, reason: "must be a finite duration of 0 or more" })

const checkBatch = (batchSize: number | undefined): RetentionPolicyError | undefined =>
  batchSize === undefined || (Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= maxBatchSize)
    ? undefined
    : new RetentionPolicyError({ field: "batchSize", reason: `must be an integer from 1 to ${maxBatchSize}` })

/** The first problem of `policy`, if any (stores check before deleting anything). */
export const checkPolicy = (policy: RetentionPolicy): RetentionPolicyError | undefined =>
  checkBatch(policy.batchSize) ??
  checkAge("delivered", policy.delivered) ??
  checkAge("dead", policy.dead) ??
  Object.entries(policy.routes ?? {})
    .map(([route, r]) => checkAge(`routes.${route}.delivered`, r.delivered) ?? checkAge(`routes.${route}.dead`, r.dead))
    .find((e) => e !== undefined)

const olderThan = (at: DateTime.Utc | null, age: number | null, now: DateTime.Utc): boolean =>
  at !== null && age !== null && DateTime.toEpochMillis(at) < DateTime.toEpochMillis(now) - age

/**
 * True when `policy` deletes `entry` at `now`: delivered and older than its route's delivered age,
 * or dead and older than its dead age. Pending rows (leased or not) never expire.
 */
export const expires = (policy: RetentionPolicy, entry: OutboxEntry, now: DateTime.Utc): boolean => {
  if (entry.status === "pending") return false
  const ages = agesOf(policy, entry.route)
  return entry.status === "delivered"
    ? olderThan(entry.delivered_at, ages.delivered, now)
    : olderThan(entry.next_attempt_at, ages.dead, now)
}

/** Adds one deleted row to a report being built. */
export const tally = (
  counts: { delivered: number; dead: number; byRoute: Record<string, { delivered: number; dead: number }> },
  route: string,
  status: "delivered" | "dead",
  n = 1
): void => {
  counts[status] += n
  counts.byRoute[route] ??= { delivered: 0, dead: 0 }
  counts.byRoute[route][status] += n
}

/** The finished report, its routes in name order (the same report from every store). */
export const makeReport = (
  counts: { delivered: number; dead: number; byRoute: Record<string, PruneCounts> },
  dryRun: boolean,
  batches: number
): PruneReport => ({
  delivered: counts.delivered,
  dead: counts.dead,
  byRoute: Object.fromEntries(Object.entries(counts.byRoute).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  dryRun,
  batches
})

/** The opt-in retention of raw payloads (separate from the outbox's: they are the audit trail). */
export interface RawRetentionPolicy {
  /** Raw payloads received longer ago than this are deleted. */
  readonly olderThan: Duration.Duration
  /** @default 1000 */
  readonly batchSize?: number
  /** @default false */
  readonly dryRun?: boolean
}

export interface RawPruneReport {
  readonly dryRun: boolean
  /** Raw payloads deleted (or that would be). */
  readonly deleted: number
  readonly batches: number
}

/**
 * Refused: raw payloads the policy would delete still have events with pending outbox rows. Their
 * delivery may fail and need a re-derivation from the raw payload, so nothing was deleted.
 */
export class RawPayloadsPendingError extends Data.TaggedError("RawPayloadsPendingError")<{
  /** Raw payloads older than the age whose events have pending outbox rows. */
  readonly rawPayloads: number
  readonly exampleRawId: string
}> {
  override get message() {
    return `refusing to delete raw payloads: ${this.rawPayloads} raw payload(s) older than the retention age (e.g. ${this.exampleRawId}) have events whose outbox rows are still pending; deliver or purge those rows, or raise the age`
  }
}

/** The first problem of a raw retention policy, if any. */
export const checkRawPolicy = (policy: RawRetentionPolicy): RetentionPolicyError | undefined =>
  checkBatch(policy.batchSize) ?? checkAge("raw.olderThan", policy.olderThan)

/**
 * The stream side, at start: creating or updating the stream `ensureStream` asks for, and finding
 * the duplicate window of the stream the transport publishes to (what makes a redelivery a
 * duplicate the stream drops, or a second copy once the window has passed).
 */
import { type JetStreamManager, StorageType, type StreamConfig } from "@nats-io/jetstream"
import { nanos } from "@nats-io/nats-core"
import { Plugin, toDuration } from "@sluice/core"
import { Duration, Effect, Schedule } from "effect"
import type { EnsureStream } from "./NatsTransportConfig.ts"
import { messageOf } from "./Outcome.ts"
import type { Part } from "./SubjectTemplate.ts"

/**
 * The subjects a stream needs to capture every subject of a template: its literal start up to the
 * first placeholder, then `>` (values may hold dots). Undefined when the template starts with one.
 */
export const defaultSubjects = (parts: ReadonlyArray<Part>): ReadonlyArray<string> | undefined => {
  let prefix = ""
  for (const part of parts) {
    if (!("text" in part)) break
    prefix += part.text
  }
  if (parts.every((part) => "text" in part)) return [prefix]
  const cut = prefix.slice(0, prefix.lastIndexOf(".") + 1)
  return cut === "" ? undefined : [`${cut}>`]
}

const storageOf = (storage: EnsureStream["storage"]) => (storage === "file" ? StorageType.File : StorageType.Memory)

/** Tries of `ensureStream` after a transient failure (half a second apart: about 30 s). */
export const ensureRetries = 60

/**
 * A timeout, no responders or a 503: JetStream is there but busy (a leader election), try again.
 * So is "no suitable peers for placement": a cluster node is down (a stream being created needs as
 * many as its replicas), and while the cluster recovers `info` may not find a stream that exists.
 */
const isTransient = (cause: unknown): boolean => {
  const text = `${cause instanceof Error ? `${cause.name} ${cause.message}` : String(cause)}`.toLowerCase()
  return /timeout|timed out|no responders|503|not ready|leader|no suitable peers/.test(text)
}

/**
 * Creates the stream, or updates its subjects, replicas and duplicate window when it exists (its
 * storage cannot change: a different one fails the start). Returns its duplicate window.
 */
export const ensureStream = (
  jsm: JetStreamManager,
  spec: EnsureStream,
  parts: ReadonlyArray<Part>,
  plugin: string,
  instance: string
): Effect.Effect<Duration.Duration, Plugin.PluginStartError> =>
  Effect.gen(function* () {
    const fail = (reason: string) => new Plugin.PluginStartError({ plugin, instance, reason })
    const subjects = spec.subjects ?? defaultSubjects(parts)
    if (subjects === undefined) {
      return yield* fail("ensureStream.subjects is required when the subject template starts with a placeholder")
    }
    const wanted: Partial<StreamConfig> = {
      subjects: [...subjects],
      num_replicas: spec.replicas,
      duplicate_window: nanos(Duration.toMillis(toDuration(spec.duplicateWindow)))
    }
    const info = yield* Effect.tryPromise({
      try: async () => {
        const existing = await jsm.streams.info(spec.name).catch((error: unknown) => {
          if (error instanceof Error && error.name === "StreamNotFoundError") return undefined
          throw error
        })
        if (existing === undefined) {
          return await jsm.streams.add({ name: spec.name, storage: storageOf(spec.storage), ...wanted })
        }
        if (existing.config.storage !== storageOf(spec.storage)) {
          throw new Error(`stream ${spec.name} exists with ${existing.config.storage} storage, not ${spec.storage}`)
        }
        const same =
          existing.config.num_replicas === wanted.num_replicas &&
          existing.config.duplicate_window === wanted.duplicate_window &&
          JSON.stringify([...existing.config.subjects].sort()) === JSON.stringify([...subjects].sort())
        return same ? existing : await jsm.streams.update(spec.name, wanted)
      },
      catch: (cause) => ({
        transient: isTransient(cause),
        error: fail(`ensureStream ${spec.name}: ${messageOf(cause)}`)
      })
    }).pipe(
      // A cluster electing a stream or meta leader (about 5 s on nats-server 2.9) answers with
      // timeouts and 503s: the start waits it out, up to `ensureRetries` tries half a second apart.
      Effect.retry({ schedule: Schedule.spaced("500 millis"), times: ensureRetries, while: (e) => e.transient }),
      Effect.mapError((e) => e.error)
    )
    return Duration.millis(info.config.duplicate_window / 1_000_000)
  })

/**
 * The duplicate window of the stream that captures `subject`, if one does and JetStream answers:
 * best effort (a stream created later, or a JetStream still electing a leader, is not an error).
 */
export const duplicateWindowOf = (
  jsm: JetStreamManager,
  subject: string
): Effect.Effect<{ readonly stream: string; readonly window: Duration.Duration } | undefined> =>
  Effect.tryPromise(async () => {
    const stream = await jsm.streams.find(subject)
    const info = await jsm.streams.info(stream)
    return { stream, window: Duration.millis(info.config.duplicate_window / 1_000_000) }
  }).pipe(Effect.orElseSucceed(() => undefined))

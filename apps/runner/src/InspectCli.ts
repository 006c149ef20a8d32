/**
 * `sluice events show|tail` and `sluice raw show|list`: what the store holds, on the store the config
 * names or through a running process's admin API (`--admin URL`). See Inspect.ts.
 */
import { type EventId, EventStore, SubscriptionStore } from "@sluice/core"
import { Console, Data, Duration, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as AdminClient from "./AdminClient.ts"
import { maxRawPage } from "./AdminInspect.ts"
import { admin, config, json, logLevel, token } from "./CliFlags.ts"
import { adminTarget, UsageError, withStore } from "./Commands.ts"
import * as EventLines from "./EventLines.ts"
import * as Inspect from "./Inspect.ts"

/** No event or raw payload with that id (exit code 1). */
export class NotFoundError extends Data.TaggedError("NotFoundError")<{ readonly what: string; readonly id: string }> {
  override get message() {
    return `no ${this.what} with id ${this.id}`
  }
}

const printJson = (value: unknown) => Console.log(JSON.stringify(value, null, 2))

const eventShow = Command.make(
  "show",
  { config, id: Argument.String("id").pipe(Argument.withDescription("The event id")), admin, token },
  ({ config, id, admin, token }) =>
    Effect.gen(function* () {
      const target = yield* adminTarget(admin, token)
      const found = Option.isSome(target)
        ? yield* AdminClient.event(target.value, id)
        : yield* withStore(config, yield* logLevel, "events show", () =>
            Effect.flatMap(EventStore, (events) =>
              /^[0-9a-f-]{36}$/i.test(id)
                ? Effect.map(events.getEvent(id as EventId), Option.map(Inspect.showEvent))
                : Effect.succeed(Option.none())
            )
          )
      if (Option.isNone(found)) return yield* new NotFoundError({ what: "event", id })
      yield* printJson(found.value)
    })
).pipe(Command.withDescription("One stored event with its position, revision and raw payload id, as JSON"))

const tailFlags = {
  config,
  json,
  admin,
  token,
  type: Flag.String("type").pipe(
    Flag.withDescription("Only events whose type matches this pattern (quote.*)"),
    Flag.optional
  ),
  entity: Flag.String("entity").pipe(Flag.withDescription("Only events of this entity id"), Flag.optional),
  last: Flag.Int("last").pipe(Flag.withDescription("Print the newest N events first (0..1000)"), Flag.withDefault(10)),
  follow: Flag.Boolean("follow").pipe(
    Flag.withAlias("f"),
    Flag.withDescription("Keep printing events as they are committed, until Ctrl-C"),
    Flag.withDefault(false)
  )
}

const tail = Command.make("tail", tailFlags, (flags) =>
  Effect.gen(function* () {
    if (flags.last < 0 || flags.last > Inspect.maxTailRead)
      return yield* new UsageError({ reason: `--last: expected 0 to ${Inspect.maxTailRead}, got ${flags.last}` })
    const filter = { type: Option.getOrUndefined(flags.type), entity: Option.getOrUndefined(flags.entity) }
    // The columns' widths so far: a later page's lines stay aligned with those printed before.
    let widths = EventLines.noWidths
    const print = (page: Inspect.TailPage) =>
      Effect.suspend(() => {
        if (flags.json) return Effect.forEach(page.events, (e) => Console.log(JSON.stringify(e)), { discard: true })
        const printed = EventLines.eventLines(page.events, widths)
        widths = printed.widths
        return Effect.forEach(printed.lines, (line) => Console.log(line), { discard: true })
      })
    const target = yield* adminTarget(flags.admin, flags.token)
    const follow = (next: (after: string) => Effect.Effect<Inspect.TailPage, unknown>, first: Inspect.TailPage) =>
      Effect.gen(function* () {
        yield* print(first)
        // The first page is read by position, the rest in commit order: an event committed in a
        // later transaction than the head yet numbered below it was printed already.
        const printed = new Set(first.events.map((e) => e.event.event_id))
        let after = first.next_after
        while (flags.follow) {
          const page = yield* next(after)
          yield* print({ ...page, events: page.events.filter((e) => !printed.has(e.event.event_id)) })
          if (page.next_after === after) yield* Effect.sleep(Duration.millis(500))
          after = page.next_after
        }
      })
    if (Option.isSome(target)) {
      const page = (after: string | undefined) => AdminClient.tail(target.value, { ...filter, after, last: flags.last })
      return yield* Effect.flatMap(page(undefined), (first) => follow(page, first))
    }
    return yield* withStore(flags.config, yield* logLevel, "events tail", () =>
      Effect.gen(function* () {
        const events = yield* EventStore
        const subscriptions = yield* SubscriptionStore
        const page = (after: string | undefined) =>
          Inspect.tail(events, subscriptions, {
            ...filter,
            after: after === undefined ? undefined : Inspect.parseAfter(after),
            last: flags.last
          })
        yield* follow(page, yield* page(undefined))
      })
    )
  })
).pipe(
  Command.withDescription(
    "Print the newest events (--last N, default 10), then with --follow every event as it commits; --json prints one JSON object per line"
  )
)

const rawShow = Command.make(
  "show",
  { config, id: Argument.String("id").pipe(Argument.withDescription("The raw payload id")), admin, token },
  ({ config, id, admin, token }) =>
    Effect.gen(function* () {
      const target = yield* adminTarget(admin, token)
      const found = Option.isSome(target)
        ? yield* AdminClient.raw(target.value, id)
        : yield* withStore(config, yield* logLevel, "raw show", () =>
            Effect.flatMap(EventStore, (events) =>
              /^[0-9a-f-]{36}$/i.test(id)
                ? Effect.map(
                    events.getRaw(id as never),
                    Option.map((raw) => Inspect.showRaw(raw))
                  )
                : Effect.succeed(Option.none())
            )
          )
      if (Option.isNone(found)) return yield* new NotFoundError({ what: "raw payload", id })
      yield* printJson(found.value)
    })
).pipe(Command.withDescription("One raw payload as received (body, request, transform error), as JSON"))

const rawList = Command.make(
  "list",
  {
    config,
    json,
    admin,
    token,
    failed: Flag.Boolean("failed").pipe(
      Flag.withDescription("Only payloads whose transform failed and that no re-derivation resolved"),
      Flag.withDefault(false)
    ),
    source: Flag.String("source").pipe(Flag.withDescription("Only this source's payloads"), Flag.optional),
    limit: Flag.Int("limit").pipe(Flag.withDescription(`At most this many (1..${maxRawPage})`), Flag.withDefault(100))
  },
  (flags) =>
    Effect.gen(function* () {
      if (flags.limit < 1 || flags.limit > maxRawPage)
        return yield* new UsageError({ reason: `--limit: expected 1 to ${maxRawPage}, got ${flags.limit}` })
      const options = { source: Option.getOrUndefined(flags.source), failed: flags.failed, limit: flags.limit }
      const target = yield* adminTarget(flags.admin, flags.token)
      const page = Option.isSome(target)
        ? yield* AdminClient.rawList(target.value, options)
        : yield* withStore(flags.config, yield* logLevel, "raw list", () => Inspect.listRaw(options))
      if (flags.json) return yield* printJson(page)
      if (page.raw_payloads.length === 0) return yield* Console.log("no raw payloads")
      yield* Effect.forEach(
        page.raw_payloads,
        (raw) =>
          Console.log(
            [raw.raw_id, raw.received_at, raw.source, raw.content_type, raw.transform_error ?? ""]
              .map(String)
              .filter((part) => part !== "")
              .join("  ")
          ),
        { discard: true }
      )
    })
).pipe(Command.withDescription("Raw payloads, oldest first; --failed: those whose transform failed"))

export const eventsCommand = Command.make("events").pipe(
  Command.withDescription("Show stored events, or follow the log"),
  Command.withSubcommands([eventShow, tail])
)

export const rawCommand = Command.make("raw").pipe(
  Command.withDescription("Show and list stored raw payloads (the audit of what sources received)"),
  Command.withSubcommands([rawShow, rawList])
)

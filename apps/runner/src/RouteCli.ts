/**
 * `sluice routes list|pause|resume`: the routes' state (paused or not, rate limit), on the store the
 * config names or through a running process's admin API (`--admin URL`). See RouteControl.ts.
 */
import { Effect, type LogLevel, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as AdminClient from "./AdminClient.ts"
import { admin, config, json, logLevel, token } from "./CliFlags.ts"
import { adminTarget, UsageError, withStore } from "./Commands.ts"
import * as RouteControl from "./RouteControl.ts"

const name = Argument.String("route").pipe(Argument.withDescription("The route's name"))

const checked = (route: string) =>
  RouteControl.isRouteName(route)
    ? Effect.succeed(route)
    : Effect.fail(new UsageError({ reason: `not a route name: ${JSON.stringify(route)} (letters, digits, _ . -)` }))

const list = Command.make("list", { config, json, admin, token }, ({ config, json, admin, token }) =>
  Effect.gen(function* () {
    const target = yield* adminTarget(admin, token)
    const states = Option.isSome(target)
      ? yield* AdminClient.routes(target.value)
      : yield* withStore(config, yield* logLevel, "routes list", (store, loaded) =>
          RouteControl.states(store, loaded.routes)
        )
    yield* RouteControl.printStates(states, json)
  })
).pipe(Command.withDescription("List the config's routes and every paused one, with pauses and rate limits"))

const toggle = (
  action: "pause" | "resume",
  file: string,
  level: Option.Option<LogLevel.LogLevel>,
  target: Option.Option<AdminClient.Target>,
  route: string,
  reason: Option.Option<string>
) =>
  Effect.gen(function* () {
    const result = Option.isSome(target)
      ? yield* AdminClient.toggleRoute(target.value, action, route, Option.getOrUndefined(reason))
      : yield* withStore(file, level, `routes ${action}`, (store) =>
          action === "pause"
            ? RouteControl.pause(store, route, Option.getOrUndefined(reason))
            : RouteControl.resume(store, route)
        )
    yield* RouteControl.printToggled(result)
  })

const pause = Command.make(
  "pause",
  {
    config,
    route: name,
    reason: Flag.String("reason").pipe(Flag.withDescription("Why (shown by routes list)"), Flag.optional),
    admin,
    token
  },
  ({ config, route, reason, admin, token }) =>
    Effect.gen(function* () {
      if (Option.isSome(reason) && reason.value.length > 500)
        return yield* new UsageError({ reason: "--reason: at most 500 characters" })
      const target = yield* adminTarget(admin, token)
      yield* toggle("pause", config, yield* logLevel, target, yield* checked(route), reason)
    })
).pipe(
  Command.withDescription(
    "Stop every relay (of every process) from claiming the route's rows until it is resumed; rows keep arriving"
  )
)

const resume = Command.make("resume", { config, route: name, admin, token }, ({ config, route, admin, token }) =>
  Effect.gen(function* () {
    const target = yield* adminTarget(admin, token)
    yield* toggle("resume", config, yield* logLevel, target, yield* checked(route), Option.none())
  })
).pipe(Command.withDescription("Let relays claim a paused route's rows again (they wake at once)"))

export const routesCommand = Command.make("routes").pipe(
  Command.withDescription("Pause, resume and list routes"),
  Command.withSubcommands([list, pause, resume])
)

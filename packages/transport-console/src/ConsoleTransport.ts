/**
 * The console transport: prints each envelope as a line on stdout (or any ConsoleSink), one write per
 * envelope, in order. A write that fails becomes that envelope's outcome (with the reason), never a
 * crash: a closed stdout (EPIPE, destroyed stream) gives Retryable outcomes. Exported as a Plugin.
 */
import {
  delivered,
  type Envelope,
  Plugin,
  type PublishOutcome,
  permanent,
  retryable,
  type Transport
} from "@sluice/core"
import { Effect, Option, Schema, type Scope } from "effect"
import { formatter } from "./ConsoleFormat.ts"
import { ConsoleSink } from "./ConsoleSink.ts"
import { makeStdout } from "./NodeStdout.ts"

/** The plugin's package name, also the default instance name. */
export const pluginName = "@sluice/transport-console"

/** The console transport's config. */
export const ConsoleTransportConfig = Schema.Struct({
  /**
   * `json`: one JSON object per line; `pretty`: a readable line; `auto`: pretty when the output is a
   * terminal, json otherwise (pipes, files, log collectors).
   * @default "auto"
   */
  format: Schema.Literals(["auto", "json", "pretty"]).pipe(Schema.withDecodingDefault(Effect.succeed("auto" as const)))
})
export type ConsoleTransportConfig = typeof ConsoleTransportConfig.Type

/**
 * Builds a console transport named `name`. It writes to the ConsoleSink in the context, or to stdout
 * (guarded against EPIPE for the life of the scope) when there is none.
 */
export const make = (
  config: ConsoleTransportConfig,
  name: string = pluginName
): Effect.Effect<Transport, never, Scope.Scope> =>
  Effect.gen(function* () {
    const provided = yield* Effect.serviceOption(ConsoleSink)
    const sink = Option.isSome(provided) ? provided.value : yield* makeStdout
    const render = formatter(config.format, sink.isTTY)
    const writeOne = (envelope: Envelope): Effect.Effect<PublishOutcome> =>
      sink.write(render(envelope)).pipe(
        Effect.as(delivered),
        Effect.catchTag("ConsoleSinkError", (error) =>
          Effect.succeed(error.retryable ? retryable(error.reason) : permanent(error.reason))
        )
      )
    return {
      name,
      publish: (envelopes) => Effect.forEach(envelopes, writeOne)
    }
  })

/** The plugin: `ConsoleTransportPlugin.layer({ format: "json" }, "stdout")` registers an instance. */
export const ConsoleTransportPlugin = Plugin.define({
  name: pluginName,
  kind: "transport",
  config: ConsoleTransportConfig,
  make
})

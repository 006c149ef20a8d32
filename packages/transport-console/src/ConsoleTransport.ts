/**
 * The console transport: prints each envelope as a line on stdout (or any ConsoleSink), one write per
 * envelope, in order. A write that fails becomes that envelope's outcome (with the reason), never a
 * crash: a closed stdout (EPIPE, destroyed stream) gives Retryable outcomes. It keeps the publish
 * deadline (a reader that stops reading stalls stdout) and reports each line before writing it.
 * Exported as a Plugin.
 */
import {
  delivered,
  type Envelope,
  notSent,
  Plugin,
  type PublishContext,
  type PublishOutcome,
  permanent,
  retryable,
  type Transport
} from "@sluice/core"
import { Clock, Effect, Option, Schema, type Scope } from "effect"
import { formatter } from "./ConsoleFormat.ts"
import { ConsoleSink } from "./ConsoleSink.ts"
import { makeStdout } from "./NodeStdout.ts"

/** The package name: the plugin's name, and the default instance name. */
const pluginName = "@sluice/transport-console"

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
    const writeOne = (envelope: Envelope, context: PublishContext): Effect.Effect<PublishOutcome> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const left = context.deadline - now
        if (left <= 0) return Effect.succeed(notSent("the publish deadline passed before this line was written"))
        context.sending([envelope])
        return sink.write(render(envelope)).pipe(
          Effect.as(delivered),
          Effect.catchTag("ConsoleSinkError", (error) =>
            Effect.succeed(error.retryable ? retryable(error.reason) : permanent(error.reason))
          ),
          // The line may still come out later: Retryable, not NotSent.
          Effect.timeoutOrElse({
            duration: left,
            orElse: () => Effect.succeed(retryable("the output did not take the line by the publish deadline"))
          })
        )
      })
    return {
      name,
      reportsSending: true,
      publish: (envelopes, context) => Effect.forEach(envelopes, (envelope) => writeOne(envelope, context))
    }
  })

/** The plugin: `ConsoleTransportPlugin.layer({ format: "json" }, "stdout")` registers an instance. */
export const ConsoleTransportPlugin = Plugin.define({
  name: pluginName,
  kind: "transport",
  config: ConsoleTransportConfig,
  make
})

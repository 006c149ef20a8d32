/**
 * The environment variables the runner reads (a config file's `${NAME}`s, `DATABASE_URL`), through
 * the ConfigProvider in context: the process environment unless an embedding application or a test
 * provides another (`ConfigProvider.fromEnvRecord({ ... })`). The `sluice` executable provides one
 * that keeps empty values, so `NAME=` substitutes an empty string as it always has.
 */
import { Config, ConfigProvider, Effect, type Layer, Option } from "effect"

/** Environment variables by name; an unset one is absent. */
export type Env = Readonly<Record<string, string | undefined>>

/** Reads the variables `names` (each once) from the ConfigProvider in context. */
export const readEnv = (names: Iterable<string>): Effect.Effect<Env> =>
  Effect.gen(function* () {
    const env: Record<string, string> = {}
    for (const name of new Set(names)) {
      const value = yield* Config.option(Config.String(name)).pipe(Effect.orElseSucceed(() => Option.none()))
      if (Option.isSome(value)) env[name] = value.value
    }
    return env
  })

/** The process environment, empty values kept (what the `sluice` executable runs with). */
export const processEnv: Layer.Layer<never> = ConfigProvider.layer(
  ConfigProvider.fromEnv({ preserveEmptyStrings: true })
)

/** The flags several `sluice` commands share. */
import { Flag, GlobalFlag } from "effect/cli"

export const config = Flag.String("config").pipe(
  Flag.withAlias("c"),
  Flag.withDescription("The config file (JSON, or a .ts/.js module exporting `config`)"),
  Flag.withDefault("sluice.json")
)
export const json = Flag.Boolean("json").pipe(
  Flag.withDescription("Print JSON instead of text"),
  Flag.withDefault(false)
)
export const route = Flag.String("route").pipe(Flag.withDescription("Only rows of this route"), Flag.optional)
export const logLevel = GlobalFlag.LogLevel
export const admin = Flag.String("admin").pipe(
  Flag.withDescription(
    "Ask a running `sluice run` through its admin API at this URL (e.g. http://127.0.0.1:9464) instead of opening the store; --config is then not read"
  ),
  Flag.optional
)
export const token = Flag.Redacted("token").pipe(
  Flag.withDescription(
    "The admin API's bearer token, with --admin (default: the SLUICE_ADMIN_TOKEN environment variable)"
  ),
  Flag.optional
)

/**
 * `NatsSourcePlugin`: the plugin value the runner loads (kind "source"), built with core's
 * `Plugin.define`. Connections go through the `NatsConnector` reference (@default TCP via
 * `@nats-io/transport-node`).
 */
import { Plugin } from "@sluice/core"
import { NatsSourceConfig } from "./Config.ts"
import { make } from "./NatsSource.ts"

/**
 * The NATS JetStream source plugin. `NatsSourcePlugin.layer(config, instance?)` decodes the config
 * (errors name each bad field) and registers the source in `Sources`; `make(config, instance)`
 * builds it from a decoded config, in the caller's scope (its connection lives as long).
 */
export const NatsSourcePlugin = Plugin.define({
  name: "@sluice/source-nats",
  kind: "source",
  config: NatsSourceConfig,
  make
})

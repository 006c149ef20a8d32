/**
 * example-transport: a Sluice transport plugin. The `sluice` runner loads this module (by package
 * name or by path) and uses the Plugin it exports; code can use it too, e.g.
 * `ExampleTransportPlugin.layer({ url: "https://example.com/hook" }, "hook")`.
 */
import { Plugin } from "@sluice/core"
import { ExampleTransportConfig, make } from "./ExampleTransport.ts"

/** The plugin: its package name, its kind, the Schema of its options and how to build an instance. */
export const ExampleTransportPlugin = Plugin.define({
  name: "example-transport",
  kind: "transport",
  config: ExampleTransportConfig,
  make
})

export { ExampleTransportConfig, make }

/**
 * example-source: a Sluice source plugin. The `sluice` runner loads this module (by package name
 * or by path) and uses the Plugin it exports; code can use it too, e.g.
 * `ExampleSourcePlugin.layer({ items: ["a", "b"] }, "things")`.
 */
import { Plugin } from "@sluice/core"
import { ExampleSourceConfig, make } from "./ExampleSource.ts"

/** The plugin: its package name, its kind, the Schema of its options and how to build an instance. */
export const ExampleSourcePlugin = Plugin.define({
  name: "example-source",
  kind: "source",
  config: ExampleSourceConfig,
  make
})

export { ExampleSourceConfig, make }

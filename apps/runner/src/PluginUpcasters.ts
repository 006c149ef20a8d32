/**
 * The upcasters of the plugins a config loads, as one registry (core's Upcasters): a source plugin
 * declares those of the event types its sources emit (`upcasters` in `Plugin.define`), and the
 * runner provides the registry to the relay (routes with `publish: "latest"`) and to the
 * projections it runs. Checked when the config is (`sluice validate`, `run`): an event type's
 * version may be upcast by one plugin only, so two plugins upcasting the same type from the same
 * version is a problem naming both; so is a type whose chain of versions has a gap. Several
 * instances of one plugin, or two plugins sharing the same upcaster objects (a replay plugin
 * re-exporting its live sibling's), register each upcaster once.
 */
import { InvalidSettingError, type Upcaster, Upcasters } from "@sluice/core"
import type { LoadedPlugin } from "./PluginLoader.ts"
import { formatPath, type Problem } from "./Problem.ts"

/** The resolved plugins of a config's `sources` and `transports` (undefined: did not resolve). */
export interface PluginEntries {
  readonly sources: ReadonlyArray<LoadedPlugin | undefined>
  readonly transports: ReadonlyArray<LoadedPlugin | undefined>
}

/** Who declares an upcaster: the plugin, and the config entry that loads it. */
interface Owner {
  readonly plugin: string
  readonly path: ReadonlyArray<PropertyKey>
}

const hint = "make upcasters with Upcaster.make or Upcaster.fromFunction"

/** Why `value` is not an Upcaster, or undefined when it is one. */
const shapeProblem = (value: unknown): string | undefined => {
  if (typeof value !== "object" || value === null) return "not an object"
  const { event_type, from, upcast } = value as Record<string, unknown>
  if (typeof event_type !== "string" || event_type === "") return "event_type: not a non-empty string"
  if (typeof from !== "number" || !Number.isSafeInteger(from) || from < 1) return "from: not an integer >= 1"
  if (typeof upcast !== "function") return "upcast: not a function"
  return undefined
}

const plural = (owners: ReadonlyArray<string>) =>
  owners.length === 1 ? `plugin ${owners[0]}` : `plugins ${owners.join(" and ")}`

/**
 * Checks the upcasters of every plugin of `entries` and builds their registry (empty when no plugin
 * declares any). Each problem is at the `plugin` field of the entry that loads the plugin.
 */
export const check = (
  entries: PluginEntries
): { readonly registry: Upcasters.Registry; readonly problems: ReadonlyArray<Problem> } => {
  const problems: Array<Problem> = []
  const owners = new Map<Upcaster.Upcaster, Owner>()
  const byVersion = new Map<string, { readonly upcaster: Upcaster.Upcaster; readonly owner: Owner }>()
  const fields = [
    ["sources", entries.sources],
    ["transports", entries.transports]
  ] as const
  for (const [field, plugins] of fields) {
    for (const [index, plugin] of plugins.entries()) {
      if (plugin?.upcasters === undefined) continue
      const owner: Owner = { plugin: plugin.name, path: [field, index, "plugin"] }
      const fail = (message: string) =>
        problems.push({ message: `plugin ${plugin.name}: ${message}`, path: owner.path })
      if (!Array.isArray(plugin.upcasters)) {
        fail(`upcasters: not an array (${hint})`)
        continue
      }
      for (const [at, value] of (plugin.upcasters as ReadonlyArray<unknown>).entries()) {
        const wrong = shapeProblem(value)
        if (wrong !== undefined) {
          fail(`upcasters[${at}]: ${wrong} (${hint})`)
          continue
        }
        const upcaster = value as Upcaster.Upcaster
        if (owners.has(upcaster)) continue // the same upcaster, from another instance or a sibling plugin
        owners.set(upcaster, owner)
        const key = `${upcaster.event_type}\u0000${upcaster.from}`
        const first = byVersion.get(key)
        if (first === undefined) {
          byVersion.set(key, { upcaster, owner })
          continue
        }
        const what = `${JSON.stringify(upcaster.event_type)} from version ${upcaster.from}`
        fail(
          first.owner.plugin === plugin.name
            ? `upcasts ${what} twice`
            : `upcasts ${what}, and so does plugin ${first.owner.plugin} (at ${formatPath(first.owner.path)}): an event type's versions belong to the plugin that emits it, so only one may upcast them`
        )
      }
    }
  }
  if (problems.length > 0) return { registry: Upcasters.make([]), problems }
  // Per type, so that a gap names the plugins whose upcasters of that type it is between.
  const byType = new Map<string, Array<{ readonly upcaster: Upcaster.Upcaster; readonly owner: Owner }>>()
  for (const entry of byVersion.values()) {
    const same = byType.get(entry.upcaster.event_type) ?? []
    same.push(entry)
    byType.set(entry.upcaster.event_type, same)
  }
  for (const same of byType.values()) {
    try {
      Upcasters.make(same.map((entry) => entry.upcaster))
    } catch (error) {
      if (!(error instanceof InvalidSettingError)) throw error
      const names = [...new Set(same.map((entry) => entry.owner.plugin))]
      problems.push({ message: `upcasters of ${plural(names)}: ${error.reason}`, path: same[0]!.owner.path })
    }
  }
  if (problems.length > 0) return { registry: Upcasters.make([]), problems }
  return { registry: Upcasters.make([...byVersion.values()].map((entry) => entry.upcaster)), problems }
}

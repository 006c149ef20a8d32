/**
 * The NAME of `sluice new plugin`: an npm package name, scoped or not, checked by the rules npm
 * applies to a new package, because the plugin is meant to be installed and loaded by that name.
 * The package's folder and its TypeScript identifiers are derived from it.
 */
import { builtinModules } from "node:module"
import { Data, Effect } from "effect"

/** A NAME that npm would not accept for a new package, with the rule it breaks. */
export class PluginNameError extends Data.TaggedError("PluginNameError")<{
  readonly name: string
  readonly reason: string
}> {
  override get message() {
    return `invalid plugin name ${JSON.stringify(this.name)}: ${this.reason} (e.g. my-transport or @acme/kafka-transport)`
  }
}

export interface PluginName {
  /** The npm package name, e.g. `@acme/kafka-transport`. */
  readonly name: string
  /** The folder the package is created in: the name's last segment, e.g. `kafka-transport`. */
  readonly folder: string
  /** The prefix of the package's exported names and its main file, e.g. `KafkaTransport`. */
  readonly identifier: string
}

/** Packages the plugin itself depends on: a plugin cannot take their names. */
const dependencies = new Set(["effect", "@sluice/core", "@effect/vitest", "vitest", "typescript", "@types/node"])

const segment = /^[a-z0-9._-]+$/

const problem = (name: string): string | undefined => {
  if (name === "") return "it is empty"
  if (name.length > 214) return `it has ${name.length} characters, npm allows 214`
  if (name.trim() !== name || /\s/.test(name)) return "it contains white space"
  if (name !== name.toLowerCase()) return "npm package names are lower case"
  const scoped = name.startsWith("@")
  if (!scoped && name.includes("/")) return "only a scoped name (@scope/name) has a '/'"
  const parts = scoped ? name.slice(1).split("/") : [name]
  if (scoped && (parts.length !== 2 || parts.some((part) => part === ""))) return "a scoped name is @scope/name"
  const bad = parts.find((part) => !segment.test(part))
  if (bad !== undefined) {
    const chars = [...new Set(bad.replace(/[a-z0-9._-]/g, ""))].join("")
    return `it contains ${JSON.stringify(chars)}: use letters a-z, digits, '-', '.' and '_'`
  }
  if (parts.some((part) => /^[._]/.test(part))) return "it starts with '.' or '_'"
  if (builtinModules.includes(name)) return "it is the name of a Node.js built-in module"
  if (name === "node_modules" || name === "favicon.ico") return "npm reserves it"
  if (dependencies.has(name)) return "the plugin depends on a package of that name"
  return undefined
}

/** `kafka-transport.v2` -> `KafkaTransportV2`; one starting with a digit gets a `Plugin` prefix. */
const identifierOf = (folder: string): string => {
  const words = folder.split(/[^a-z0-9]+/).filter((word) => word !== "")
  const joined = words.map((word) => word[0]!.toUpperCase() + word.slice(1)).join("")
  return /^[A-Z]/.test(joined) ? joined : `Plugin${joined}`
}

/** Checks `name` and derives its folder and identifier. */
export const parsePluginName = (name: string): Effect.Effect<PluginName, PluginNameError> => {
  const reason = problem(name)
  if (reason !== undefined) return Effect.fail(new PluginNameError({ name, reason }))
  const folder = name.slice(name.lastIndexOf("/") + 1)
  return Effect.succeed({ name, folder, identifier: identifierOf(folder) })
}

/**
 * `sluice config schema`: the JSON Schema (draft 2020-12) of the config file, generated from the
 * SluiceConfig Schema. For built-in plugins it adds `if plugin is X then options follow X's Schema`,
 * so editors autocomplete plugin options too.
 */
import { Schema } from "effect"
import { SluiceConfig } from "./Config.ts"
import { builtins } from "./PluginLoader.ts"

type Json = Record<string, unknown>

const documentOf = (schema: Schema.Top) =>
  Schema.toJsonSchemaDocument(schema, { onExcessProperty: "error", generateDescriptions: true })

/** `if plugin == name then options: schema` clauses for the built-in plugins of a kind. */
const pluginClauses = (kind: "source" | "transport" | "projection", defs: Json): Array<Json> =>
  [...builtins].flatMap(([name, plugin]) => {
    if (plugin.kind !== kind) return []
    const document = documentOf(plugin.schema)
    Object.assign(defs, document.definitions)
    return [
      {
        if: { properties: { plugin: { const: name } }, required: ["plugin"] },
        // biome-ignore lint/suspicious/noThenProperty: JSON Schema's conditional keyword; this object is data, never awaited.
        then: { properties: { options: document.schema } }
      }
    ]
  })

/** The JSON Schema document of the config file. */
export const configJsonSchema = (): Json => {
  const document = documentOf(SluiceConfig)
  const defs: Json = { ...document.definitions }
  const root = structuredClone(document.schema) as Json & { properties: Record<string, Json> }
  const items = (field: string) => root.properties[field]?.items as Json | undefined
  const sources = items("sources")
  const transports = items("transports")
  if (sources !== undefined) sources.allOf = pluginClauses("source", defs)
  if (transports !== undefined) transports.allOf = pluginClauses("transport", defs)
  const projections = items("projections")
  if (projections !== undefined) projections.allOf = pluginClauses("projection", defs)
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: "https://sluice.dev/schemas/sluice.schema.json",
    title: "Sluice runner config",
    ...root,
    ...(Object.keys(defs).length > 0 ? { $defs: defs } : {})
  }
}

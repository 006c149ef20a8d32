/**
 * Reading a config file: JSON (`.json`) or a TypeScript/JavaScript module exporting `config`
 * (`defineConfig`), `${ENV_VAR}` references replaced from the environment, then decoded with the
 * SluiceConfig Schema. Every failure is a ConfigFileError whose text names the field path.
 */
import { readFile } from "node:fs/promises"
import { dirname, resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { Data, Effect, Schema, SchemaIssue } from "effect"
import { SluiceConfig } from "./Config.ts"

/** The config file is missing, unreadable, not JSON, or invalid; `details` names each bad field. */
export class ConfigFileError extends Data.TaggedError("ConfigFileError")<{
  readonly file: string
  readonly details: string
}> {
  override get message() {
    return `invalid config ${this.file}:\n${this.details}`
  }
}

/** A decoded config and where it came from (relative plugin paths resolve against `dir`). */
export interface LoadedConfig {
  readonly file: string
  readonly dir: string
  readonly config: SluiceConfig
}

const formatIssue = SchemaIssue.makeFormatterDefault()

/** Formats a path the way Effect's formatter does: `["sources"][0]["options"]`. */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.map((key) => (typeof key === "number" ? `[${key}]` : `[${JSON.stringify(String(key))}]`)).join("")

/**
 * Formats a SchemaError's issue, every `at [...]` path prefixed with `prefix` (the field the
 * decoded value sits at); a root issue gets `at <prefix>`.
 */
export const formatIssueAt = (issue: SchemaIssue.Issue, prefix: ReadonlyArray<PropertyKey>): string => {
  const text = formatIssue(issue)
  if (prefix.length === 0) return text
  const at = formatPath(prefix)
  const lines = text.split("\n").map((line) => line.replace(/^(\s*)at (\[.*)$/, `$1at ${at}$2`))
  return lines.some((line) => /^\s*at /.test(line)) ? lines.join("\n") : `${lines.join("\n")}\n  at ${at}`
}

/**
 * Replaces `${NAME}` in every string of `value` with the environment variable NAME. An unset
 * variable is an error naming the field; `$${NAME}` keeps a literal `${NAME}`.
 */
export const substituteEnv = (
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  path: ReadonlyArray<PropertyKey> = [],
  problems: Array<string> = []
): { readonly value: unknown; readonly problems: ReadonlyArray<string> } => {
  const walk = (v: unknown, at: ReadonlyArray<PropertyKey>): unknown => {
    if (typeof v === "string") {
      return v.replace(/(\$?)\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, dollar: string, name: string) => {
        if (dollar === "$") return whole.slice(1)
        const found = env[name]
        if (found === undefined) {
          problems.push(`environment variable ${name} is not set\n  at ${formatPath(at)}`)
          return ""
        }
        return found
      })
    }
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...at, i]))
    if (v !== null && typeof v === "object") {
      return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item, [...at, k])]))
    }
    return v
  }
  return { value: walk(value, path), problems }
}

/** Decodes an already-parsed config object (after env substitution). */
export const decodeConfig = (
  file: string,
  raw: unknown,
  env: Readonly<Record<string, string | undefined>> = process.env
): Effect.Effect<SluiceConfig, ConfigFileError> =>
  Effect.gen(function* () {
    const substituted = substituteEnv(raw, env)
    if (substituted.problems.length > 0) {
      return yield* new ConfigFileError({ file, details: substituted.problems.join("\n") })
    }
    return yield* Schema.decodeUnknownEffect(SluiceConfig)(substituted.value, {
      errors: "all",
      onExcessProperty: "error"
    }).pipe(Effect.mapError((error) => new ConfigFileError({ file, details: formatIssue(error.issue) })))
  })

const readRaw = (file: string): Effect.Effect<unknown, ConfigFileError> => {
  if (/\.(m?[jt]s)$/.test(file)) {
    return Effect.tryPromise({
      try: () => import(pathToFileURL(file).href) as Promise<Record<string, unknown>>,
      catch: (cause) => new ConfigFileError({ file, details: `cannot load the module: ${String(cause)}` })
    }).pipe(
      Effect.flatMap((module) =>
        "config" in module
          ? Effect.succeed(module.config)
          : Effect.fail(new ConfigFileError({ file, details: "the module exports no `config` (use defineConfig)" }))
      )
    )
  }
  return Effect.tryPromise({
    try: () => readFile(file, "utf8"),
    catch: (cause) =>
      new ConfigFileError({ file, details: `cannot read the file: ${(cause as NodeJS.ErrnoException).code ?? cause}` })
  }).pipe(
    Effect.flatMap((text) =>
      Effect.try({
        try: () => JSON.parse(text) as unknown,
        catch: (cause) => new ConfigFileError({ file, details: `not valid JSON: ${(cause as Error).message}` })
      })
    )
  )
}

/** Reads, substitutes and decodes a config file. */
export const load = (
  file: string,
  env: Readonly<Record<string, string | undefined>> = process.env
): Effect.Effect<LoadedConfig, ConfigFileError> =>
  Effect.gen(function* () {
    const absolute = resolve(file)
    const raw = yield* readRaw(absolute)
    const config = yield* decodeConfig(file, raw, env)
    return { file, dir: dirname(absolute), config }
  })

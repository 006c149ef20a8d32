/**
 * Reading a config file: JSON (`.json`, `//` and `/* *\/` comments allowed) or a TypeScript/JavaScript
 * module exporting `config` (`defineConfig`), `${ENV_VAR}` references replaced from the environment,
 * then decoded with the SluiceConfig Schema. Every problem of the file is gathered in one pass (unset
 * variables, every bad field, the cross-field checks, the database URLs) into one ConfigFileError
 * whose lines name each field path. Relative paths in the file resolve against its folder.
 */
import { readFile } from "node:fs/promises"
import { dirname, resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { Data, Effect, Schema, type SchemaIssue } from "effect"
import { crossFieldIssues, SluiceConfig } from "./Config.ts"
import * as DatabaseUrl from "./DatabaseUrl.ts"
import { type Env, readEnv } from "./Environment.ts"
import { stripComments } from "./JsonComments.ts"
import { formatPath, formatProblem, issueProblems, type Problem } from "./Problem.ts"

export { formatPath, formatProblem, issueProblems, type Problem }

/** The config file is missing, unreadable, not JSON, or invalid; `details` names each bad field. */
export class ConfigFileError extends Data.TaggedError("ConfigFileError")<{
  readonly file: string
  readonly details: string
}> {
  override get message() {
    return `invalid config ${this.file}:\n${this.details}`
  }
}

/** A ConfigFileError listing `problems`, each once, in order. */
export const problemsError = (file: string, problems: ReadonlyArray<Problem>): ConfigFileError =>
  new ConfigFileError({ file, details: [...new Set(problems.map(formatProblem))].join("\n") })

/** A decoded config and where it came from: `dir` is the config file's folder. */
export interface LoadedConfig {
  readonly file: string
  readonly dir: string
  readonly config: SluiceConfig
}

/**
 * Formats a SchemaError's issue, every path prefixed with `prefix` (the field the decoded value
 * sits at): one `message\n  at [...]` per problem.
 */
export const formatIssueAt = (issue: SchemaIssue.Issue, prefix: ReadonlyArray<PropertyKey>): string =>
  issueProblems(issue, prefix).map(formatProblem).join("\n")

/**
 * Which parts of the file a command uses: `all` (run, validate) or `store` (the store, admin and
 * logging sections: the commands that publish nothing). An unset `${NAME}` in a part the command
 * does not use is left as written, not an error: `status` needs no webhook secret.
 */
export type Scope = "all" | "store"

const storeSections: ReadonlySet<PropertyKey> = new Set(["store", "admin", "logging"])

const reference = /(\$?)\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g

/** The names of the environment variables `value`'s strings refer to (`${NAME}`, not `$${NAME}`). */
export const envNames = (value: unknown): Set<string> => {
  const names = new Set<string>()
  const walk = (v: unknown): void => {
    if (typeof v === "string") {
      for (const [, dollar, name] of v.matchAll(reference)) if (dollar === "") names.add(name!)
    } else if (Array.isArray(v)) v.forEach(walk)
    else if (v !== null && typeof v === "object") Object.values(v).forEach(walk)
  }
  walk(value)
  return names
}

/**
 * Replaces `${NAME}` in every string of `value` with the environment variable NAME. An unset
 * variable is a problem at its field (unless `report` says that field is not used; it then stays
 * as written); `$${NAME}` keeps a literal `${NAME}`.
 */
export const substituteEnv = (
  value: unknown,
  env: Env,
  report: (path: ReadonlyArray<PropertyKey>) => boolean = () => true
): { readonly value: unknown; readonly problems: ReadonlyArray<Problem> } => {
  const problems: Array<Problem> = []
  const walk = (v: unknown, at: ReadonlyArray<PropertyKey>): unknown => {
    if (typeof v === "string") {
      return v.replace(reference, (whole, dollar: string, name: string) => {
        if (dollar === "$") return whole.slice(1)
        const found = env[name]
        if (found !== undefined) return found
        if (!report(at)) return whole
        problems.push({ message: `environment variable ${name} is not set`, path: at })
        return ""
      })
    }
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...at, i]))
    if (v !== null && typeof v === "object") {
      return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item, [...at, k])]))
    }
    return v
  }
  return { value: walk(value, []), problems }
}

const startsWith = (path: ReadonlyArray<PropertyKey>, prefix: ReadonlyArray<PropertyKey>) =>
  prefix.length <= path.length && prefix.every((key, i) => key === path[i])

/**
 * `problems` without those inside a field whose variable is unset (an emptied secret fails its
 * plugin's check too: that follows from the unset variable, which is reported).
 */
export const dropFollowing = (problems: ReadonlyArray<Problem>, unset: ReadonlyArray<Problem>): Array<Problem> =>
  problems.filter(
    (problem) =>
      unset.includes(problem) ||
      problem.path === undefined ||
      !unset.some((u) => u.path !== undefined && startsWith(problem.path!, u.path))
  )

const field = (value: unknown, key: string): unknown =>
  typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined

/** `store.url` when written, and `DATABASE_URL` when the driver would use it, must parse. */
const urlProblems = (value: unknown, env: Env): Array<Problem> => {
  const problems: Array<Problem> = []
  const store = field(value, "store")
  const url = field(store, "url")
  const inFile = typeof url === "string" ? DatabaseUrl.problemOf(url) : undefined
  if (inFile !== undefined) problems.push({ message: `store.url: ${inFile}`, path: ["store", "url"] })
  const driver = field(store, "driver")
  const fromEnv = env.DATABASE_URL
  if (driver !== "embedded" && driver !== "memory" && fromEnv !== undefined && fromEnv !== "") {
    const problem = DatabaseUrl.problemOf(fromEnv)
    if (problem !== undefined) problems.push({ message: `DATABASE_URL (environment): ${problem}` })
  }
  return problems
}

/** A config's problems in one pass, and its decoded value when the Schema accepts it. */
export interface Checked {
  /** The decoded config, when the Schema accepted it (there may still be URL problems). */
  readonly config: SluiceConfig | undefined
  /** The parsed file after `${NAME}` substitution (what plugin options are checked against). */
  readonly value: unknown
  /** Every problem found, unset variables first. */
  readonly problems: ReadonlyArray<Problem>
  /** The unset-variable problems (plugin checks drop what follows from them, see dropFollowing). */
  readonly unset: ReadonlyArray<Problem>
}

/**
 * Every problem of a parsed config: unset variables, every field the Schema refuses, the
 * cross-field checks (which the Schema only runs once every field decodes, so they run here on
 * the raw value too) and the database URLs. The variables are read with Environment.ts.
 */
export const checkConfig = (raw: unknown, scope: Scope = "all"): Effect.Effect<Checked> =>
  Effect.gen(function* () {
    const env = yield* readEnv([...envNames(raw), "DATABASE_URL"])
    const { value, problems: unset } = substituteEnv(raw, env, (path) =>
      scope === "all" ? true : path.length > 0 && storeSections.has(path[0]!)
    )
    const decoded = yield* Effect.result(
      Schema.decodeUnknownEffect(SluiceConfig)(value, { errors: "all", onExcessProperty: "error" })
    )
    const found: Array<Problem> = [...unset]
    if (decoded._tag === "Failure") {
      found.push(...issueProblems(decoded.failure.issue, []))
      found.push(...crossFieldIssues(value).map(({ path, issue }) => ({ message: issue, path })))
    }
    found.push(...urlProblems(value, env))
    return {
      config: decoded._tag === "Success" ? decoded.success : undefined,
      value,
      problems: dropFollowing(found, unset),
      unset
    }
  })

/** Decodes an already-parsed config object (after env substitution), failing with every problem. */
export const decodeConfig = (
  file: string,
  raw: unknown,
  scope: Scope = "all"
): Effect.Effect<SluiceConfig, ConfigFileError> =>
  Effect.gen(function* () {
    const checked = yield* checkConfig(raw, scope)
    if (checked.config === undefined || checked.problems.length > 0) {
      return yield* problemsError(file, checked.problems)
    }
    return checked.config
  })

/**
 * The config as loaded from `dir`: relative paths resolved against it (`store.dataDir` here;
 * plugin paths and plugins' `FilePath` options by PluginLoader, from `dir`).
 */
export const locate = (file: string, dir: string, config: SluiceConfig): LoadedConfig => ({
  file,
  dir,
  config: { ...config, store: { ...config.store, dataDir: resolve(dir, config.store.dataDir) } }
})

/** Reads and parses the file at `absolute` (`file` as the user gave it, for messages). */
export const readConfigFile = (file: string, absolute: string): Effect.Effect<unknown, ConfigFileError> => {
  if (/\.(m?[jt]s)$/.test(absolute)) {
    return Effect.tryPromise({
      try: () => import(pathToFileURL(absolute).href) as Promise<Record<string, unknown>>,
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
    try: () => readFile(absolute, "utf8"),
    catch: (cause) => {
      const code = (cause as NodeJS.ErrnoException).code
      const hint =
        code === "ENOENT"
          ? ` (no such file: ${absolute}; give the config file with --config FILE)`
          : code === "EISDIR"
            ? ` (${absolute} is a directory: give the config file in it, e.g. --config ${absolute}/sluice.json)`
            : code === "EACCES"
              ? ` (no permission to read ${absolute})`
              : ""
      return new ConfigFileError({ file, details: `cannot read the file: ${code ?? cause}${hint}` })
    }
  }).pipe(
    Effect.flatMap((text) =>
      Effect.try({
        // Some editors start UTF-8 files with a byte-order mark, which JSON.parse refuses.
        try: () => JSON.parse(stripComments(text.replace(/^\uFEFF/, ""))) as unknown,
        catch: (cause) => new ConfigFileError({ file, details: `not valid JSON: ${(cause as Error).message}` })
      })
    )
  )
}

/** Reads, substitutes and decodes a config file (`scope`: the parts the command uses). */
export const load = (file: string, scope: Scope = "all"): Effect.Effect<LoadedConfig, ConfigFileError> =>
  Effect.gen(function* () {
    const absolute = resolve(file)
    const raw = yield* readConfigFile(file, absolute)
    return locate(file, dirname(absolute), yield* decodeConfig(file, raw, scope))
  })

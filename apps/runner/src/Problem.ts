/**
 * One problem of a config: what is wrong and the field path it is at, printed as
 * `message\n  at ["sources"][0]["options"]["symbols"]`. Schema issues are flattened into one
 * problem per leaf, so problems from the file, the plugins and the environment list together.
 */
import { SchemaIssue } from "effect"

/** What is wrong, and where (no path for what is not in the file, e.g. an environment variable). */
export interface Problem {
  readonly message: string
  readonly path?: ReadonlyArray<PropertyKey>
}

/** Formats a path the way Effect's formatter does: `["sources"][0]["options"]`. */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.map((key) => (typeof key === "number" ? `[${key}]` : `[${JSON.stringify(String(key))}]`)).join("")

/** `message`, then `  at <path>` on its own line when there is a path. */
export const formatProblem = (problem: Problem): string =>
  problem.path === undefined || problem.path.length === 0
    ? problem.message
    : `${problem.message}\n  at ${formatPath(problem.path)}`

const leaves = SchemaIssue.makeFormatterStandardSchemaV1()

/** One problem per leaf of a Schema issue, each path prefixed with `prefix` (where the value sits). */
export const issueProblems = (issue: SchemaIssue.Issue, prefix: ReadonlyArray<PropertyKey>): Array<Problem> =>
  leaves(issue).issues.map((leaf) => ({
    message: leaf.message,
    path: [...prefix, ...(leaf.path ?? []).map((key) => (typeof key === "object" ? key.key : key))]
  }))

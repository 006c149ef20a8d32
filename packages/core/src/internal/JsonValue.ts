/**
 * Where a value stops being JSON, for messages: Effect's `Schema.Json` refuses a payload holding NaN,
 * `undefined` or a Date with "Expected JSON value" at the payload itself, and the field that holds
 * it is left for the user to find. Only run once a payload is known to be refused.
 */
import { formatPath } from "../StorableText.ts"

// Deeper than any payload a database would take; the schema refuses it anyway.
const MAX_DEPTH = 64

/** What a value that is not JSON is, as a message shows it. */
const describe = (value: unknown): string => {
  if (typeof value === "number") return String(value)
  if (typeof value === "bigint") return `the bigint ${value}n`
  if (typeof value === "function") return "a function"
  if (typeof value === "symbol") return "a symbol"
  if (value === undefined) return "undefined"
  const name = (Object.getPrototypeOf(value) as { readonly constructor?: { readonly name?: string } } | null)
    ?.constructor?.name
  return name === undefined || name === "" ? "an object that is not a plain object" : `a ${name}`
}

/** The path (from `value`) and description of the first part of `value` that is not JSON, if any. */
export const nonJsonValue = (
  value: unknown
): { readonly path: ReadonlyArray<PropertyKey>; readonly got: string } | undefined => {
  const path: Array<PropertyKey> = []
  const seen = new Set<object>()
  const visit = (node: unknown, depth: number): string | undefined => {
    if (node === null || typeof node === "boolean" || typeof node === "string") return undefined
    if (typeof node === "number") return Number.isFinite(node) ? undefined : describe(node)
    if (typeof node !== "object") return describe(node)
    if (seen.has(node)) return "a cycle (a value that contains itself)"
    if (depth >= MAX_DEPTH) return `a value nested deeper than ${MAX_DEPTH} levels`
    const prototype = Object.getPrototypeOf(node)
    if (!Array.isArray(node) && prototype !== null && prototype !== Object.prototype) return describe(node)
    seen.add(node)
    const keys: ReadonlyArray<PropertyKey> = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node)
    // A hole in an array reads as undefined, which is not JSON either.
    const length = Array.isArray(node) ? node.length : keys.length
    for (let i = 0; i < length; i++) {
      const key = Array.isArray(node) ? i : keys[i]!
      path.push(key)
      const got = visit((node as Record<PropertyKey, unknown>)[key], depth + 1)
      if (got !== undefined) return got
      path.pop()
    }
    seen.delete(node)
    return undefined
  }
  const got = visit(value, 0)
  return got === undefined ? undefined : { path: [...path], got }
}

/** A schema-style message for a payload that is not JSON, naming the field, or undefined. */
export const nonJsonPayloadProblem = (payload: unknown): string | undefined => {
  const found = nonJsonValue(payload)
  return found === undefined
    ? undefined
    : `Expected a JSON value, got ${found.got} at ${formatPath(["payload", ...found.path])}`
}

/**
 * Where a value stops being JSON, for messages: Effect's `Schema.Json` refuses a payload holding NaN,
 * `undefined` or a Date with "Expected JSON value" at the payload itself, and the field that holds
 * it is left for the user to find. The schema decides what is refused; this only names the path,
 * after it refused the payload as a whole (`sharpenPayloadReason`).
 */
import { formatPath } from "../StorableText.ts"

const article = (word: string): string => (/^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`)

/** What a value that is not JSON is, as a message shows it. */
const describe = (value: unknown): string => {
  if (typeof value === "number") return String(value)
  if (typeof value === "bigint") return `the bigint ${value}n`
  if (typeof value === "function") return "a function"
  if (typeof value === "symbol") return "a symbol"
  if (value === undefined) return "undefined"
  const name = (Object.getPrototypeOf(value) as { readonly constructor?: { readonly name?: string } } | null)
    ?.constructor?.name
  return name === undefined || name === "" ? "an object that is not a plain object" : article(name)
}

/** A plain object, of this realm or another (as `Schema.Json` takes it), or one without a prototype. */
const isPlainObject = (value: object): boolean => {
  const prototype = Object.getPrototypeOf(value)
  return prototype === null || Object.getPrototypeOf(prototype) === null
}

/** The path (from `value`) and description of the first part of `value` that is not JSON, if any. */
export const nonJsonValue = (
  value: unknown
): { readonly path: ReadonlyArray<PropertyKey>; readonly got: string } | undefined => {
  const path: Array<PropertyKey> = []
  const seen = new Set<object>()
  const visitChild = (key: PropertyKey, child: unknown): string | undefined => {
    path.push(key)
    const got = visit(child)
    if (got === undefined) path.pop()
    return got
  }
  const visit = (node: unknown): string | undefined => {
    if (node === null || typeof node === "boolean" || typeof node === "string") return undefined
    if (typeof node === "number") return Number.isFinite(node) ? undefined : describe(node)
    if (typeof node !== "object") return describe(node)
    if (seen.has(node)) return "a cycle (a value that contains itself)"
    if (!Array.isArray(node) && !isPlainObject(node)) return describe(node)
    seen.add(node)
    let got: string | undefined
    if (Array.isArray(node)) {
      // A hole reads as undefined, which is not JSON either.
      for (let i = 0; got === undefined && i < node.length; i++) got = visitChild(i, node[i])
    } else {
      for (const key of Object.keys(node)) {
        got = visitChild(key, (node as Record<string, unknown>)[key])
        if (got !== undefined) break
      }
    }
    seen.delete(node)
    return got
  }
  try {
    const got = visit(value)
    return got === undefined ? undefined : { path: [...path], got }
  } catch {
    // Nested too deep for the stack: the schema's own reason stands.
    return undefined
  }
}

const wholePayload = `at ${formatPath(["payload"])}`

/**
 * The schema's reason for refusing an event, with the field named when the schema blamed the payload
 * as a whole for not being JSON: "Expected a JSON value, got NaN at ["payload"]["amount"]".
 */
export const sharpenPayloadReason = (reason: string, payload: unknown): string => {
  if (!reason.endsWith(wholePayload)) return reason
  const found = nonJsonValue(payload)
  return found === undefined
    ? reason
    : `Expected a JSON value, got ${found.got} at ${formatPath(["payload", ...found.path])}`
}

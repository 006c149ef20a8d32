/**
 * Lenient readers for fields of Yahoo's JSON: a field that is absent or null reads as `null`; a
 * field that is present with the wrong type also reads as `null` and adds an issue naming it, so an
 * odd optional field never costs the whole quote or bar.
 */
import { DateTime } from "effect"

export type JsonObject = { readonly [key: string]: unknown }

export const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** JSON.stringify, shortened for messages. */
export const show = (value: unknown): string => {
  const text = value === undefined ? "undefined" : JSON.stringify(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

/** An optional finite number. */
export const optionalNumber = (obj: JsonObject, key: string, where: string, issues: Array<string>): number | null => {
  const value = obj[key]
  if (value === undefined || value === null) return null
  if (typeof value === "number" && Number.isFinite(value)) return value
  issues.push(`${where}: field ${key} should be a finite number but is ${show(value)}; recorded as null`)
  return null
}

/** An optional non-empty string. */
export const optionalString = (obj: JsonObject, key: string, where: string, issues: Array<string>): string | null => {
  const value = obj[key]
  if (value === undefined || value === null) return null
  if (typeof value === "string" && value.length > 0) return value
  issues.push(`${where}: field ${key} should be a non-empty string but is ${show(value)}; recorded as null`)
  return null
}

/**
 * Epoch seconds (Yahoo's time format) to a UTC DateTime, or a reason it is not one. Accepts
 * integer seconds between 1970 and 2200.
 */
export const fromEpochSeconds = (value: unknown): DateTime.Utc | string => {
  if (value === undefined || value === null) return "is missing"
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0 || value > 7_258_118_400) {
    return `should be epoch seconds but is ${show(value)}`
  }
  return DateTime.makeUnsafe(value * 1000)
}

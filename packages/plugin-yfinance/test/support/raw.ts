/** Test support: raw payloads made from fixture bodies. */

import type { RawPayload } from "@sluice/core"
import { makeRaw } from "@sluice/core/testing"
import { DateTime, Effect } from "effect"
import { bodyOf } from "./recordings.ts"

/** Long after every fixture's bars: they are all closed. */
export const LATER = DateTime.makeUnsafe(Date.UTC(2026, 0, 2, 3, 4, 6))

/** A raw payload holding a fixture's body, as the connector would have stored it. */
export const rawOf = (
  name: string,
  options: { readonly request?: RawPayload["request"]; readonly receivedAt?: DateTime.Utc } = {}
): Effect.Effect<RawPayload> =>
  Effect.map(makeRaw(bodyOf(name), "yf"), (raw) => ({
    ...raw,
    request: options.request ?? null,
    received_at: options.receivedAt ?? LATER
  }))

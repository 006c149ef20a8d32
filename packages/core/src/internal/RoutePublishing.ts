/**
 * What a relay route publishes (Route's `publish`): its events as stored, or upcast to their latest
 * version.
 */
import { Result } from "effect"
import type { Route } from "../Routing.ts"
import { type Envelope, type PublishOutcome, permanent } from "../Transport.ts"
import type { Registry } from "../Upcasters.ts"

/**
 * A route's envelopes as it publishes them: as claimed (`publish: "stored"`, the default), or with
 * each event upcast to its latest version (`"latest"`). A row an upcaster fails on is not published:
 * its outcome is permanent (dead-lettered at once, naming the event, its type and the versions),
 * since retrying the same stored payload with the same upcaster fails the same way. Once the
 * upcaster is fixed, `sluice dlq replay` sends it again.
 */
export const forPublishing = (upcasters: Registry, route: Route, envelopes: ReadonlyArray<Envelope>) => {
  const failed: Array<{ readonly envelope: Envelope; readonly outcome: PublishOutcome }> = []
  if (upcasters.isEmpty || route.publish !== "latest") return { ready: envelopes, failed }
  const ready: Array<Envelope> = []
  for (const envelope of envelopes) {
    const result = upcasters.upcast(envelope.event)
    if (Result.isSuccess(result))
      ready.push(result.success === envelope.event ? envelope : { ...envelope, event: result.success })
    else failed.push({ envelope, outcome: permanent(`upcast failed: ${result.failure.message}`) })
  }
  return { ready, failed }
}

/**
 * The hint a newcomer without internet needs: the live quickstart cannot reach Yahoo, and the
 * offline one replays recorded responses. Logged once per source instance, at the first failure
 * that got no HTTP answer at all (DNS, refused connection, timeout), never for Yahoo's own 4xx/5xx;
 * later failures are still logged by the ingest loop, without the hint.
 */
import { Effect } from "effect"

/** The hint, for a failure described by `detail` (e.g. `fetch failed: getaddrinfo ENOTFOUND ...`). */
export const offlineHint = (detail: string): string =>
  `Yahoo Finance is unreachable (${detail}). No network? The offline quickstart replays recorded responses: ` +
  "bin/start examples/quickstart-offline.json (in the Sluice repository)"

/** Returns an effect that logs the hint for the first `detail` it is given, and nothing after that. */
export const makeOfflineHint = (): ((detail: string) => Effect.Effect<void>) => {
  let said = false
  return (detail) =>
    Effect.suspend(() => {
      if (said) return Effect.void
      said = true
      return Effect.logWarning(offlineHint(detail))
    })
}

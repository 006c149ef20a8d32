/**
 * The hint a newcomer without internet needs: Yahoo cannot be reached, and the replay plugin
 * (`@sluice/plugin-yfinance/replay`) answers from recorded responses instead. Logged once per source
 * instance, at the first failure that got no HTTP answer at all (DNS, refused connection, timeout),
 * never for Yahoo's own 4xx/5xx; later failures are still logged by the ingest loop, without the hint.
 *
 * Where the hint points depends on where this plugin runs from. From the Sluice repository's
 * sources (a checkout, where the workspace runs `src/*.ts`), `bin/start examples/quickstart-offline.json`
 * runs the offline quickstart. Installed from a registry (`dist/`, in `node_modules`), that command
 * does not exist: the hint names the replay plugin and its documentation. Told apart by this module's
 * own URL, so the main entry still needs no file system.
 */
import { Effect } from "effect"

/** The replay plugin's documentation (the package README, as the repository shows it). */
export const replayDocs =
  "https://github.com/sluice-dev/sluice/tree/main/packages/plugin-yfinance#offline-the-replay-plugin"

/** Whether the module at `moduleUrl` is this package's source in a checkout of the Sluice repository. */
export const runsFromCheckout = (moduleUrl: string): boolean =>
  /\/packages\/plugin-yfinance\/src\/[^/]+\.ts$/.test(moduleUrl) && !moduleUrl.includes("/node_modules/")

/** Where the hint points: the repository's offline quickstart, or the installed replay plugin. */
export type HintTarget = "checkout" | "installed"

const target: HintTarget = runsFromCheckout(import.meta.url) ? "checkout" : "installed"

/** The hint, for a failure described by `detail` (e.g. `fetch failed: getaddrinfo ENOTFOUND ...`). */
export const offlineHint = (detail: string, where: HintTarget = target): string =>
  `Yahoo Finance is unreachable (${detail}). No network? ` +
  (where === "checkout"
    ? "The offline quickstart replays recorded responses: bin/start examples/quickstart-offline.json (in the Sluice repository)"
    : 'The replay plugin answers from recorded responses: give this source "plugin": "@sluice/plugin-yfinance/replay" ' +
      '(the same options; "recordings" may name a directory of your own; the shipped ones answer the quotes of "symbols": ["AAPL", "BABA"] ' +
      `and daily bars of AAPL, BTC-USD, EURUSD=X and GC=F from 2020-01-01 to 2020-01-03), see ${replayDocs}`)

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

/**
 * The push handler end to end under `Deno.serve` (runtime-tests/shared/pushEndToEnd.ts). Collected
 * by runtime-tests/deno/vitest.config.ts only: the file name ends in `.deno.test.ts`.
 */
import { pushEndToEnd, type Serve } from "../shared/pushEndToEnd.ts"

/** The part of Deno's API used here (no Deno types in this Node-typed project). */
interface DenoServe {
  readonly serve: (
    options: { port: number; hostname: string; onListen: (addr: { port: number }) => void },
    handler: (request: Request) => Promise<Response>
  ) => { readonly finished: Promise<void>; shutdown: () => Promise<void> }
}
const deno = (globalThis as { Deno?: DenoServe }).Deno
if (deno === undefined)
  throw new Error("push.deno.integration.test.ts runs under Deno only (runtime-tests/deno/vitest.config.ts)")

const serve: Serve = (fetch) =>
  new Promise((resolve) => {
    const server = deno.serve(
      {
        port: 0,
        hostname: "127.0.0.1",
        onListen: ({ port }) => resolve({ url: `http://127.0.0.1:${port}/`, close: () => server.shutdown() })
      },
      fetch
    )
  })

pushEndToEnd("Deno.serve", serve)

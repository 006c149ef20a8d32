/**
 * `pnpm bench` entry point. The bench lives in packages/store-postgres/bench (where its drivers
 * resolve and `tsc -b` checks it); this file runs it and keeps results in bench/results/ (git-ignored).
 * Environment: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), BENCH_RUNS (default 3),
 * BENCH_WARMUP (discarded runs per side first, default 1), BENCH_SCALE (default 1: multiplies every
 * row's event count), BENCH_ONLY (see main.ts), BENCH_RSS_SETTLE (seconds before idle RSS is read,
 * default 30). `--only X` is BENCH_ONLY=X: `pnpm bench --only rss` measures only the runner's memory,
 * `pnpm bench --only peers` only the relay against graphile-worker and pg-boss, `pnpm bench --only nats`
 * the NATS JetStream rows (the local server at NATS_URL, default nats://127.0.0.1:4222): `--only
 * nats-relay` only those publishing into JetStream, `--only nats-source` only the source's ingest.
 */
import { parseArgs } from "node:util"

const { values } = parseArgs({ options: { only: { type: "string" } } })
if (values.only !== undefined) process.env.BENCH_ONLY = values.only
// Imported after BENCH_ONLY is set: main.ts reads it when it loads.
const { main } = await import("../packages/store-postgres/bench/main.ts")

await main(new URL("./results/", import.meta.url).pathname)
process.exit(0)

/** Every chaos scenario, in the order `pnpm chaos` runs them. */
import type { Scenario } from "../lib/scenario.ts"
import { drain } from "./drain.ts"
import { faultMix } from "./faultMix.ts"
import { halfOpen } from "./halfOpen.ts"
import { natsCluster } from "./natsCluster.ts"
import { crash, restart } from "./restart.ts"
import { rollbacks } from "./rollbacks.ts"
import { sigkill } from "./sigkill.ts"
import { sigstop } from "./sigstop.ts"
import { terminate } from "./terminate.ts"

export const scenarios: ReadonlyArray<Scenario> = [
  sigkill,
  sigstop,
  faultMix,
  rollbacks,
  drain,
  terminate,
  restart,
  crash,
  halfOpen,
  natsCluster
]

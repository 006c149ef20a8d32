import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"

const nc = await connect({ servers: "nats://127.0.0.1:4222" })
const jsm = await jetstreamManager(nc)
const name = `p_${process.pid}`
await jsm.streams.add({ name, subjects: [`${name}.>`] })
const js = jetstream(nc)
for (let i = 0; i < 5; i++) await js.publish(`${name}.${i}`, "{}")
await jsm.consumers.add(name, { durable_name: "d", ack_policy: AckPolicy.Explicit })
const c = await js.consumers.get(name, "d")
const it = await c.fetch({ max_messages: 256, expires: 30000 })
const held = []
for await (const m of it) {
  held.push(m)
  if (held.length === 5) break
}
const show = async (w: string) => {
  const i = await jsm.consumers.info(name, "d")
  console.log(w, i.num_ack_pending, i.num_pending, i.num_redelivered, i.num_waiting, i.delivered.consumer_seq)
}
await show("held")
it.stop()
await nc.flush()
await show("stopped")
for (const m of held) m.nak()
await nc.flush()
await new Promise((r) => setTimeout(r, 300))
await show("naked")
const nc2 = await connect({ servers: "nats://127.0.0.1:4222" })
const c2 = await jetstream(nc2).consumers.get(name, "d")
const it2 = await c2.fetch({ max_messages: 5, expires: 3000 })
let n = 0
for await (const m of it2) {
  n++
  m.ack()
}
console.log("second got", n)
await jsm.streams.delete(name)
await nc.close()
await nc2.close()

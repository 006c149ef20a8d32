/**
 * The root README's push example, as written: the offline quickstart (copied with its ports 0)
 * answers the README's curl request (its headers and body, sent to the bound URL) with the stored
 * event's id, prints the event through `pushed-to-console`, and answers the same request again as
 * a redelivery with the same id.
 */
import { readFileSync } from "node:fs"
import { afterAll, describe, expect, it } from "vitest"
import { exampleConfig, removeTempDirs } from "./support/config.ts"
import { envWithout, eventually, killedAfterEach, pushUrl, start } from "./support/sluice.ts"

const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8")

/** The README's curl command: its URL, headers and body. */
const curlExample = () => {
  const command = /curl -s (\S+) ((?:.|\n)*?)\n\s*```/.exec(readme)
  if (command === null) throw new Error("no curl example in README.md")
  const args = command[2]!
  const headers = Object.fromEntries(
    [...args.matchAll(/-H '([^:']+): ([^']*)'/g)].map((m) => [m[1]!.toLowerCase(), m[2]!])
  )
  const body = /-d '([^']*)'/.exec(args)?.[1]
  if (body === undefined) throw new Error("no body in the README's curl example")
  return { url: command[1]!, headers, body }
}

const started = killedAfterEach()
afterAll(removeTempDirs)

describe("the offline quickstart's push source", () => {
  it("stores the README's curl example once and prints it", async () => {
    const example = curlExample()
    expect(example.url).toBe("http://127.0.0.1:9466/events")
    const { file } = exampleConfig("quickstart-offline.json")
    const sluice = start(["run", "--config", file], { env: envWithout() })
    started.push(sluice)
    const url = await pushUrl(sluice, "inbox")
    expect(new URL(url).pathname).toBe(new URL(example.url).pathname)
    const send = async () => {
      const response = await fetch(url, { method: "POST", headers: example.headers, body: example.body })
      return {
        status: response.status,
        body: (await response.json()) as { event_ids: Array<string>; redelivery: boolean }
      }
    }
    const first = await send()
    expect(first.status).toBe(200)
    expect(first.body.redelivery).toBe(false)
    expect(first.body.event_ids).toHaveLength(1)
    await eventually("the pushed event on stdout", () =>
      sluice.stdout.some((line) => line.includes('"pushed-to-console"') && line.includes(first.body.event_ids[0]!))
    )
    const again = await send()
    expect(again.body).toMatchObject({ redelivery: true, event_ids: first.body.event_ids })
    sluice.child.kill("SIGTERM")
    expect(await sluice.exited).toEqual({ code: 0, signal: null })
    expect(sluice.stdout.filter((line) => line.includes('"pushed-to-console"'))).toHaveLength(1)
  }, 240_000)
})

import { assert, describe, it } from "@effect/vitest"
import { makeEvent, TransportContract } from "@sluice/core/testing"
import { defaultSubjects } from "../src/StreamSetup.ts"
import { type Part, parse, render } from "../src/SubjectTemplate.ts"

const partsOf = (template: string): ReadonlyArray<Part> => {
  const parsed = parse(template)
  if ("problem" in parsed) throw new Error(parsed.problem)
  return parsed.parts
}
const problemOf = (template: string) => {
  const parsed = parse(template)
  return "problem" in parsed ? parsed.problem : undefined
}

describe("subject templates", () => {
  it("fill topic, event type and entity type; a value with dots spans several tokens", () => {
    const event = makeEvent({ event_type: "order.placed", entity_type: "order" })
    const envelope = TransportContract.envelope(event, "r1", "eu.orders")
    assert.deepStrictEqual(render(partsOf("sluice.{topic}.{entity_type}.{event_type}"), envelope), {
      subject: "sluice.eu.orders.order.order.placed"
    })
    assert.deepStrictEqual(render(partsOf("fixed.subject"), envelope), { subject: "fixed.subject" })
  })

  it("reject at config time what can never make a valid subject, saying what", () => {
    assert.include(problemOf("sluice.{topik}"), "unknown placeholder {topik}")
    assert.include(problemOf("sluice.{topic"), 'unclosed "{"')
    assert.include(problemOf("sluice.topic}"), 'unmatched "}"')
    assert.include(problemOf("sluice..{topic}"), "empty token")
    assert.include(problemOf(".{topic}"), "empty token")
    assert.include(problemOf("sluice.{topic}."), "empty token")
    assert.include(problemOf("sluice.*.{topic}"), "wildcard")
    assert.include(problemOf("sluice.{topic}.>"), "wildcard")
    assert.include(problemOf("sluice {topic}"), "whitespace")
    assert.include(problemOf(""), "empty")
    assert.isUndefined(problemOf("{topic}"))
  })

  it("make an invalid value a problem naming the subject", () => {
    const parts = partsOf("sluice.{topic}")
    for (const [topic, why] of [
      ["two words", "whitespace"],
      ["a\nb", "control"],
      ["a.*", "wildcard"],
      ["a>", "wildcard"],
      ["a..b", "empty token"],
      [".a", "empty token"],
      ["", "empty token"]
    ] as const) {
      const rendered = render(parts, TransportContract.envelope(makeEvent(), "r1", topic))
      assert.isTrue("problem" in rendered, topic)
      if ("problem" in rendered) {
        assert.include(rendered.problem, JSON.stringify(`sluice.${topic}`))
        assert.include(rendered.problem, why)
      }
    }
  })

  it("give a stream's default subjects: the literal start, then >", () => {
    assert.deepStrictEqual(defaultSubjects(partsOf("sluice.{topic}.{event_type}")), ["sluice.>"])
    assert.deepStrictEqual(defaultSubjects(partsOf("a.b.x{topic}")), ["a.b.>"])
    assert.deepStrictEqual(defaultSubjects(partsOf("fixed.subject")), ["fixed.subject"])
    assert.isUndefined(defaultSubjects(partsOf("{topic}.x")))
  })
})

/**
 * OpenTelemetry export (`telemetry.otlp` in the config): traces and metrics over OTLP/HTTP (JSON)
 * with Effect's own OtlpTracer and OtlpMetrics, to a collector at `endpoint` (`/v1/traces`,
 * `/v1/metrics`). With it, the relay records a span per event and attempt, so each event's trace
 * holds its ingest, every relay attempt and the transport's request (core's EventTrace.ts).
 */
import { DurationText, EventTrace, toDuration } from "@sluice/core"
import { Effect, Layer, Redacted, Schema } from "effect"
import { FetchHttpClient } from "effect/http"
import { OtlpMetrics, OtlpSerialization, OtlpTracer } from "effect/observability"
import { version } from "./Version.ts"

const withDefault =
  <S extends Schema.Top>(value: S["Encoded"]) =>
  (self: S) =>
    self.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)))

const HttpUrl = Schema.String.pipe(
  Schema.check(
    Schema.makeFilter((url: string) => {
      try {
        const { protocol } = new URL(url)
        return protocol === "http:" || protocol === "https:" ? undefined : `expected an http(s) URL, got ${protocol}`
      } catch {
        return "expected an http(s) URL"
      }
    })
  )
)

/** Where and how to export. */
export const OtlpConfig = Schema.Struct({
  /** The collector's OTLP/HTTP base URL, e.g. `http://127.0.0.1:4318` (`/v1/traces` and `/v1/metrics` are appended). */
  endpoint: HttpUrl,
  /** Headers sent with every export, e.g. an API key: values kept Redacted (use `${ENV}` references). @default {} */
  headers: Schema.Record(Schema.String, Schema.RedactedFromValue(Schema.String)).pipe(withDefault({})),
  /** The `service.name` resource attribute. @default "sluice" */
  serviceName: Schema.String.pipe(Schema.check(Schema.isNonEmpty()), withDefault("sluice")),
  /** How often spans and metrics are sent (and at shutdown). @default "5 seconds" */
  exportInterval: DurationText.pipe(withDefault("5 seconds"))
})

export const TelemetryConfig = Schema.Struct({
  /** OTLP/HTTP export of traces and metrics. @default none (nothing exported) */
  otlp: Schema.optionalKey(OtlpConfig)
})
export type TelemetryConfig = typeof TelemetryConfig.Type

/** The tracer, the metrics exporter and per-event relay spans, when `otlp` is set; nothing otherwise. */
export const layer = (config: TelemetryConfig) => {
  const otlp = config.otlp
  if (otlp === undefined) return Layer.empty
  const base = otlp.endpoint.replace(/\/+$/, "")
  const headers = Object.fromEntries(Object.entries(otlp.headers).map(([name, value]) => [name, Redacted.value(value)]))
  const resource = { serviceName: otlp.serviceName, serviceVersion: version }
  const exportInterval = toDuration(otlp.exportInterval)
  return Layer.mergeAll(
    OtlpTracer.layer({ url: `${base}/v1/traces`, resource, headers, exportInterval }),
    OtlpMetrics.layer({ url: `${base}/v1/metrics`, resource, headers, exportInterval }),
    Layer.succeed(EventTrace.TraceEvents, true)
  ).pipe(Layer.provide(OtlpSerialization.layerJson), Layer.provide(FetchHttpClient.layer))
}

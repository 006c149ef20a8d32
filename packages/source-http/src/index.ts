/**
 * `@sluice/source-http`: push sources. A Web-standard `(Request) => Promise<Response>` handler that
 * stores each request's body and its events in one transaction before answering, with Standard
 * Webhooks or bearer verification, idempotency on the delivery id and bounded reading.
 */

export { whsecKey } from "@sluice/core"
export * from "./Answers.ts"
export { DraftJson, deliveryIdOf, pointer, transformer, withDeliveryKeys } from "./GenericJson.ts"
export * from "./PushConfig.ts"
export * from "./PushEndpoints.ts"
export * from "./PushHandler.ts"
export { toHttpEffect } from "./PushHttpApp.ts"
export * from "./PushPlugin.ts"
export { InvalidSecretError, makeVerifier, signaturesOf, type Verifier } from "./Verification.ts"

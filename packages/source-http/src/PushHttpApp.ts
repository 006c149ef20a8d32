/**
 * The push handler as an Effect `effect/http` app, for code that already serves an `HttpRouter`
 * (`HttpRouter.add("POST", path, toHttpEffect(handler))`): the request is handed over as a Web
 * `Request` and the answer comes back as is. The route's path must be the handler's `path`.
 */
import { Effect } from "effect"
import { HttpServerRequest, HttpServerResponse } from "effect/http"
import type { PushHandler } from "./PushHandler.ts"

/** `handler` as an HTTP app: every outcome is a response (a request that cannot be read: 400). */
export const toHttpEffect = (
  handler: PushHandler
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest> =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const web = yield* Effect.result(HttpServerRequest.toWeb(request))
    if (web._tag === "Failure")
      return HttpServerResponse.jsonUnsafe({ error: "bad_request", reason: web.failure.message }, { status: 400 })
    return HttpServerResponse.fromWeb(yield* handler.handle(web.success))
  })

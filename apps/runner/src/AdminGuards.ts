/**
 * The admin API's request checks, applied before any handler: the `Host` header (DNS rebinding),
 * the `Origin` header (cross-site requests from a web page), the bearer token, the content type
 * of mutating requests and the body size. Each check answers `undefined` (pass) or the response
 * that refuses the request, always JSON `{"error": ...}` saying what to change.
 */
import { Redacted, Result } from "effect"
import { Mac } from "effect/crypto"
import { type HttpServerRequest, HttpServerResponse } from "effect/http"
import { NetAddress } from "effect/net"

/** Largest request body accepted (bytes); the admin API's bodies are a few hundred bytes. */
export const maxBodyBytes = 64 * 1024

/** A JSON error answer. */
export const error = (status: number, message: string, headers: Record<string, string> = {}) =>
  HttpServerResponse.jsonUnsafe({ error: message }, { status, headers })

/** A refusal of a body that is too large; the connection closes so the rest is not read. */
export const tooLarge = () => error(413, `request body larger than ${maxBodyBytes} bytes`, { connection: "close" })

/** Which `Host` headers the server answers. */
export interface HostRule {
  /** Exact `host[:port]` values, lower case. */
  readonly exact: ReadonlySet<string>
  /** Bound to every address (0.0.0.0, ::): also any IP literal with the bound port. */
  readonly anyIpOnPort: number | undefined
}

/** 4 or 6 for an IP literal (an IPv6 one with or without a zone), else 0: node:net's isIP, platform-neutral. */
const isIP = (name: string): 0 | 4 | 6 =>
  Result.isSuccess(NetAddress.ipv4FromString(name))
    ? 4
    : Result.isSuccess(NetAddress.ipv6FromString(name)) ||
        Result.isSuccess(NetAddress.scopedIpv6LiteralFromString(name))
      ? 6
      : 0

const utf8 = new TextEncoder()

const hostPort = (host: string, port: number) => {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host
  const name = isIP(bare) === 6 ? `[${bare}]` : bare
  // Clients leave out the default port (http://127.0.0.1 sends `Host: 127.0.0.1`).
  return (port === 80 ? name : `${name}:${port}`).toLowerCase()
}

/**
 * The Host values a server bound to `host:port` answers: the loopback names, the configured host,
 * and `allowedHosts` (`name` or `name:port`; a name without port matches with and without the
 * bound port, for a reverse proxy on the default port).
 */
export const hostRule = (host: string, port: number, allowedHosts: ReadonlyArray<string> = []): HostRule => {
  const exact = new Set([hostPort("127.0.0.1", port), hostPort("localhost", port), hostPort("::1", port)])
  exact.add(hostPort(host, port))
  for (const entry of allowedHosts) {
    const name = entry.toLowerCase()
    if (/:\d+$/.test(name) && !(isIP(name) === 6)) exact.add(name)
    else {
      exact.add(name)
      exact.add(hostPort(name, port))
    }
  }
  // A name that resolves to the server is what DNS rebinding needs; an IP literal names the
  // server itself, so a page sending it is same-origin with the server.
  const wildcard = host === "0.0.0.0" || host === "::" || host === "[::]"
  return { exact, anyIpOnPort: wildcard ? port : undefined }
}

const hostAllowed = (rule: HostRule, value: string) => {
  const host = value.toLowerCase()
  if (rule.exact.has(host)) return true
  if (rule.anyIpOnPort === undefined) return false
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host)
  if (match === null || Number(match[2] ?? 80) !== rule.anyIpOnPort) return false
  const name = match[1]!.startsWith("[") ? match[1]!.slice(1, -1) : match[1]!
  return isIP(name) !== 0
}

/** 421 unless the Host header names this server. */
export const checkHost = (request: HttpServerRequest.HttpServerRequest, rule: HostRule) => {
  const host = request.headers.host
  if (host === undefined || host === "") return error(421, "missing Host header")
  if (hostAllowed(rule, host)) return undefined
  return error(
    421,
    `Host ${JSON.stringify(host)} is not this server's (add it to admin.allowedHosts to serve it under that name)`
  )
}

/** 403 when an Origin header is present and is not this server's own origin. */
export const checkOrigin = (request: HttpServerRequest.HttpServerRequest) => {
  const origin = request.headers.origin
  if (origin === undefined) return undefined
  const host = (request.headers.host ?? "").toLowerCase()
  if (origin.toLowerCase() === `http://${host}` || origin.toLowerCase() === `https://${host}`) return undefined
  return error(
    403,
    `cross-origin request refused (Origin ${JSON.stringify(origin)}): only the admin server's own dashboard may call it`
  )
}

/** 401 unless `Authorization: Bearer <token>` carries the token (scheme case-insensitive). */
export const checkToken = (
  request: HttpServerRequest.HttpServerRequest,
  token: Redacted.Redacted<string> | undefined
) => {
  if (token === undefined) return undefined
  const match = /^bearer +(.*)$/i.exec(request.headers.authorization ?? "")
  const given = utf8.encode(match === null ? "" : match[1]!.trim())
  if (Mac.timingSafeEqual(given, utf8.encode(Redacted.value(token)))) return undefined
  return error(401, "missing or wrong bearer token", { "www-authenticate": 'Bearer realm="sluice"' })
}

/** For requests that change state: 415 unless the body is JSON, 413 when Content-Length is too large. */
export const checkMutation = (request: HttpServerRequest.HttpServerRequest) => {
  const type = (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase()
  if (type !== "application/json") {
    return error(415, "content-type must be application/json", { accept: "application/json" })
  }
  return checkLength(request)
}

/** 413 when the declared Content-Length is above the limit (before reading anything). */
export const checkLength = (request: HttpServerRequest.HttpServerRequest) => {
  const length = request.headers["content-length"]
  return length !== undefined && Number(length) > maxBodyBytes ? tooLarge() : undefined
}

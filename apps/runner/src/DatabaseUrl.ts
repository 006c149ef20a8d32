/**
 * Checking a PostgreSQL URL (`store.url`, `DATABASE_URL`) before postgres.js sees it, and describing
 * one without its credentials. postgres.js (src/index.js `parseUrl`) does not check the scheme, and
 * throws `TypeError: Invalid URL` or `URIError: URI malformed` from deep inside the first connection;
 * here the same parsing steps run at config time and name what is wrong. No message ever contains
 * the URL itself: it may hold a password.
 */

const schemeOf = (url: string): string | undefined => /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]

const decodes = (text: string): boolean => {
  try {
    decodeURIComponent(text)
    return true
  } catch {
    return false
  }
}

interface Parsed {
  /** The host list as postgres.js reads it (`h1:5432,h2:5433` for several hosts). */
  readonly hosts: string
  /** The URL with the first host only, as postgres.js parses it. */
  readonly url: URL
}

type Checked = { readonly _tag: "ok"; readonly parsed: Parsed } | { readonly _tag: "invalid"; readonly reason: string }

const example = "postgres://user:password@host:5432/database"

/** postgres.js's parsing steps, each failure turned into a reason that does not quote the URL. */
const parse = (url: string): Checked => {
  const invalid = (reason: string): Checked => ({ _tag: "invalid", reason })
  const scheme = schemeOf(url)
  if (scheme === undefined) return invalid(`not a URL (expected ${example})`)
  if (scheme !== "postgres" && scheme !== "postgresql") {
    return invalid(`a ${scheme}:// URL: only postgres:// and postgresql:// URLs are supported`)
  }
  const authority = url.slice(url.indexOf("://") + 3).split(/[?/]/)[0] ?? ""
  const hostPart = authority.slice(authority.indexOf("@") + 1)
  if (!decodes(hostPart)) return invalid("the host has a '%' that is not a percent-escape (%XX)")
  const hosts = decodeURIComponent(hostPart)
  let parsed: URL
  try {
    parsed = new URL(url.replace(hosts, hosts.split(",")[0] ?? ""))
  } catch {
    return invalid(
      `not a valid URL (expected ${example}; check the host and port, and percent-encode special characters of the user name and password)`
    )
  }
  if (!decodes(parsed.username)) {
    return invalid("the user name has a '%' that is not a percent-escape (%XX): write a literal '%' as %25")
  }
  if (!decodes(parsed.password)) {
    return invalid("the password has a '%' that is not a percent-escape (%XX): write a literal '%' as %25")
  }
  return { _tag: "ok", parsed: { hosts, url: parsed } }
}

/** Why `url` cannot be used as a PostgreSQL URL, or undefined when it can. Never quotes the URL. */
export const problemOf = (url: string): string | undefined => {
  const checked = parse(url)
  return checked._tag === "invalid" ? checked.reason : undefined
}

/** `host:port/database` of a PostgreSQL URL, safe to log (no user name, no password). */
export const describe = (url: string): string => {
  const checked = parse(url)
  if (checked._tag === "invalid") return "(invalid URL)"
  const { hosts, url: parsed } = checked.parsed
  // An unescaped '@' in the password would leave part of it before the hosts: drop it.
  const list = hosts.slice(hosts.lastIndexOf("@") + 1)
  const where = list.includes(",") ? list : `${parsed.hostname}:${parsed.port || 5432}`
  return `${where}${parsed.pathname}`
}

/**
 * How to reach a NATS server: its URLs, credentials and TLS files. A Schema of its own so the NATS
 * source (and any other NATS plugin) can share it. Secrets decode to `Redacted` values, so they are
 * never logged nor quoted in an error; files are `Plugin.FilePath`s, relative to the config file.
 */
import { Plugin } from "@sluice/core"
import { Effect, Schema } from "effect"

const natsUrl = Schema.makeFilter(
  (url: string) => {
    // The client takes host:port too; a scheme-less value is read as nats://.
    const full = /^[a-z]+:\/\//i.test(url) ? url : `nats://${url}`
    if (!URL.canParse(full)) return "expected a server URL such as nats://127.0.0.1:4222"
    const protocol = new URL(full).protocol
    return ["nats:", "tls:"].includes(protocol) || `expected a nats:// or tls:// URL, got a ${protocol} URL`
  },
  { expected: "a NATS server URL" }
)

const Secret = Schema.RedactedFromValue(Schema.String.pipe(Schema.check(Schema.isMinLength(1))))

/** TLS files (PEM). `ca` alone verifies the server; `cert` and `key` together authenticate the client. */
export const NatsTlsConfig = Schema.Struct({
  /** The certificate authority that signed the server's certificate. */
  ca: Schema.optionalKey(Plugin.FilePath),
  /** The client certificate (with `key`). */
  cert: Schema.optionalKey(Plugin.FilePath),
  /** The client certificate's private key (with `cert`). */
  key: Schema.optionalKey(Plugin.FilePath),
  /** Starts TLS before the server's INFO (servers configured with `handshake_first`). @default false */
  handshakeFirst: Schema.optionalKey(Schema.Boolean)
}).pipe(
  Schema.check(
    Schema.makeFilter((tls) =>
      (tls.cert === undefined) === (tls.key === undefined) ? true : "cert and key go together: give both or neither"
    )
  )
)
export type NatsTlsConfig = typeof NatsTlsConfig.Type

/** The connection fields, shared by the NATS plugins' configs. */
export const natsConnectionFields = {
  /** Server URLs; the client picks one and fails over to the others. @default ["nats://127.0.0.1:4222"] */
  servers: Schema.Array(Schema.String.pipe(Schema.check(natsUrl))).pipe(
    Schema.check(Schema.isMinLength(1)),
    Schema.withDecodingDefault(Effect.succeed(["nats://127.0.0.1:4222"]))
  ),
  /** The client's name, shown by the server's monitoring. @default the instance name */
  name: Schema.optionalKey(Schema.String.pipe(Schema.check(Schema.isMinLength(1)))),
  /** User name, with `password`. */
  user: Schema.optionalKey(Schema.String.pipe(Schema.check(Schema.isMinLength(1)))),
  /** Password, with `user`. Kept Redacted. */
  password: Schema.optionalKey(Secret),
  /** An authentication token. Kept Redacted. */
  token: Schema.optionalKey(Secret),
  /** An NKey seed (`SU...`). Kept Redacted. */
  nkeySeed: Schema.optionalKey(Secret),
  /** A `.creds` file (a user JWT and its NKey seed), as issued by `nsc`. */
  credsFile: Schema.optionalKey(Plugin.FilePath),
  /** TLS: required as soon as this is given; the files are read when the connection opens. */
  tls: Schema.optionalKey(NatsTlsConfig),
  /**
   * Turns off the client's async stack traces: they cost about a third of its CPU when publishing
   * (42,000 vs 28,000 publishes/s measured), and only help debugging the client itself. @default true
   */
  noAsyncTraces: Schema.Boolean.pipe(Schema.withDecodingDefault(Effect.succeed(true)))
}

/** One way to authenticate at most, and a user with a password. */
export const authProblem = (config: {
  readonly user?: string | undefined
  readonly password?: unknown
  readonly token?: unknown
  readonly nkeySeed?: unknown
  readonly credsFile?: string | undefined
}): string | true => {
  if ((config.user === undefined) !== (config.password === undefined)) {
    return "user and password go together: give both or neither"
  }
  const ways = [
    config.user !== undefined ? "user/password" : undefined,
    config.token !== undefined ? "token" : undefined,
    config.nkeySeed !== undefined ? "nkeySeed" : undefined,
    config.credsFile !== undefined ? "credsFile" : undefined
  ].filter((way) => way !== undefined)
  return ways.length <= 1 || `give one way to authenticate, got ${ways.join(" and ")}`
}

/** The connection config on its own (for plugins that need nothing else). */
export const NatsConnectionConfig = Schema.Struct(natsConnectionFields).pipe(
  Schema.check(Schema.makeFilter(authProblem))
)
export type NatsConnectionConfig = typeof NatsConnectionConfig.Type

/** A server URL without its user info (`nats://user:pass@host` would leak a secret into a log). */
export const safeServer = (url: string): string => url.replace(/^([a-z]+:\/\/)[^@/]*@/i, "$1")

/**
 * NAME is not a projection of the config (exit code 2), whether the command read the config file or
 * asked the running process (`--admin`): the same message, naming where it looked.
 */
import { Data } from "effect"

export class UnknownProjectionError extends Data.TaggedError("UnknownProjectionError")<{
  readonly name: string
  /** Where the config's projections were read: `in FILE`, or `at the admin API URL`. */
  readonly where: string
  readonly known: ReadonlyArray<string>
}> {
  override get message() {
    return `no projection named ${JSON.stringify(this.name)} ${this.where} (its projections: ${this.known.join(", ") || "none"})`
  }
}

/**
 * The shape of one migration as the migrator consumes it. The list itself is generated from the
 * package's `migrations/*.sql` (see `migrations.generated.ts`), so no file system is read at run time.
 */

/** One numbered SQL migration. */
export interface Migration {
  /** The number in the file name; migrations apply in ascending id order. */
  readonly id: number
  readonly name: string
  /** The source file, for messages. */
  readonly file: string
  /** Lower-case hex SHA-256 of `sql`; recorded when applied, compared on every later start. */
  readonly checksum: string
  readonly sql: string
}

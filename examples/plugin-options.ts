/**
 * Plugin options that are paths, as docs/writing-a-plugin.md shows them: `Plugin.FilePath` marks
 * an option so the runner resolves it against the config file's folder.
 */
// #region file-path
import { Plugin } from "@sluice/core"
import { Schema } from "effect"

/** The options of a source that reads a CSV export. */
export const CsvSourceConfig = Schema.Struct({
  /** The file to read. In a sluice config, relative to the config file's folder. */
  file: Plugin.FilePath,
  /** The column separator. @default "," */
  separator: Schema.optionalKey(Schema.String)
})
// #endregion file-path

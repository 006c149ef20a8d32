/**
 * `@sluice/runner`: the `sluice` command (src/main.ts) and what users composing a config in code
 * need: `defineConfig` and the config Schema.
 */
export {
  AdminConfig,
  defineConfig,
  LoggingConfig,
  RelayConfig,
  ScheduleConfig,
  SluiceConfig,
  type SluiceConfigInput,
  SourceConfig,
  StoreConfig,
  TransportConfig
} from "./Config.ts"
export { ConfigFileError, decodeConfig, type LoadedConfig, load } from "./ConfigFile.ts"
export { configJsonSchema } from "./JsonSchema.ts"
export { loadPlan, type Plan } from "./Plan.ts"
export { builtins, type LoadedPlugin, PluginImportError, UnknownPluginError } from "./PluginLoader.ts"

/**
 * `@sluice/transport-console`: JSON lines or pretty lines on stdout (or any ConsoleSink).
 * See README.md for the config, the line formats and the outcome mapping.
 */
export { type Format, formatter, jsonLine, prettyLine } from "./ConsoleFormat.ts"
export { ConsoleSink, ConsoleSinkError, type ConsoleSinkShape, fromWritable, type WritableLike } from "./ConsoleSink.ts"
export { ConsoleTransportConfig, ConsoleTransportPlugin, make } from "./ConsoleTransport.ts"
export { layerStdout, makeStdout } from "./NodeStdout.ts"

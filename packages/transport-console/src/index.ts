/** Sluice transport plugin: JSON lines or pretty lines on stdout. */
export {}

/** The runner's version, printed by `--version` and exported as `sluice_build_info`. */
export const version = "0.1.0"

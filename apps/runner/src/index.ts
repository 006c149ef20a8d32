/** The sluice runner. */
export {}

/** Sluice source plugin: Yahoo Finance quotes and chart bars through yahoo-finance2. */
export {}

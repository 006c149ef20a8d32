/** Sluice transport plugin: HTTP webhooks signed per the Standard Webhooks specification. */
export {}

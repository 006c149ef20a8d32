/** EventStore on PostgreSQL (postgres.js) and embedded PGlite: one schema, one SQL dialect. */
export {}

/** The telemetry event contract: schemas, parsing with allowlist semantics, and the column list. */
export * from './schema';
export * from './parse';
export * from './columns';

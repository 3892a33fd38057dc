/** The generated pages: the telemetry spec, the kill-switch page, the release checklist, the rollups. */
export * from './gate';
export * from './kill-switches';
export * from './markdown';
export * from './policy';
export * from './rollups';

/** The generated pages: the telemetry spec (with its access matrix), the kill-switch page, the release checklist, the rollups. */
export * from './access-matrix';
export * from './gate';
export * from './kill-switches';
export * from './markdown';
export * from './policy';
export * from './rollups';

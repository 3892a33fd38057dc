export * from './durations';
export * from './loader';
export * from './rules';
export * from './schema';
export * from './switches';
export * from './json-schema';
export * from './names';
export * from './limits';

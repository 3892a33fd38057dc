/**
 * The scheduled rollups: the construct, and the pure core and runner the Lambda and the
 * tests use. Applications and the CLI import the core modules directly (no aws-cdk-lib).
 */
export * from './athena';
export * from './construct';
export * from './metrics';
export * from './names';
export * from './plan';
export * from './publish';
export * from './runner';
export * from './explain';

/**
 * Kill switches. Applications import `lib/killswitch/client` (no aws-cdk-lib); the
 * stack imports this index, which also exports the construct.
 */
export * from './values';
export * from './ssm';
export * from './client';
export * from './trip';
export * from './trip-runner';
export * from './explain';
export * from './construct';

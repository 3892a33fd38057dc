/** The storage tiers (lifetimes and readers) and the stores that hold them: plain data from the policy. */
export * from './stores';
export * from './tiers';
export * from './lifecycle';

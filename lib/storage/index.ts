export * from './layout';
export * from './lifecycle';
export * from './principals';
export * from './storage';

export * from './lifecycle';
export * from './principals';
export * from './storage';

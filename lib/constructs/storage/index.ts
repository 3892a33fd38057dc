export * from '../../core/storage/layout';
export * from './lifecycle';
export * from './principals';
export * from './storage';

export * from './bounded-logs';

export * from './event-store.port';
export * from './errors';
export * from './hash-chain';
export { SqliteEventStore, type SqliteEventStoreOptions } from './sqlite/sqlite-event-store';
export { EventStoreDbEventStore } from './esdb/esdb-event-store';
export * from './log-checkpoint';
export * from './log-digest';

export * from './personal-data-vault';
export * from './event-codec';
export * from './read-model-db';
export * from './projection-runner';
export * from './ids';
export * from './append-once';
export * from './log-anchors';
export * from './row-table';

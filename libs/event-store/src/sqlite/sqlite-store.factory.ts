import { SqliteEventStore } from './sqlite-event-store';

/** Used by the contract suite's crash test to open the store in a child process. */
export function openStore(file: string): SqliteEventStore {
  return new SqliteEventStore(file);
}

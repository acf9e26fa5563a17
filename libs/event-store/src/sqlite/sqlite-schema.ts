import Database from 'better-sqlite3';
import type { RecordedEvent } from '../event-store.port';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (
    position       INTEGER PRIMARY KEY,
    stream_id      TEXT    NOT NULL,
    revision       INTEGER NOT NULL,
    event_id       TEXT    NOT NULL,
    type           TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    data           TEXT    NOT NULL,
    metadata       TEXT    NOT NULL,
    recorded_at    TEXT    NOT NULL,
    previous_hash  TEXT,
    hash           TEXT    NOT NULL
  );
  CREATE UNIQUE INDEX IF NOT EXISTS events_stream_revision ON events (stream_id, revision);
`;

/** Opens the events file the same way for every connection: WAL, durable commits, and the schema. */
export function openEventsDb(file: string): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 10000');
  // Measured here: a WAL that is checkpointed and reused every ~500 pages makes each commit's fsync cheaper
  // than a WAL that keeps growing (no file-size change to flush), see docs/benchmarks.md.
  db.pragma('wal_autocheckpoint = 500');
  db.exec(SCHEMA);
  return db;
}

/**
 * What every read selects, in this order. Rows come back as arrays (statements in `raw` mode): better-sqlite3 builds
 * them at about twice the rate of objects with a named field per column, and a scan is mostly building rows.
 */
export const EVENT_COLUMNS = 'position, stream_id, revision, event_id, type, schema_version, data, metadata, recorded_at, previous_hash, hash';

export type EventRow = [
  position: number,
  streamId: string,
  revision: number,
  eventId: string,
  type: string,
  schemaVersion: number,
  data: string,
  metadata: string,
  recordedAt: string,
  previousHash: string | null,
  hash: string,
];

export function rowToEvent(row: EventRow): RecordedEvent {
  return {
    id: row[3],
    type: row[4],
    schemaVersion: row[5],
    data: JSON.parse(row[6]),
    metadata: JSON.parse(row[7]),
    streamId: row[1],
    revision: BigInt(row[2]),
    position: BigInt(row[0]),
    recordedAt: row[8],
    hash: row[10],
    previousHash: row[9],
  };
}

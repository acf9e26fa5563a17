import Database from 'better-sqlite3';

/**
 * The read models' own SQLite file: a cache of the log that can be dropped and rebuilt at any time, so it needs
 * no fsync per commit (synchronous=NORMAL in WAL is still crash-consistent: a lost tail is replayed from the
 * checkpoint, which lives in the same transaction as the rows it covers).
 */
export function openReadModelDb(file: string, options: { rebuilding?: boolean } = {}): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // A rebuild from an empty file writes without syncing: if it is interrupted, it is started again from nothing.
  db.pragma(options.rebuilding ? 'synchronous = OFF' : 'synchronous = NORMAL');
  db.pragma('busy_timeout = 10000');
  // Read models are written in large batches with random index updates; a 64 MiB page cache keeps them in memory.
  db.pragma('cache_size = -65536');
  db.exec('CREATE TABLE IF NOT EXISTS checkpoints (name TEXT PRIMARY KEY, position INTEGER NOT NULL) WITHOUT ROWID');
  return db;
}

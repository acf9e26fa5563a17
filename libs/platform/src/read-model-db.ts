import Database from 'better-sqlite3';

/**
 * The read models' own SQLite file: a cache of the log that can be dropped and rebuilt at any time, so it needs
 * no fsync per commit (synchronous=NORMAL in WAL is still crash-consistent: a lost tail is replayed from the
 * checkpoint, which lives in the same transaction as the rows it covers).
 */
export function openReadModelDb(file: string): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 10000');
  db.exec('CREATE TABLE IF NOT EXISTS checkpoints (name TEXT PRIMARY KEY, position INTEGER NOT NULL) WITHOUT ROWID');
  return db;
}

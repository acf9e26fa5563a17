import Database from 'better-sqlite3';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { uptime } from 'node:os';
import path from 'node:path';

/**
 * The read models' own SQLite file (and the router's state): a cache of the log that can be dropped and rebuilt
 * at any time, so its commits are not synced at all (synchronous=OFF). A crash of the process loses nothing: the
 * operating system still holds every page written. Only a crash of the machine can leave the file torn, and then
 * the file was open when the machine went down, which a marker beside it records: opened again under another
 * boot, the file is thrown away and its read models are rebuilt from the log (their checkpoints go with it).
 * Measured: fsyncs at WAL checkpoints cost about a fifth of a referral's time on the API's one thread.
 */
export function openReadModelDb(file: string): Database.Database {
  const marker = `${file}.open`;
  if (existsSync(marker) && readFileSync(marker, 'utf8') !== bootId()) {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
  }
  writeDurably(marker, bootId());
  const db = new Database(file, { timeout: 10_000 });
  // One opener at a time: a second (the rebuild command beside the running service, two services on one data
  // directory) would apply the same events twice, or close and drop the marker under the first. It waits out the
  // busy timeout and fails instead.
  db.pragma('locking_mode = EXCLUSIVE');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  // Read models are written in large batches with random index updates; a 64 MiB page cache keeps them in memory.
  db.pragma('cache_size = -65536');
  db.exec('CREATE TABLE IF NOT EXISTS checkpoints (name TEXT PRIMARY KEY, position INTEGER NOT NULL, event_id TEXT) WITHOUT ROWID');
  // The id of the event at the checkpoint tells a restored log that has grown past it from the log it was read in.
  if (!(db.pragma('table_info(checkpoints)') as Array<{ name: string }>).some((column) => column.name === 'event_id')) db.exec('ALTER TABLE checkpoints ADD COLUMN event_id TEXT');
  // A clean close puts the file on disk before it drops the marker, so a later reboot has nothing to throw away.
  const close = db.close.bind(db);
  db.close = () => {
    if (!db.open) return db;
    close();
    for (const written of [file, `${file}-wal`]) if (existsSync(written)) syncFile(written);
    rmSync(marker, { force: true });
    return db;
  };
  return db;
}

/** Linux names each boot; elsewhere the boot's start, to the minute, serves. */
function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return String(Math.round((Date.now() / 1000 - uptime()) / 60));
  }
}

function syncFile(file: string): void {
  const fd = openSync(file, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

// The marker must be on disk before any unsynced page of the file can be.
function writeDurably(file: string, content: string): void {
  writeFileSync(file, content);
  syncFile(file);
  const directory = openSync(path.dirname(file), 'r');
  try {
    fsyncSync(directory);
  } finally {
    closeSync(directory);
  }
}

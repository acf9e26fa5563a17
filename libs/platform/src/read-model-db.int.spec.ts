import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openReadModelDb } from './read-model-db';

const root = path.resolve(__dirname, '../../..');
let directory: string;
let file: string;

beforeEach(() => {
  directory = mkdtempSync(path.join(tmpdir(), 'spoc-read-db-'));
  file = path.join(directory, 'read-models.sqlite');
});
afterEach(() => rmSync(directory, { recursive: true, force: true }));

/** Another process writes a checkpoint and is killed before it closes anything, as in a crash. */
function crashAfterWriting(position: number): void {
  const script = `
    const { openReadModelDb } = require(${JSON.stringify(path.join(__dirname, 'read-model-db.ts'))});
    const db = openReadModelDb(${JSON.stringify(file)});
    db.prepare("INSERT INTO checkpoints (name, position) VALUES ('api', ?)").run(${position});
    process.kill(process.pid, 'SIGKILL');`;
  try {
    execFileSync(process.execPath, ['-r', path.join(root, 'tools/ts-register.js'), '-e', script], { stdio: 'pipe' });
  } catch {
    // killed, as intended
  }
}

const checkpoint = (db: ReturnType<typeof openReadModelDb>) =>
  (db.prepare("SELECT position FROM checkpoints WHERE name = 'api'").get() as { position: number } | undefined)?.position;

describe('the read-model file', () => {
  it('keeps what was written across a clean close, and leaves no marker behind', () => {
    const db = openReadModelDb(file);
    expect(existsSync(`${file}.open`)).toBe(true);
    db.prepare("INSERT INTO checkpoints (name, position) VALUES ('api', 42)").run();
    db.close();
    expect(existsSync(`${file}.open`)).toBe(false);
    const again = openReadModelDb(file);
    expect(checkpoint(again)).toBe(42);
    again.close();
  });

  it('adds the checkpoint event id to a file written before ids were kept, and keeps its checkpoints', () => {
    const old = new Database(file);
    old.exec("CREATE TABLE checkpoints (name TEXT PRIMARY KEY, position INTEGER NOT NULL) WITHOUT ROWID; INSERT INTO checkpoints VALUES ('api', 7)");
    old.close();
    const db = openReadModelDb(file);
    expect(db.prepare("SELECT position, event_id FROM checkpoints WHERE name = 'api'").get()).toEqual({ position: 7, event_id: null });
    db.close();
  });

  it('refuses a second opener while the first has it open (it would apply the same events twice)', () => {
    const db = openReadModelDb(file);
    db.prepare("INSERT INTO checkpoints (name, position) VALUES ('api', 42)").run();
    const started = Date.now();
    expect(() => openReadModelDb(file)).toThrow(expect.objectContaining({ code: 'SQLITE_BUSY' }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(9_000); // after waiting out the busy timeout
    expect(checkpoint(db)).toBe(42);
    db.close();
    expect(existsSync(`${file}.open`)).toBe(false);
  }, 30_000);

  it('keeps what was written when the process crashes: the machine still held the pages', () => {
    crashAfterWriting(7);
    expect(existsSync(`${file}.open`)).toBe(true);
    const db = openReadModelDb(file);
    expect(checkpoint(db)).toBe(7);
    db.close();
  });

  it('throws the file away when it was open as the machine went down, so its read models are rebuilt from the log', () => {
    crashAfterWriting(7);
    // What a reboot changes: the marker names an earlier boot than this one.
    expect(readFileSync(`${file}.open`, 'utf8')).not.toBe('an-earlier-boot');
    writeFileSync(`${file}.open`, 'an-earlier-boot');
    const db = openReadModelDb(file);
    expect(checkpoint(db)).toBeUndefined();
    db.close();
  });
});

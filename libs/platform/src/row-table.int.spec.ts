import type Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteEventStore } from '@spoc/event-store';
import { testEvent } from '../../event-store/src/testing/events';
import { EventCodec, type DecodedEvent } from './event-codec';
import { PersonalDataVault } from './personal-data-vault';
import { ProjectionRunner, type Projection } from './projection-runner';
import { openReadModelDb } from './read-model-db';
import { flushRowTables, RowTable } from './row-table';

type Count = { stream_id: string; n: number; last: string | null };

describe('a row table on a real SQLite file', () => {
  let dir: string;
  let db: Database.Database;
  let counts: RowTable<Count>;
  const stored = () => db.prepare('SELECT stream_id, n, last FROM counts ORDER BY stream_id').all();

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'spoc-rows-'));
    db = openReadModelDb(path.join(dir, 'read-models.sqlite'));
    db.exec('CREATE TABLE counts (stream_id TEXT PRIMARY KEY, n INTEGER NOT NULL, last TEXT) WITHOUT ROWID');
    counts = new RowTable<Count>(db, 'counts', ['stream_id'], ['stream_id', 'n', 'last']);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('folds a batch in memory, reads its own writes, and writes each row once at the end', () => {
    counts.put({ stream_id: 'a', n: 1, last: null });
    counts.put({ ...counts.get('a')!, n: counts.get('a')!.n + 1, last: 'x' });
    counts.put({ stream_id: 'b', n: 1, last: null });
    counts.delete('b');
    expect(counts.get('a')).toEqual({ stream_id: 'a', n: 2, last: 'x' });
    expect(counts.get('b')).toBeUndefined();
    expect(stored()).toEqual([]);
    flushRowTables(db);
    expect(stored()).toEqual([{ stream_id: 'a', n: 2, last: 'x' }]);
  });

  it('forgets its rows once written, so the next batch reads the table as SQLite holds it', () => {
    counts.put({ stream_id: 'a', n: 1, last: null });
    flushRowTables(db);
    db.prepare("UPDATE counts SET n = 7 WHERE stream_id = 'a'").run();
    expect(counts.get('a')).toEqual({ stream_id: 'a', n: 7, last: null });
    counts.delete('a');
    flushRowTables(db);
    expect(stored()).toEqual([]);
  });

  it('drops what a batch folded when the batch is rolled back', () => {
    counts.put({ stream_id: 'a', n: 1, last: null });
    counts.discard();
    expect(counts.get('a')).toBeUndefined();
    flushRowTables(db);
    expect(stored()).toEqual([]);
  });

  it('holds what SQLite would store as NULL as null, so a row folded in memory is the row a SELECT gives back', () => {
    db.exec('CREATE TABLE sent (id TEXT PRIMARY KEY, sent_ms INTEGER) WITHOUT ROWID');
    const sent = new RowTable<{ id: string; sent_ms: number | null }>(db, 'sent', ['id'], ['id', 'sent_ms']);
    sent.put({ id: 'n', sent_ms: Date.parse('not a date') });
    // A rule such as "the first time it was sent" (sent_ms ?? now) reads it as not yet sent, in this batch as in the next.
    expect(sent.get('n')).toEqual({ id: 'n', sent_ms: null });
    flushRowTables(db);
    expect(sent.get('n')).toEqual({ id: 'n', sent_ms: null });
  });

  it('keys rows by several columns', () => {
    db.exec('CREATE TABLE routes (referral_id TEXT NOT NULL, provision TEXT NOT NULL, day TEXT NOT NULL, PRIMARY KEY (referral_id, provision)) WITHOUT ROWID');
    const routes = new RowTable<{ referral_id: string; provision: string; day: string }>(db, 'routes', ['referral_id', 'provision'], ['referral_id', 'provision', 'day']);
    routes.put({ referral_id: 'r', provision: 'idva', day: '1' });
    routes.put({ referral_id: 'r', provision: 'mash', day: '1' });
    flushRowTables(db);
    routes.delete('r', 'idva');
    routes.put({ ...routes.get('r', 'mash')!, day: '2' });
    flushRowTables(db);
    expect(db.prepare('SELECT * FROM routes').all()).toEqual([{ referral_id: 'r', provision: 'mash', day: '2' }]);
  });

  it('filling an empty table, takes a key it never wrote as absent without asking SQLite', () => {
    counts.beginFill();
    counts.put({ stream_id: 'a', n: 1, last: null });
    flushRowTables(db);
    // Behind its back (nothing does this in the service): the fill does not look.
    db.prepare("INSERT INTO counts (stream_id, n) VALUES ('b', 5)").run();
    expect(counts.get('a')).toEqual({ stream_id: 'a', n: 1, last: null });
    expect(counts.get('b')).toBeUndefined();
    counts.endFill();
    expect(counts.get('b')).toEqual({ stream_id: 'b', n: 5, last: null });
  });

  it('filling a table that already holds rows (a filling cut short), asks SQLite as usual', () => {
    db.prepare("INSERT INTO counts (stream_id, n) VALUES ('b', 5)").run();
    counts.beginFill();
    expect(counts.get('b')).toEqual({ stream_id: 'b', n: 5, last: null });
  });

  it('is replaced by the read model prepared again (rebuilt): only the new one is written', () => {
    counts.put({ stream_id: 'old', n: 1, last: null });
    const again = new RowTable<Count>(db, 'counts', ['stream_id'], ['stream_id', 'n', 'last']);
    again.put({ stream_id: 'new', n: 1, last: null });
    flushRowTables(db);
    expect(stored()).toEqual([{ stream_id: 'new', n: 1, last: null }]);
  });
});

/** Counts events per stream in a row table; throws on an event marked `poison`, as a buggy read model would. */
class FoldingProjection implements Projection {
  readonly name = 'folding';
  readonly version = 1;
  readonly eventTypes = ['Counted'];
  readonly tables = { counts: 'CREATE TABLE IF NOT EXISTS counts (stream_id TEXT PRIMARY KEY, n INTEGER NOT NULL, last TEXT) WITHOUT ROWID' };
  private counts!: RowTable<Count>;

  prepare(db: Database.Database): void {
    this.counts = new RowTable(db, 'counts', ['stream_id'], ['stream_id', 'n', 'last']);
  }

  apply(event: DecodedEvent): void {
    const row = this.counts.get(event.streamId) ?? { stream_id: event.streamId, n: 0, last: null };
    this.counts.put({ ...row, n: row.n + 1, last: event.id });
    if ((event.data as { poison?: boolean }).poison) throw new Error('read model bug');
  }
}

describe('row tables fed by the projection runner', () => {
  let dir: string;
  let store: SqliteEventStore;
  let vault: PersonalDataVault;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'spoc-rows-runner-'));
    store = new SqliteEventStore(path.join(dir, 'events.sqlite'));
    vault = new PersonalDataVault(path.join(dir, 'keys.sqlite'));
  });
  afterEach(async () => {
    await store.close();
    vault.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(file: string, afterStart?: () => Promise<void>): Promise<{ runner: ProjectionRunner; db: Database.Database }> {
    const db = openReadModelDb(path.join(dir, file));
    const runner = new ProjectionRunner('test', store, db, new EventCodec(vault), [new FoldingProjection()]);
    runner.start();
    await runner.catchUp();
    await afterStart?.();
    return { runner, db };
  }

  it('fills from the start of the log and then follows it live, to the same rows', async () => {
    for (let n = 0; n < 30; n += 1) await store.append(`s-${n % 7}`, [testEvent('Counted', { n })], 'any');
    const { runner, db } = await run('read-models.sqlite');
    for (let n = 30; n < 40; n += 1) {
      const { position } = await store.append(`s-${n % 7}`, [testEvent('Counted', { n })], 'any');
      await runner.waitFor(position);
    }
    const rows = db.prepare('SELECT stream_id, n FROM counts ORDER BY stream_id').all();
    expect(rows).toEqual(Array.from({ length: 7 }, (_, s) => ({ stream_id: `s-${s}`, n: Array.from({ length: 40 }, (_, n) => n).filter((n) => n % 7 === s).length })));
    await runner.stop();
    db.close();
  });

  it('leaves nothing a failed batch folded, in the file or in memory', async () => {
    for (let n = 0; n < 5; n += 1) await store.append('s', [testEvent('Counted', { n })], 'any');
    const first = await run('read-models.sqlite');
    await store.append('s', [testEvent('Counted', { n: 5 }), testEvent('Counted', { poison: true })], 'any');
    const head = (await store.headPosition())!;
    expect(await first.runner.waitFor(head, 2000)).toBe(false);
    expect(first.runner.failed).toBeTruthy();
    expect(first.db.prepare('SELECT n FROM counts').get()).toEqual({ n: 5 });
    // Whatever writes the file's row tables next (another lane's batch) writes nothing of the failed one.
    flushRowTables(first.db);
    expect(first.db.prepare('SELECT n FROM counts').get()).toEqual({ n: 5 });
    await first.runner.stop();
    first.db.close();
  });
});

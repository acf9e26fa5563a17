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

/** Counts events per stream; throws on an event marked `poison`, as a buggy read model would. */
class CountingProjection implements Projection {
  readonly name = 'counting';
  readonly version = 1;
  readonly eventTypes = ['Counted'];
  readonly tables = { counts: 'CREATE TABLE IF NOT EXISTS counts (stream_id TEXT PRIMARY KEY, n INTEGER NOT NULL)' };
  private upsert!: Database.Statement;

  prepare(db: Database.Database): void {
    this.upsert = db.prepare('INSERT INTO counts (stream_id, n) VALUES (?, 1) ON CONFLICT (stream_id) DO UPDATE SET n = n + 1');
  }

  apply(event: DecodedEvent): void {
    if ((event.data as { poison?: boolean }).poison) throw new Error('read model bug');
    this.upsert.run(event.streamId);
  }
}

describe('the projection runner', () => {
  let directory: string;
  let store: SqliteEventStore;
  let vault: PersonalDataVault;

  beforeEach(() => {
    directory = mkdtempSync(path.join(tmpdir(), 'spoc-runner-'));
    store = new SqliteEventStore(path.join(directory, 'events.sqlite'));
    vault = new PersonalDataVault(path.join(directory, 'keys.sqlite'));
  });
  afterEach(async () => {
    await store.close();
    vault.close();
    rmSync(directory, { recursive: true, force: true });
  });

  function runner(): { runner: ProjectionRunner; db: Database.Database } {
    const db = openReadModelDb(path.join(directory, 'read-models.sqlite'));
    return { runner: new ProjectionRunner('test', store, db, new EventCodec(vault), [new CountingProjection()]), db };
  }

  const count = (db: Database.Database, streamId: string) =>
    (db.prepare('SELECT n FROM counts WHERE stream_id = ?').get(streamId) as { n: number } | undefined)?.n ?? 0;

  it('applies every event once, and after a restart resumes from its checkpoint without applying any twice', async () => {
    await store.append('a', [testEvent('Counted'), testEvent('Ignored'), testEvent('Counted')], 'no-stream');
    const first = runner();
    first.runner.start();
    await first.runner.catchUp();
    expect(count(first.db, 'a')).toBe(2);
    await first.runner.stop();
    first.db.close();

    await store.append('a', [testEvent('Counted')], 2n);
    const second = runner();
    second.runner.start();
    await second.runner.catchUp();

    expect(count(second.db, 'a')).toBe(3);
    expect(second.runner.checkpoint).toBe(await store.headPosition());
    await second.runner.stop();
    second.db.close();
  });

  it('stops at a failing event instead of skipping it, and keeps the checkpoint before it', async () => {
    const good = await store.append('b', [testEvent('Counted')], 'no-stream');
    const { runner: failing, db } = runner();
    failing.start();
    await failing.catchUp();

    await store.append('b', [testEvent('Counted', { poison: true })], 0n);
    expect(await failing.waitFor(good.position + 1n, 300)).toBe(false);

    expect(failing.failed).toBeInstanceOf(Error);
    expect(failing.checkpoint).toBe(good.position);
    expect(count(db, 'b')).toBe(1);
    await failing.stop();
    db.close();
  });
});

import type Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteEventStore, StoreClosedError, type EventStore } from '@spoc/event-store';
import { testEvent } from '../../event-store/src/testing/events';
import { EventCodec, type DecodedEvent } from './event-codec';
import { PersonalDataVault } from './personal-data-vault';
import { ProjectionRunner, type Projection } from './projection-runner';
import { openReadModelDb } from './read-model-db';

/** Counts events per stream; throws on an event marked `poison`, as a buggy read model would. */
class CountingProjection implements Projection {
  readonly name: string = 'counting';
  readonly version = 1;
  readonly eventTypes = ['Counted'];
  readonly tables: Record<string, string> = { counts: 'CREATE TABLE IF NOT EXISTS counts (stream_id TEXT PRIMARY KEY, n INTEGER NOT NULL)' };
  readonly indexes: readonly string[] = ['CREATE INDEX IF NOT EXISTS counts_by_n ON counts (n)'];
  private upsert!: Database.Statement;

  prepare(db: Database.Database): void {
    this.upsert = db.prepare('INSERT INTO counts (stream_id, n) VALUES (?, 1) ON CONFLICT (stream_id) DO UPDATE SET n = n + 1');
  }

  apply(event: DecodedEvent): void {
    if ((event.data as { poison?: boolean }).poison) throw new Error('read model bug');
    this.upsert.run(event.streamId);
  }
}

/** The same count in a table of its own, applied at once: what a caller reads right after its own write. */
class StatusProjection extends CountingProjection {
  override readonly name = 'status';
  readonly readYourWrites = true;
  override readonly tables: Record<string, string> = { statuses: 'CREATE TABLE IF NOT EXISTS statuses (stream_id TEXT PRIMARY KEY, n INTEGER NOT NULL)' };
  private insert!: Database.Statement;

  override prepare(db: Database.Database): void {
    this.insert = db.prepare('INSERT INTO statuses (stream_id, n) VALUES (?, 1) ON CONFLICT (stream_id) DO UPDATE SET n = n + 1');
  }

  override apply(event: DecodedEvent): void {
    this.insert.run(event.streamId);
  }
}

/**
 * The real store, except that its first subscription breaks after `events` events, as a dropped connection does;
 * from then on, reads go to `afterwards` if given (a log restored from a backup while the connection was down).
 */
function droppingOnce(first: EventStore, events: number, afterwards: EventStore = first): EventStore {
  let dropped = false;
  let store = first;
  return {
    append: (...args) => store.append(...args),
    readStream: (...args) => store.readStream(...args),
    readAll: (...args) => store.readAll(...args),
    streamRevision: (...args) => store.streamRevision(...args),
    headPosition: () => store.headPosition(),
    close: () => store.close(),
    subscribeToAll(options) {
      const inner = store.subscribeToAll(options);
      if (dropped) return inner;
      dropped = true;
      return {
        close: () => inner.close(),
        async *[Symbol.asyncIterator]() {
          let seen = 0;
          const drop = () => {
            store = afterwards;
            return new Error('connection dropped');
          };
          if (events === 0) throw drop();
          for await (const event of inner) {
            yield event;
            if (++seen === events) throw drop();
          }
        },
      };
    },
  };
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

  // A restore leaves a log shorter than the checkpoint; appended to before the service starts again, it may be
  // longer, with other events at the checkpoint's position.
  it.each([
    ['shorter than its checkpoint', 2],
    ['that has grown past its checkpoint', 8],
  ])('rebuilds its read models from a restored log %s, and then follows it', async (_, restored) => {
    await store.append('old', Array.from({ length: 5 }, () => testEvent('Counted')), 'no-stream');
    const before = runner();
    before.runner.start();
    await before.runner.catchUp();
    await before.runner.stop();
    before.db.close();

    await store.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(path.join(directory, `events.sqlite${suffix}`), { force: true });
    store = new SqliteEventStore(path.join(directory, 'events.sqlite'));
    await store.append('restored', Array.from({ length: restored }, () => testEvent('Counted')), 'no-stream');

    const after = runner();
    after.runner.start();
    await after.runner.catchUp();
    expect([count(after.db, 'old'), count(after.db, 'restored')]).toEqual([0, restored]);
    expect(after.db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'counts_by_n'").get()).toBeDefined();
    await store.append('new', [testEvent('Counted')], 'no-stream');
    expect(await after.runner.waitFor((await store.headPosition())!, 5000)).toBe(true);
    expect(count(after.db, 'new')).toBe(1);
    await after.runner.stop();
    after.db.close();
  });

  describe('query indexes', () => {
    const indexed = (db: Database.Database) => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'counts_by_n'").get() !== undefined;
    /** Both lanes' checkpoints at a position, as a process that stopped there leaves them. */
    const checkpointBoth = (db: Database.Database, position: number) => {
      for (const name of ['test', 'test/deferred']) db.prepare('INSERT OR REPLACE INTO checkpoints (name, position, event_id) VALUES (?, ?, NULL)').run(name, position);
    };
    /** The counting read model, noting before each event whether its query index is there yet. */
    const watchingIndex = (db: Database.Database, seen: boolean[]) =>
      new (class extends CountingProjection {
        override apply(event: DecodedEvent): void {
          seen.push(indexed(db));
          super.apply(event);
        }
      })();

    it('are built once read models filled from the whole log have caught up, not kept up event by event', async () => {
      await store.append('a', Array.from({ length: 5 }, () => testEvent('Counted')), 'no-stream');
      const db = openReadModelDb(path.join(directory, 'read-models.sqlite'));
      const seen: boolean[] = [];
      const watching = watchingIndex(db, seen);
      const rebuilding = new ProjectionRunner('test', store, db, new EventCodec(vault), [watching]);
      rebuilding.start();
      await rebuilding.catchUp();
      expect(seen).toEqual([false, false, false, false, false]);
      expect(indexed(db)).toBe(true);
      await rebuilding.stop();
      db.close();
    });

    it('are still left to the end when filling the read models was cut short and the file is opened again', async () => {
      await store.append('a', Array.from({ length: 5 }, () => testEvent('Counted')), 'no-stream');
      const file = path.join(directory, 'read-models.sqlite');
      const first = openReadModelDb(file);
      new ProjectionRunner('test', store, first, new EventCodec(vault), [new CountingProjection()]);
      // As a process killed after its first batch leaves it: two events applied, both lanes' checkpoints with them.
      checkpointBoth(first, 2);
      first.exec("INSERT INTO counts (stream_id, n) VALUES ('a', 2)");
      first.close();
      const db = openReadModelDb(file);
      const seen: boolean[] = [];
      const watching = watchingIndex(db, seen);
      const resumed = new ProjectionRunner('test', store, db, new EventCodec(vault), [watching]);
      expect(indexed(db)).toBe(false);
      resumed.start();
      await resumed.catchUp();
      expect(seen).toEqual([false, false, false]);
      expect(indexed(db)).toBe(true);
      expect(count(db, 'a')).toBe(5);
      await resumed.stop();
      db.close();
      // Once built, they are kept up as the read models go on: nothing is left pending.
      const again = runner();
      expect(again.db.prepare('SELECT count(*) AS n FROM pending_indexes').get()).toEqual({ n: 0 });
      again.db.close();
    });

    it('are built at once when filling the read models was cut short after its last batch', async () => {
      await store.append('a', Array.from({ length: 3 }, () => testEvent('Counted')), 'no-stream');
      const file = path.join(directory, 'read-models.sqlite');
      const first = openReadModelDb(file);
      new ProjectionRunner('test', store, first, new EventCodec(vault), [new CountingProjection()]);
      // Killed while building the indexes (or just before): every event applied, the indexes still pending.
      checkpointBoth(first, Number(await store.headPosition()));
      first.exec("INSERT INTO counts (stream_id, n) VALUES ('a', 3)");
      first.close();
      const db = openReadModelDb(file);
      const resumed = new ProjectionRunner('test', store, db, new EventCodec(vault), [new CountingProjection()]);
      resumed.start();
      await resumed.catchUp();
      for (const deadline = Date.now() + 3000; !indexed(db) && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 20));
      expect([indexed(db), db.prepare('SELECT count(*) AS n FROM pending_indexes').get(), count(db, 'a')]).toEqual([true, { n: 0 }, 3]);
      await resumed.stop();
      db.close();
    });

    it('are built when filling the read models stops at a failing event, for the queries served meanwhile', async () => {
      await store.append('a', [testEvent('Counted'), testEvent('Counted', { poison: true }), testEvent('Counted')], 'no-stream');
      const { runner: failing, db } = runner();
      failing.start();
      await failing.catchUp();
      expect(failing.failed).toBeInstanceOf(Error);
      expect(indexed(db)).toBe(true);
      await failing.stop();
      db.close();
    });

    it('are there from the start on an empty log, and kept up as read models already filled go on', async () => {
      const { runner: empty, db } = runner();
      empty.start();
      await empty.catchUp();
      expect(indexed(db)).toBe(true);
      await store.append('a', [testEvent('Counted')], 'no-stream');
      expect(await empty.waitFor((await store.headPosition())!, 5000)).toBe(true);
      await empty.stop();
      // Read models stopped half way through being filled (or from before an index was added) get it on opening.
      db.exec('DROP INDEX counts_by_n');
      db.close();
      const reopened = runner();
      expect(indexed(reopened.db)).toBe(true);
      reopened.db.close();
    });
  });

  it('reads the log again from its checkpoint when the subscription to it breaks, and applies every event once', async () => {
    await store.append('a', [testEvent('Counted'), testEvent('Counted'), testEvent('Counted')], 'no-stream');
    const db = openReadModelDb(path.join(directory, 'read-models.sqlite'));
    const reading = new ProjectionRunner('test', droppingOnce(store, 2), db, new EventCodec(vault), [new CountingProjection()]);
    reading.start();
    await store.append('a', [testEvent('Counted')], 2n);
    expect(await reading.waitFor((await store.headPosition())!, 5000)).toBe(true);
    expect(count(db, 'a')).toBe(4);
    expect(reading.failed).toBeNull();
    expect(reading.reconnecting).toBe(false);
    await reading.stop();
    db.close();
  });

  it('is well again once it has read the log again, though nothing new was appended', async () => {
    await store.append('a', [testEvent('Counted'), testEvent('Counted')], 'no-stream');
    const db = openReadModelDb(path.join(directory, 'read-models.sqlite'));
    const reading = new ProjectionRunner('test', droppingOnce(store, 2), db, new EventCodec(vault), [new CountingProjection()]);
    reading.start();
    await reading.catchUp();
    for (const deadline = Date.now() + 3000; reading.reconnecting && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(reading.reconnecting).toBe(false);
    expect([count(db, 'a'), reading.failed]).toEqual([2, null]);
    await reading.stop();
    db.close();
  });

  it('stops, rather than read on from its checkpoint, when the log was replaced while it read it again', async () => {
    await store.append('a', [testEvent('Counted'), testEvent('Counted'), testEvent('Counted')], 'no-stream');
    // Restored from an older backup meanwhile: shorter than the checkpoint, other events at its positions.
    const restored = new SqliteEventStore(path.join(directory, 'restored-events.sqlite'));
    await restored.append('b', [testEvent('Counted')], 'no-stream');
    const db = openReadModelDb(path.join(directory, 'read-models.sqlite'));
    const reading = new ProjectionRunner('test', droppingOnce(store, 3, restored), db, new EventCodec(vault), [new CountingProjection()]);
    reading.start();
    for (const deadline = Date.now() + 3000; !reading.failed && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(String(reading.failed)).toMatch(/the log was replaced/);
    expect([count(db, 'a'), count(db, 'b')]).toEqual([3, 0]);
    await reading.stop();
    await restored.close();
    db.close();
  });

  it('stops, rather than try for ever, when the store it reads is closed for good', async () => {
    const db = openReadModelDb(path.join(directory, 'read-models.sqlite'));
    const closing = new SqliteEventStore(path.join(directory, 'other-events.sqlite'));
    const reading = new ProjectionRunner('test', closing, db, new EventCodec(vault), [new CountingProjection()]);
    reading.start();
    await reading.catchUp();
    await closing.close();
    for (const deadline = Date.now() + 3000; !reading.failed && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(reading.failed).toBeInstanceOf(StoreClosedError);
    await reading.stop();
    db.close();
  });

  it('answers at once, when it stops at a failing event, everyone still waiting on it', async () => {
    const { runner: failing, db } = runner();
    failing.start();
    await failing.catchUp();
    const started = Date.now();
    const waiting = [failing.until('r-1', () => count(db, 'r') > 5, 10_000), failing.waitFor(100n, 10_000)];
    await store.append('r', [testEvent('Counted', { referralId: 'r-1', poison: true })], 'no-stream');
    expect(await Promise.all(waiting)).toEqual([false, false]);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await failing.until('r-1', () => false, 10_000)).toBe(false);
    await failing.stop();
    db.close();
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

  describe('with a read-your-writes lane', () => {
    const open = () => {
      const db = openReadModelDb(path.join(directory, 'read-models.sqlite'));
      return { db, runner: new ProjectionRunner('test', store, db, new EventCodec(vault), [new StatusProjection(), new CountingProjection()]) };
    };
    const statuses = (db: Database.Database, streamId: string) =>
      (db.prepare('SELECT n FROM statuses WHERE stream_id = ?').get(streamId) as { n: number } | undefined)?.n ?? 0;

    /** Reopens the same file with the counting read model fixed (the poison flag no longer trips it), caught up. */
    async function afterTheFix(check: (db: Database.Database) => void): Promise<void> {
      const db = openReadModelDb(path.join(directory, 'read-models.sqlite'));
      const fixed = new (class extends CountingProjection {
        override apply(event: DecodedEvent): void {
          super.apply({ ...event, data: {} });
        }
      })();
      const runner = new ProjectionRunner('test', store, db, new EventCodec(vault), [new StatusProjection(), fixed]);
      runner.start();
      await runner.catchUp();
      check(db);
      await runner.stop();
      db.close();
    }

    it('lets a caller wait for the read-your-writes read models alone, and the others follow', async () => {
      const { db, runner: lanes } = open();
      lanes.start();
      const { position } = await store.append('c', [testEvent('Counted')], 'no-stream');
      expect(await lanes.waitFor(position, 2000, 'read-your-writes')).toBe(true);
      expect(statuses(db, 'c')).toBe(1);
      expect(await lanes.waitFor(position, 2000)).toBe(true);
      expect(count(db, 'c')).toBe(1);
      expect(lanes.checkpoint).toBe(position);
      await lanes.stop();
      db.close();
    });

    it('after a failure in the later lane, resumes each lane where it stood: nothing applied twice or missed', async () => {
      const first = open();
      first.runner.start();
      await store.append('d', [testEvent('Counted')], 'no-stream');
      await first.runner.catchUp();
      // The counting read model fails on this event; the status lane has already applied it.
      const poisoned = await store.append('d', [testEvent('Counted', { poison: true })], 0n);
      expect(await first.runner.waitFor(poisoned.position, 300)).toBe(false);
      expect(first.runner.failed).toBeInstanceOf(Error);
      expect(statuses(first.db, 'd')).toBe(2);
      expect(count(first.db, 'd')).toBe(1);
      await first.runner.stop();
      first.db.close();

      // Fixed: the later lane catches up, the first does not apply again.
      await afterTheFix((db) => {
        expect(statuses(db, 'd')).toBe(2);
        expect(count(db, 'd')).toBe(2);
      });
    });

    it('applies in the later lane what it never got to, even when the first lane has it and no later checkpoint was ever saved', async () => {
      // The very first event fails in the later lane: its checkpoint is never advanced, the first lane's is.
      await store.append('f', [testEvent('Counted', { poison: true })], 'no-stream');
      const first = open();
      first.runner.start();
      expect(await first.runner.waitFor(1n, 300)).toBe(false);
      expect(statuses(first.db, 'f')).toBe(1);
      await first.runner.stop();
      first.db.close();
      await afterTheFix((db) => {
        expect(count(db, 'f')).toBe(1);
        expect(statuses(db, 'f')).toBe(1);
      });
    });

    it('takes a file written with one checkpoint for every read model as covering both lanes', async () => {
      const { position } = await store.append('e', [testEvent('Counted')], 'no-stream');
      const { db, runner: once } = open();
      once.start();
      await once.catchUp();
      await once.stop();
      db.prepare("DELETE FROM checkpoints WHERE name = 'test/deferred'").run();
      db.close();
      const again = open();
      expect(again.runner.checkpoint).toBe(position);
      again.runner.start();
      await store.append('e', [testEvent('Counted')], 0n);
      await again.runner.catchUp();
      expect(count(again.db, 'e')).toBe(2);
      expect(statuses(again.db, 'e')).toBe(2);
      await again.runner.stop();
      again.db.close();
    });
  });
});

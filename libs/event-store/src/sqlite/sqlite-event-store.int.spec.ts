import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eventStoreContract, type ContractTarget } from '../testing/event-store.contract';
import { testEvent } from '../testing/events';
import { SqliteEventStore } from './sqlite-event-store';

let directory: string;

beforeAll(() => {
  directory = mkdtempSync(path.join(tmpdir(), 'spoc-store-'));
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

let counter = 0;
let currentFile = '';

for (const writer of ['thread', 'inline'] as const) {
  const openAt = (file: string): ContractTarget => {
    const store = new SqliteEventStore(file, { pollIntervalMs: 20, writer });
    return { store, cleanup: () => store.close() };
  };

  eventStoreContract(
  `SQLite (${writer} writer)`,
  async () => {
    counter += 1;
    currentFile = path.join(directory, `events-${counter}.sqlite`);
    return openAt(currentFile);
  },
  {
    async tamper(_target, streamId, revision) {
      // Another connection, as someone with the file would do it: the store is not asked.
      const db = new Database(currentFile);
      db.prepare(`UPDATE events SET data = json_set(data, '$.level', 'standard') WHERE stream_id = ? AND revision = ?`).run(
        streamId,
        Number(revision),
      );
      db.close();
    },
    durability: {
      factoryModule: path.join(__dirname, 'sqlite-store.factory.ts'),
      argument: () => currentFile,
      reopen: async () => openAt(currentFile),
    },
  },
  );
}

describe('SQLite event store reading in pages', () => {
  it('reads the whole log backwards across pages, down to its first event and no further', async () => {
    const store = new SqliteEventStore(path.join(directory, 'paged.sqlite'), { pageSize: 2, writer: 'inline' });
    try {
      // Positions start at 1: the event n is at n + 1.
      for (let n = 0; n < 5; n += 1) await store.append(`paged-${n}`, [testEvent('Paged', { n })], 'no-stream');
      const read = async (options: Parameters<SqliteEventStore['readAll']>[0]) => {
        const seen: unknown[] = [];
        for await (const event of store.readAll(options)) seen.push(event.data);
        return seen;
      };

      expect(await read({ direction: 'backwards' })).toEqual([4, 3, 2, 1, 0].map((n) => ({ n })));
      expect(await read({ direction: 'backwards', fromPosition: 3n, maxCount: 5 })).toEqual([2, 1, 0].map((n) => ({ n })));
      expect(await read({ direction: 'backwards', maxCount: 3, filter: { eventTypes: ['Paged'] } })).toEqual([4, 3, 2].map((n) => ({ n })));
    } finally {
      await store.close();
    }
  });
});

describe('SQLite event store across processes', () => {
  it('lets a subscriber see events another process wrote, by polling', async () => {
    const file = path.join(directory, 'shared.sqlite');
    const reader = new SqliteEventStore(file, { pollIntervalMs: 20 });
    const writer = new SqliteEventStore(file);
    const subscription = reader.subscribeToAll();
    const iterator = subscription[Symbol.asyncIterator]();
    const next = iterator.next();

    const { testEvent } = await import('../testing/events');
    await writer.append('referral-x', [testEvent('ReferralReceived')], 'no-stream');

    const received = await next;
    expect(received.value).toMatchObject({ streamId: 'referral-x', type: 'ReferralReceived' });
    await subscription.close();
    await writer.close();
    await reader.close();
  });

  it.each(['thread', 'inline'] as const)('sees another writer of the same file before each append (%s writer)', async (mode) => {
    // Each writer remembers the streams it wrote; a commit by anyone else must make it look again.
    const file = path.join(directory, `two-writers-${mode}.sqlite`);
    const first = new SqliteEventStore(file, { writer: mode });
    const second = new SqliteEventStore(file, { writer: mode });
    const { testEvent } = await import('../testing/events');
    await first.append('case-shared', [testEvent('CaseOpened')], 'no-stream');
    await second.append('case-shared', [testEvent('CaseClaimed')], 0n);
    await expect(first.append('case-shared', [testEvent('CaseClosed')], 0n)).rejects.toMatchObject({ name: 'WrongExpectedVersionError' });
    await first.append('case-shared', [testEvent('CaseClosed')], 1n);
    await second.append('case-shared', [testEvent('CaseReopened')], 2n);
    const revisions: bigint[] = [];
    for await (const event of first.readStream('case-shared')) revisions.push(event.revision);
    expect(revisions).toEqual([0n, 1n, 2n, 3n]);
    const verify = new Database(file, { readonly: true });
    const links = verify.prepare('SELECT revision, previous_hash, hash FROM events WHERE stream_id = ? ORDER BY revision').all('case-shared') as Array<{ previous_hash: string | null; hash: string }>;
    verify.close();
    links.slice(1).forEach((link, index) => expect(link.previous_hash).toBe(links[index].hash));
    await first.close();
    await second.close();
  });
});

describe('SQLite event store whose writer thread dies', () => {
  it('refuses the appends it can no longer commit, and still closes', async () => {
    const store = new SqliteEventStore(path.join(directory, 'writer-dies.sqlite'));
    const { testEvent } = await import('../testing/events');
    await store.append('referral-before', [testEvent('ReferralReceived')], 'no-stream');
    // Killed from outside, as the operating system or an out-of-memory would: no error event, only an exit.
    await (store as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();

    await expect(store.append('referral-after', [testEvent('ReferralReceived')], 'no-stream')).rejects.toMatchObject({ name: 'StoreClosedError' });
    await expect(Promise.race([store.close().then(() => 'closed'), new Promise((resolve) => setTimeout(() => resolve('hung'), 2000))])).resolves.toBe('closed');
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteEventStore, verifyStream, type RecordedEvent } from '@spoc/event-store';
import { EventCodec, PersonalDataVault } from '@spoc/platform';
import { AccessLog, type AccessRecord } from './access-log';

const REFERRAL = '3f1e6a0c-2b7d-4c55-9d0e-8f6a1b2c3d4e';

/** The real store, refusing its first append as a failed commit would. */
class FlakyStore extends SqliteEventStore {
  private refused = false;
  override append(...args: Parameters<SqliteEventStore['append']>) {
    if (this.refused) return super.append(...args);
    this.refused = true;
    return Promise.reject(Object.assign(new Error('commit failed'), { name: 'WriterFailedError' }));
  }
}

function entry(at: string, n = 0): AccessRecord {
  return {
    actor: { id: `p-${n}`, role: 'referrer', agency: 'hampshire-police' },
    method: 'GET',
    route: 'GET /v1/referrals/:id',
    referralIds: [REFERRAL],
    caseIds: [],
    outcome: 'allowed',
    statusCode: 200,
    at,
    correlationId: `c-${n}`,
  };
}

describe('the access log recorder', () => {
  let directory: string;
  let store: SqliteEventStore;
  let vault: PersonalDataVault;
  let codec: EventCodec;

  beforeEach(() => {
    directory = mkdtempSync(path.join(tmpdir(), 'spoc-access-'));
    store = new SqliteEventStore(path.join(directory, 'events.sqlite'));
    vault = new PersonalDataVault(path.join(directory, 'keys.sqlite'));
    codec = new EventCodec(vault);
  });
  afterEach(async () => {
    await store.close();
    vault.close();
    rmSync(directory, { recursive: true, force: true });
  });

  const read = async (streamId: string) => {
    const events: RecordedEvent[] = [];
    for await (const event of store.readStream(streamId)) events.push(event);
    return events;
  };

  async function eventually(condition: () => Promise<boolean>, timeoutMs = 2000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > until) throw new Error('condition not met in time');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  const entriesOf = (events: RecordedEvent[]) => events.flatMap((event) => (event.data as { entries: AccessRecord[] }).entries);

  it('appends each batch as one event on a hash-chained stream per day, records in the order they were answered', async () => {
    const log = new AccessLog(store, codec);
    log.record(entry('2026-11-23T23:59:59.999Z', 1));
    log.record(entry('2026-11-24T00:00:00.000Z', 2));
    log.record(entry('2026-11-23T23:59:59.999Z', 3));

    const position = await log.flushed();

    const first = await read('access-2026-11-23');
    const second = await read('access-2026-11-24');
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ type: 'AccessRecorded', metadata: { actor: { id: 'access-log', role: 'system' } } });
    expect(entriesOf(first)).toEqual([entry('2026-11-23T23:59:59.999Z', 1), entry('2026-11-23T23:59:59.999Z', 3)]);
    expect(entriesOf(second).map((record) => record.correlationId)).toEqual(['c-2']);
    expect(await verifyStream(store.readStream('access-2026-11-23'))).toEqual({ valid: true, checked: 1 });
    expect(position).toBe(await store.headPosition());
  });

  it('writes a full batch at once and the rest after the interval, never one commit per read', async () => {
    const log = new AccessLog(store, codec, { batchSize: 3, flushIntervalMs: 60_000 });
    for (let n = 0; n < 4; n += 1) log.record(entry('2026-11-23T10:00:00.000Z', n));

    await eventually(async () => (await read('access-2026-11-23')).length === 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stored = await read('access-2026-11-23');
    expect(stored).toHaveLength(1);
    expect(entriesOf(stored)).toHaveLength(3);

    await log.onApplicationShutdown();
    expect(entriesOf(await read('access-2026-11-23')).map((record) => record.correlationId)).toEqual(['c-0', 'c-1', 'c-2', 'c-3']);
  });

  it('stores a lone record within the flush interval without being asked', async () => {
    const log = new AccessLog(store, codec, { flushIntervalMs: 20 });
    log.record(entry('2026-11-23T10:00:00.000Z'));
    // Unasked: the deadline only allows for a loaded machine (the store's first append starts its writer thread).
    await eventually(async () => entriesOf(await read('access-2026-11-23')).length === 1, 4000);
  });

  it('keeps records the store refused and stores them on the next flush', async () => {
    const flaky = new FlakyStore(path.join(directory, 'events.sqlite'));
    const log = new AccessLog(flaky, codec, { flushIntervalMs: 60_000 });
    log.record(entry('2026-11-23T10:00:00.000Z'));
    await log.flushed();
    expect(await read('access-2026-11-23')).toHaveLength(0);

    await log.flushed();
    expect(entriesOf(await read('access-2026-11-23'))).toEqual([entry('2026-11-23T10:00:00.000Z')]);
    await flaky.close();
  });
});

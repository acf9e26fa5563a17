import type Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteEventStore } from '@spoc/event-store';
import { EventCodec, openReadModelDb, PersonalDataVault, ProjectionRunner } from '@spoc/platform';
import { AccessLog, type AccessRecord } from './access-log';
import { AccessLogProjection, type AccessLogQuery } from './access-log.projection';
import { accessEntries } from './access-log.query';

const REFERRAL = '3f1e6a0c-2b7d-4c55-9d0e-8f6a1b2c3d4e';
const OTHER = '9a1e6a0c-2b7d-4c55-9d0e-8f6a1b2c3d4e';
const CASE = '6f0c1a52-8a55-4a3e-9d8e-2b2c9f0f1d11';

function entry(n: number, actor: string, ids: { referralIds?: string[]; caseIds?: string[] }): AccessRecord {
  return {
    actor: { id: actor, role: 'referrer', agency: 'hampshire-police' },
    method: 'GET',
    route: 'GET /v1/referrals/:id',
    referralIds: ids.referralIds ?? [],
    caseIds: ids.caseIds ?? [],
    outcome: 'allowed',
    statusCode: 200,
    at: `2026-11-23T10:00:0${n}.000Z`,
    correlationId: `c-${n}`,
  };
}

describe('querying the access log', () => {
  let directory: string;
  let store: SqliteEventStore;
  let vault: PersonalDataVault;
  let readDb: Database.Database;
  let runner: ProjectionRunner;
  let index: AccessLogProjection;

  beforeAll(async () => {
    directory = mkdtempSync(path.join(tmpdir(), 'spoc-access-query-'));
    store = new SqliteEventStore(path.join(directory, 'events.sqlite'));
    vault = new PersonalDataVault(path.join(directory, 'keys.sqlite'));
    const codec = new EventCodec(vault);
    readDb = openReadModelDb(path.join(directory, 'read-models.sqlite'));
    index = new AccessLogProjection();
    runner = new ProjectionRunner('test', store, readDb, codec, [index]);
    runner.start();
    // Batches of two: entries of one referral and one actor spread over several events.
    const log = new AccessLog(store, codec, { batchSize: 2, flushIntervalMs: 60_000 });
    log.record(entry(0, 'alice', { referralIds: [REFERRAL] }));
    log.record(entry(1, 'bob', { referralIds: [OTHER] }));
    log.record(entry(2, 'alice', { caseIds: [CASE] }));
    log.record(entry(3, 'bob', { referralIds: [REFERRAL] }));
    log.record(entry(4, 'alice', { referralIds: [OTHER] }));
    log.record(entry(5, 'alice', { referralIds: [REFERRAL] }));
    await runner.waitFor((await log.flushed())!);
  });
  afterAll(async () => {
    await runner.stop();
    await store.close();
    vault.close();
    readDb.close();
    rmSync(directory, { recursive: true, force: true });
  });

  const find = async (query: AccessLogQuery, limit = 50, offset = 0) =>
    (await accessEntries(store, index.batches(query), { ...query, limit, offset })).map((found) => found.correlationId);

  it('finds every entry that names the referral or one of its cases, in log order', async () => {
    expect(await find({ subjectIds: [REFERRAL, CASE] })).toEqual(['c-0', 'c-2', 'c-3', 'c-5']);
    expect(await find({ subjectIds: [REFERRAL] })).toEqual(['c-0', 'c-3', 'c-5']);
  });

  it("finds an actor's entries, alone or with a referral", async () => {
    expect(await find({ actorId: 'bob' })).toEqual(['c-1', 'c-3']);
    expect(await find({ actorId: 'alice', subjectIds: [REFERRAL] })).toEqual(['c-0', 'c-5']);
    expect(await find({ actorId: 'nobody' })).toEqual([]);
  });

  it('filters by time to the entry, not only to the batch', async () => {
    expect(await find({ from: '2026-11-23T10:00:01.000Z', before: '2026-11-23T10:00:03.000Z' })).toEqual(['c-1', 'c-2']);
  });

  it('pages across batch boundaries without losing or repeating an entry', async () => {
    expect(await find({}, 4, 0)).toEqual(['c-0', 'c-1', 'c-2', 'c-3']);
    expect(await find({}, 4, 4)).toEqual(['c-4', 'c-5']);
    expect(await find({ subjectIds: [REFERRAL] }, 1, 1)).toEqual(['c-3']);
  });

  it('gives each entry its place in the log: the event and the place in it', async () => {
    const [first, second, third] = await accessEntries(store, index.batches({}), { limit: 3, offset: 0 });
    expect(first.position).toBe(second.position);
    expect([first.entry, second.entry, third.entry]).toEqual([0, 1, 0]);
    expect(BigInt(third.position)).toBeGreaterThan(BigInt(first.position));
  });
});

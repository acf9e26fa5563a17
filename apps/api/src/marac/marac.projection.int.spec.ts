import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { streams } from '@spoc/domain';
import { SqliteEventStore } from '@spoc/event-store';
import { EventCodec, openReadModelDb, PersonalDataVault, ProjectionRunner } from '@spoc/platform';
import { MaracProjection } from './marac.projection';

const context = { actor: { id: 'spec', role: 'system' as const }, correlationId: 'spec', causationId: null };

describe('the MARAC lists, fed from a real SQLite log', () => {
  let directory: string;
  let store: SqliteEventStore;
  let vault: PersonalDataVault;
  let runner: ProjectionRunner;
  let projection: MaracProjection;

  beforeEach(() => {
    directory = mkdtempSync(path.join(tmpdir(), 'spoc-marac-'));
    store = new SqliteEventStore(path.join(directory, 'events.sqlite'), { writer: 'inline' });
    vault = new PersonalDataVault(path.join(directory, 'keys.sqlite'));
    projection = new MaracProjection();
    runner = new ProjectionRunner('spec', store, openReadModelDb(path.join(directory, 'read.sqlite')), new EventCodec(vault), [projection]);
    runner.start();
  });
  afterEach(async () => {
    await runner.stop();
    await store.close();
    vault.close();
    rmSync(directory, { recursive: true, force: true });
  });

  /** A decision on the referral at `routedAt`, listing it at the daily meeting of `date` (09:30 London, BST or not). */
  async function decided(referralId: string, decisionNumber: number, routedAt: string, meeting: { date: string; startsAt: string } | null) {
    const marac = meeting && { meetingId: `marac-daily-${meeting.date}`, date: meeting.date, kind: 'daily', startsAt: meeting.startsAt, repeat: false, hasChildren: true };
    const data = { referralId, decisionNumber, facts: { routedAt }, outcome: { marac }, cases: [], schools: {} };
    await store.append(streams.referral(referralId), new EventCodec(vault).encode([{ type: 'ReferralRouted', data }], context, await vault.newKey()), 'any');
  }
  const listed = async (date: string) => {
    await runner.catchUp();
    return projection.casesBetween(date, date).map((row) => row.referral_id);
  };

  it('keeps a listing whose meeting has begun when the referral is decided again that day, and replaces one not yet begun', async () => {
    await decided('heard', 0, '2026-11-23T10:00:00.000Z', { date: '2026-11-24', startsAt: '2026-11-24T09:30:00.000Z' });
    await decided('not-yet', 0, '2026-11-23T10:00:00.000Z', { date: '2026-11-24', startsAt: '2026-11-24T09:30:00.000Z' });
    await decided('heard', 1, '2026-11-24T14:00:00.000Z', { date: '2026-11-25', startsAt: '2026-11-25T09:30:00.000Z' });
    await decided('not-yet', 1, '2026-11-24T09:00:00.000Z', { date: '2026-11-25', startsAt: '2026-11-25T09:30:00.000Z' });

    expect(await listed('2026-11-24')).toEqual(['heard']);
    expect((await listed('2026-11-25')).sort()).toEqual(['heard', 'not-yet']);
  });

  it('keeps yesterday’s meeting when decided again just after midnight in summer time (still the day before in UTC)', async () => {
    // 00:30 on 2 July in London is 23:30 on 1 July in UTC; the meeting of 1 July began at 08:30 UTC.
    await decided('summer', 0, '2026-06-30T10:00:00.000Z', { date: '2026-07-01', startsAt: '2026-07-01T08:30:00.000Z' });
    await decided('summer', 1, '2026-07-01T23:30:00.000Z', { date: '2026-07-02', startsAt: '2026-07-02T08:30:00.000Z' });

    expect(await listed('2026-07-01')).toEqual(['summer']);
    expect(await listed('2026-07-02')).toEqual(['summer']);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { RecordedEvent } from '@spoc/event-store';
import { flushRowTables, openReadModelDb } from '@spoc/platform';
import { ReferralStatusProjection } from './referral-status.projection';

describe('the referral status read model on a real SQLite file', () => {
  let dir: string;
  let db: Database.Database;
  let status: ReferralStatusProjection;
  let position = 0n;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'spoc-status-'));
    db = openReadModelDb(path.join(dir, 'read-models.sqlite'));
    status = new ReferralStatusProjection();
    for (const statement of Object.values(status.tables)) db.exec(statement);
    status.prepare(db);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function apply(type: string, data: object): void {
    position += 1n;
    status.apply({ type, data, streamId: 'referral-r-1', position, revision: 0n } as unknown as RecordedEvent);
    flushRowTables(db); // as the runner does at the end of each batch
  }

  it('takes an erased referral off the list the SPOC team routes by hand: nothing is left to route on', () => {
    apply('ReferralReceived', { referralId: 'r-1', agency: 'hampshire-police', agencyReference: 'A-1', referralType: 'victim', receivedAt: '2026-11-23T09:00:00.000Z' });
    apply('RoutingFailed', { referralId: 'r-1', failedAt: '2026-11-23T09:00:01.000Z', errorKind: 'TypeError', onEventType: 'RiskAssessed' });
    expect(status.flaggedForRoutingByHandCount()).toBe(1);

    apply('ReferralErased', { referralId: 'r-1', reason: 'made-in-error', erasedAt: '2026-11-24T09:00:00.000Z' });
    expect(status.flaggedForRoutingByHandCount()).toBe(0);
    expect(status.flaggedForRoutingByHand(50, null)).toEqual([]);
    expect(JSON.parse(status.find('r-1')!.flags!)).toEqual(['personal-data-erased']);
    expect(JSON.parse(status.find('r-1')!.reasons!)).toEqual([expect.stringContaining('erased')]);
  });

  it('pages the referrals flagged for routing by hand oldest first, from after the last one shown', () => {
    for (const [id, at] of [['r-b', '2026-11-23T09:00:00.000Z'], ['r-a', '2026-11-23T09:00:00.000Z'], ['r-c', '2026-11-22T09:00:00.000Z']]) {
      apply('ReferralReceived', { referralId: id, agency: 'hampshire-police', agencyReference: id, referralType: 'victim', receivedAt: at });
      apply('RoutingFailed', { referralId: id, failedAt: at, errorKind: 'TypeError', onEventType: 'RiskAssessed' });
    }
    const ids = (rows: Array<{ referral_id: string }>) => rows.map((row) => row.referral_id);
    const first = status.flaggedForRoutingByHand(2, null);
    expect(ids(first)).toEqual(['r-c', 'r-a']);
    expect(ids(status.flaggedForRoutingByHand(2, [first[1].received_at, first[1].referral_id]))).toEqual(['r-b']);
  });
});


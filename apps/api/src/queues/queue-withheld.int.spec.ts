import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { RecordedEvent } from '@spoc/event-store';
import { openReadModelDb } from '@spoc/platform';
import { personalDataWithheldFrom, QueueProjection } from './queue.projection';

describe('an ended case after consent is withdrawn, as the queue read model withholds it', () => {
  let dir: string;
  let db: Database.Database;
  let queue: QueueProjection;
  let position = 0n;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'spoc-queue-withheld-'));
    db = openReadModelDb(path.join(dir, 'read-models.sqlite'));
    queue = new QueueProjection();
    for (const statement of [...Object.values(queue.tables), ...queue.indexes]) db.exec(statement);
    queue.prepare(db);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  function apply(type: string, data: object, streamId = `case-${(data as { caseId?: string }).caseId}`): void {
    position += 1n;
    queue.apply({ type, data, streamId, position, revision: 0n } as unknown as RecordedEvent);
  }

  it('withholds the person from the IDVA as from any voluntary provision the latest decision no longer routes to', () => {
    for (const [caseId, provision, riskLevel] of [['idva-case', 'idva', 'high'], ['outreach-case', 'outreach', 'medium']] as const) {
      apply('CaseOpened', { caseId, referralId: 'r1', provision, ruleIds: ['x'], status: 'routed', riskLevel, repeat: false, hasChildren: false,
        routedAt: '2026-11-23T09:00:00.000Z', dueBy: '2026-11-24T09:00:00.000Z', decisionNumber: 0 });
      apply('CaseClaimed', { caseId, assignee: 'w', claimedAt: '2026-11-23T10:00:00.000Z' });
      apply('CaseClosed', { caseId, outcome: 'other', note: null, closedAt: '2026-11-23T11:00:00.000Z' });
    }
    // Reassessed medium (by the referrer), then consent withdrawn: the latest decision holds outreach for consent, no IDVA.
    apply('ReferralRouted', { referralId: 'r1', facts: { consent: { given: false }, riskLevel: 'medium' },
      cases: [{ provision: 'outreach', caseId: 'outreach-2', status: 'held-awaiting-consent', opened: true }] }, 'referral-r1');
    expect(personalDataWithheldFrom(queue.find('outreach-case')!)).toBe(true); // control
    expect(queue.find('idva-case')!.risk_level).toBe('high'); // the level the case opened with, never updated once ended
    expect(personalDataWithheldFrom(queue.find('idva-case')!)).toBe(true);
  });

  it('keeps MASH, and the IDVA while the person is still high risk, seeing whom they worked with', () => {
    for (const [caseId, provision] of [['mash-case', 'mash'], ['idva-case', 'idva']] as const) {
      apply('CaseOpened', { caseId, referralId: 'r2', provision, ruleIds: ['x'], status: 'routed', riskLevel: 'high', repeat: false, hasChildren: true,
        routedAt: '2026-11-23T09:00:00.000Z', dueBy: '2026-11-24T09:00:00.000Z', decisionNumber: 0 });
      apply('CaseClaimed', { caseId, assignee: 'w', claimedAt: '2026-11-23T10:00:00.000Z' });
      apply('CaseClosed', { caseId, outcome: 'other', note: null, closedAt: '2026-11-23T11:00:00.000Z' });
    }
    // Consent withdrawn while high risk: the decision routes a new IDVA case; nothing routes to MASH any more.
    apply('ReferralRouted', { referralId: 'r2', facts: { consent: { given: false }, riskLevel: 'high' }, cases: [{ provision: 'idva', caseId: 'idva-2', status: 'routed', opened: true }] }, 'referral-r2');
    expect(personalDataWithheldFrom(queue.find('mash-case')!)).toBe(false);
    expect(personalDataWithheldFrom(queue.find('idva-case')!)).toBe(false);
    // Consent given again: nothing is withheld.
    apply('ReferralRouted', { referralId: 'r2', facts: { consent: { given: true }, riskLevel: 'medium' }, cases: [] }, 'referral-r2');
    expect(queue.find('idva-case')!.withheld_routed).toBeNull();
  });
});


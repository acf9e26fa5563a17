import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { CaseOpened } from '@spoc/domain';
import type { RecordedEvent } from '@spoc/event-store';
import { flushRowTables, openReadModelDb } from '@spoc/platform';
import { personalDataWithheldFrom, QUEUE_PAGE_SQL, QueueProjection, queueKeyOf } from './queue.projection';

describe('the queue read model on a real SQLite file', () => {
  let dir: string;
  let db: Database.Database;
  let queue: QueueProjection;
  let position = 0n;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'spoc-queue-'));
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
    flushRowTables(db); // as the runner does at the end of each batch
  }
  function open(caseId: string, overrides: Partial<CaseOpened['data']>): void {
    apply('CaseOpened', {
      caseId, referralId: `r-${caseId}`, provision: 'outreach', ruleIds: ['medium-risk'], status: 'routed', riskLevel: 'medium', repeat: false,
      hasChildren: false, routedAt: '2026-11-23T09:00:00.000Z', dueBy: '2026-11-25T09:00:00.000Z', decisionNumber: 0, ...overrides,
    });
  }

  /** A case at each step of the queue's order. */
  function openOneOfEach(): void {
    open('standard', { riskLevel: 'standard', routedAt: '2026-11-20T09:00:00.000Z' });
    open('medium-late', { routedAt: '2026-11-23T10:00:00.000Z' });
    open('medium-early', { routedAt: '2026-11-23T08:00:00.000Z' });
    open('medium-children', { hasChildren: true, routedAt: '2026-11-23T11:00:00.000Z' });
    open('medium-repeat', { repeat: true, routedAt: '2026-11-23T12:00:00.000Z' });
    open('high', { riskLevel: 'high', routedAt: '2026-11-23T13:00:00.000Z' });
  }

  it('fails on a malformed CaseOpened, a replayed one too, rather than skip it; a replayed well-formed one changes nothing', () => {
    open('c-1', {});
    apply('CaseClaimed', { caseId: 'c-1', assignee: 'w-1', claimedAt: '2026-11-23T10:00:00.000Z' });
    open('c-1', {});
    expect(queue.find('c-1')).toMatchObject({ status: 'active', assignee: 'w-1' });
    expect(() => open('c-1', { referralId: undefined as unknown as string })).toThrow(/CaseOpened without referralId/);
    expect(() => open('c-2', { routedAt: undefined as unknown as string })).toThrow(/CaseOpened without routedAt/);
  });

  it('orders by risk level, then repeat, then children, then oldest routing', () => {
    openOneOfEach();
    expect(queue.page('outreach', ['awaiting', 'active'], 50, null).map((row) => row.case_id)).toEqual([
      'high', 'medium-repeat', 'medium-children', 'medium-early', 'medium-late', 'standard',
    ]);
  });

  it('pages in that order from where the last page ended, so a case leaving the list skips no other', () => {
    openOneOfEach();
    open('high-twin', { riskLevel: 'high', routedAt: '2026-11-23T13:00:00.000Z' });
    const awaiting = (after: ReturnType<typeof queueKeyOf> | null) => queue.page('outreach', ['awaiting'], 2, after);
    const seen: string[] = [];
    let page = awaiting(null);
    while (page.length > 0) {
      seen.push(...page.map((row) => row.case_id));
      // A colleague claims the first case of every page as soon as it is shown: an offset would now skip one.
      apply('CaseClaimed', { caseId: page[0].case_id, assignee: 'w-2', claimedAt: '2026-11-23T14:00:00.000Z' });
      page = awaiting(queueKeyOf(page[page.length - 1]));
    }
    expect(seen).toEqual(['high', 'high-twin', 'medium-repeat', 'medium-children', 'medium-early', 'medium-late', 'standard']);
  });

  it('keeps held cases out, lists claimed ones as active, and closed ones only in the closed list', () => {
    open('held', { status: 'held-awaiting-consent', dueBy: null });
    open('claimed', {});
    open('closed', {});
    open('other-provision', { provision: 'idva' });
    apply('CaseClaimed', { caseId: 'claimed', assignee: 'w-1', claimedAt: '2026-11-23T10:00:00.000Z' });
    apply('CaseClaimed', { caseId: 'closed', assignee: 'w-1', claimedAt: '2026-11-23T10:00:00.000Z' });
    apply('CaseClosed', { caseId: 'closed', outcome: 'other', note: null, closedAt: '2026-11-23T11:00:00.000Z' });
    expect(queue.page('outreach', ['awaiting', 'active'], 50, null).map((row) => [row.case_id, row.status, row.assignee])).toEqual([['claimed', 'active', 'w-1']]);
    expect(queue.page('outreach', ['active'], 50, null).map((row) => row.case_id)).toEqual(['claimed']);
    expect(queue.page('outreach', ['closed'], 50, null).map((row) => row.case_id)).toEqual(['closed']);
  });

  it('does not reopen a case that ended when a later reassessment supersedes it', () => {
    open('c', {});
    apply('CaseDeclined', { caseId: 'c', reason: { sealed: 'x' }, declinedAt: '2026-11-23T10:00:00.000Z' });
    apply('CaseSuperseded', { caseId: 'c', referralId: 'r-c', decisionNumber: 1, supersededAt: '2026-11-23T11:00:00.000Z', reason: 'x' });
    expect(queue.find('c')?.status).toBe('declined');
  });

  it('reads a page of the queue through the index, not by sorting the table, the first page and those after', () => {
    const where = { provision: 'outreach', lane: 'open', status: 'awaiting', orStatus: 'active', limit: 50 };
    const after = { ...where, rank: 1, repeat: 0, children: 0, routedAt: '2026-11-23T09:00:00.000Z', caseId: 'c' };
    for (const [sql, parameters] of [[QUEUE_PAGE_SQL.first, where], [QUEUE_PAGE_SQL.after, after]] as const) {
      const details = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(parameters).map((row) => (row as { detail: string }).detail).join(' | ');
      expect(details).toContain('cases_queue');
      expect(details).not.toContain('TEMP B-TREE');
    }
  });

  it('withholds the person on an ended case, after consent is withdrawn, from the IDVA as from any voluntary provision the latest decision no longer routes to', () => {
    for (const [caseId, provision, riskLevel] of [['idva-case', 'idva', 'high'], ['outreach-case', 'outreach', 'medium']] as const) {
      open(caseId, { referralId: 'r1', provision, riskLevel });
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
      open(caseId, { referralId: 'r2', provision, riskLevel: 'high' });
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

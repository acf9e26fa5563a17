import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { CaseOpened } from '@spoc/domain';
import type { RecordedEvent } from '@spoc/event-store';
import { openReadModelDb } from '@spoc/platform';
import { QueueProjection } from './queue.projection';

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

  function apply(type: string, data: object): void {
    position += 1n;
    queue.apply({ type, data, streamId: `case-${(data as { caseId?: string }).caseId}`, position, revision: 0n } as unknown as RecordedEvent);
  }
  function open(caseId: string, overrides: Partial<CaseOpened['data']>): void {
    apply('CaseOpened', {
      caseId, referralId: `r-${caseId}`, provision: 'outreach', ruleIds: ['medium-risk'], status: 'routed', riskLevel: 'medium', repeat: false,
      hasChildren: false, routedAt: '2026-11-23T09:00:00.000Z', dueBy: '2026-11-25T09:00:00.000Z', decisionNumber: 0, ...overrides,
    });
  }

  it('orders by risk level, then repeat, then children, then oldest routing', () => {
    open('standard', { riskLevel: 'standard', routedAt: '2026-11-20T09:00:00.000Z' });
    open('medium-late', { routedAt: '2026-11-23T10:00:00.000Z' });
    open('medium-early', { routedAt: '2026-11-23T08:00:00.000Z' });
    open('medium-children', { hasChildren: true, routedAt: '2026-11-23T11:00:00.000Z' });
    open('medium-repeat', { repeat: true, routedAt: '2026-11-23T12:00:00.000Z' });
    open('high', { riskLevel: 'high', routedAt: '2026-11-23T13:00:00.000Z' });
    expect(queue.page('outreach', ['awaiting', 'active'], 50, 0).map((row) => row.case_id)).toEqual([
      'high', 'medium-repeat', 'medium-children', 'medium-early', 'medium-late', 'standard',
    ]);
  });

  it('keeps held cases out, lists claimed ones as active, and closed ones only in the closed list', () => {
    open('held', { status: 'held-awaiting-consent', dueBy: null });
    open('claimed', {});
    open('closed', {});
    open('other-provision', { provision: 'idva' });
    apply('CaseClaimed', { caseId: 'claimed', assignee: 'w-1', claimedAt: '2026-11-23T10:00:00.000Z' });
    apply('CaseClaimed', { caseId: 'closed', assignee: 'w-1', claimedAt: '2026-11-23T10:00:00.000Z' });
    apply('CaseClosed', { caseId: 'closed', outcome: 'other', note: null, closedAt: '2026-11-23T11:00:00.000Z' });
    expect(queue.page('outreach', ['awaiting', 'active'], 50, 0).map((row) => [row.case_id, row.status, row.assignee])).toEqual([['claimed', 'active', 'w-1']]);
    expect(queue.page('outreach', ['active'], 50, 0).map((row) => row.case_id)).toEqual(['claimed']);
    expect(queue.page('outreach', ['closed'], 50, 0).map((row) => row.case_id)).toEqual(['closed']);
  });

  it('does not reopen a case that ended when a later reassessment supersedes it', () => {
    open('c', {});
    apply('CaseDeclined', { caseId: 'c', reason: { sealed: 'x' }, declinedAt: '2026-11-23T10:00:00.000Z' });
    apply('CaseSuperseded', { caseId: 'c', referralId: 'r-c', decisionNumber: 1, supersededAt: '2026-11-23T11:00:00.000Z', reason: 'x' });
    expect(queue.find('c')?.status).toBe('declined');
  });

  it('reads a page of the queue through the index, not by sorting the table', () => {
    const plan = db.prepare(`EXPLAIN QUERY PLAN SELECT * FROM cases c WHERE c.provision = ? AND c.lane = ? AND c.status IN (?, ?)
      ORDER BY c.risk_rank, c.repeat DESC, c.has_children DESC, c.routed_at, c.case_id LIMIT 50`).all('outreach', 'open', 'awaiting', 'active');
    const details = plan.map((row) => (row as { detail: string }).detail).join(' | ');
    expect(details).toContain('cases_queue');
    expect(details).not.toContain('TEMP B-TREE');
  });
});

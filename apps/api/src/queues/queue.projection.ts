import { Injectable } from '@nestjs/common';
import type Database from 'better-sqlite3';
import { worksWithoutConsent, type CaseEvent, type CaseStatus, type ProvisionId, type ReferralRouted, type RiskLevel } from '@spoc/domain';
import type { RecordedEvent } from '@spoc/event-store';
import { RowTable, type Projection } from '@spoc/platform';

export interface CaseRow {
  case_id: string;
  referral_id: string;
  provision: ProvisionId;
  status: CaseStatus;
  route_status: string;
  risk_level: RiskLevel | null;
  risk_rank: number;
  repeat: number;
  has_children: number;
  routed_at: string;
  due_by: string | null;
  assignee: string | null;
  first_contact_attempt_at: string | null;
  origin: string | null;
  /** The referral's safe-contact card exactly as the log holds it (sealed); opened only for the rows on a page. */
  contact: string | null;
  /** While the latest decision goes ahead without consent: the provisions it still routes to (JSON), else null. */
  withheld_routed: string | null;
  /** That decision's risk level (an ended case keeps the level it had, never reprioritised again). */
  withheld_risk: RiskLevel | null;
}

/** The `cases` table's own columns (the rest of a `CaseRow` is joined from the referral's tables). */
type CaseTableRow = Omit<CaseRow, 'contact' | 'withheld_routed' | 'withheld_risk'>;
const CASE_COLUMNS: Array<keyof CaseTableRow> = [
  'case_id', 'referral_id', 'provision', 'status', 'route_status', 'risk_level', 'risk_rank', 'repeat', 'has_children', 'routed_at', 'due_by',
  'assignee', 'first_contact_attempt_at', 'origin',
];
const OPEN: readonly CaseStatus[] = ['awaiting', 'active'];
const ENDED: readonly CaseStatus[] = ['closed', 'declined', 'transferred'];

/**
 * Whether the provision may no longer see the person on this case: a later decision no longer routes them there
 * (superseded), or the case had ended when consent was withdrawn and the route needs it (the latest decision,
 * made without consent, does not route to this provision). Its own facts and history stay either way.
 */
export function personalDataWithheldFrom(row: CaseRow): boolean {
  if (row.status === 'superseded') return true;
  // A provision that works people without their consent as the person stands now (MASH; the IDVA at high risk) is
  // not asked to forget them.
  if (!ENDED.includes(row.status) || row.withheld_routed === null || worksWithoutConsent(row.provision, row.withheld_risk)) return false;
  return !(JSON.parse(row.withheld_routed) as string[]).includes(row.provision);
}

export type QueueStatus = 'awaiting' | 'active' | 'closed';

/** Where a case stands in its queue's order: risk rank, repeat, children, routed at, case id. */
export type QueueKey = [number, number, number, string, string];
export const QUEUE_KEY_SHAPE = ['number', 'number', 'number', 'string', 'string'] as const;

export function queueKeyOf(row: CaseRow): QueueKey {
  return [row.risk_rank, row.repeat, row.has_children, row.routed_at, row.case_id];
}

const caseColumns = `c.*, s.contact, w.routed AS withheld_routed, w.risk_level AS withheld_risk FROM cases c LEFT JOIN case_contacts s ON s.referral_id = c.referral_id
  LEFT JOIN consent_withheld w ON w.referral_id = c.referral_id`;
const queueSelect = `SELECT ${caseColumns}
  WHERE c.provision = @provision AND c.lane = @lane AND c.status IN (@status, @orStatus)`;
const queueOrder = 'ORDER BY c.risk_rank, c.repeat DESC, c.has_children DESC, c.routed_at, c.case_id';

/** A queue's first page, and a page after a case's sort key (risk rank ↑, repeat ↓, children ↓, routed at ↑, id ↑). */
export const QUEUE_PAGE_SQL = {
  first: `${queueSelect} ${queueOrder} LIMIT @limit`,
  after: `${queueSelect} AND (c.risk_rank > @rank OR (c.risk_rank = @rank AND (c.repeat < @repeat OR (c.repeat = @repeat
    AND (c.has_children < @children OR (c.has_children = @children AND (c.routed_at > @routedAt
    OR (c.routed_at = @routedAt AND c.case_id > @caseId))))))))
    ${queueOrder} LIMIT @limit`,
};

// Priority as the contract orders a queue: risk level, then repeat, then children, then oldest routing.
const RISK_RANK: Record<string, number> = { high: 0, medium: 1, standard: 2 };

function priorityOf(riskLevel: RiskLevel | null, repeat: boolean, hasChildren: boolean) {
  return { riskLevel, riskRank: RISK_RANK[riskLevel ?? ''] ?? 3, repeat: repeat ? 1 : 0, hasChildren: hasChildren ? 1 : 0 };
}

/**
 * Each provision's cases, in the order a caseworker should take them. A case held for the victim's consent is not
 * workable and stays out of the queue; a waitlisted refuge case shows, so the refuge can see who is waiting.
 */
@Injectable()
export class QueueProjection implements Projection {
  readonly name = 'queues';
  readonly version = 4;
  readonly eventTypes = [
    'ReferralReceived', 'CaseOpened', 'CaseReprioritised', 'CaseSuperseded', 'CaseClaimed', 'ContactAttempted', 'CaseDeclined', 'CaseTransferred',
    'CaseClosed', 'RefugePlaceOffered', 'ReferralRouted',
  ];
  readonly tables = {
    cases: `CREATE TABLE IF NOT EXISTS cases (
      case_id TEXT PRIMARY KEY, referral_id TEXT NOT NULL, provision TEXT NOT NULL, status TEXT NOT NULL, route_status TEXT NOT NULL,
      risk_level TEXT, risk_rank INTEGER NOT NULL, repeat INTEGER NOT NULL, has_children INTEGER NOT NULL, routed_at TEXT NOT NULL,
      due_by TEXT, assignee TEXT, first_contact_attempt_at TEXT, origin TEXT,
      lane TEXT GENERATED ALWAYS AS (CASE WHEN route_status = 'held-awaiting-consent' THEN 'held'
        WHEN status IN ('awaiting', 'active') THEN 'open' WHEN status = 'closed' THEN 'closed' ELSE 'ended' END) VIRTUAL
    ) WITHOUT ROWID`,
    case_contacts: `CREATE TABLE IF NOT EXISTS case_contacts (referral_id TEXT PRIMARY KEY, contact TEXT NOT NULL) WITHOUT ROWID`,
    consent_withheld: `CREATE TABLE IF NOT EXISTS consent_withheld (referral_id TEXT PRIMARY KEY, routed TEXT NOT NULL, risk_level TEXT) WITHOUT ROWID`,
  };
  private cases!: RowTable<CaseTableRow>;
  private contacts!: RowTable<{ referral_id: string; contact: string }>;
  private withheld!: RowTable<{ referral_id: string; routed: string; risk_level: string | null }>;
  private statements!: {
    byId: Database.Statement<[string], CaseRow>;
    openAt: Database.Statement<[string, string], { case_id: string }>;
    casesOf: Database.Statement<[string], { case_id: string }>;
    worked: Database.Statement<[string], { n: number }>;
    firstPage: Database.Statement<[Record<string, string | number>], CaseRow>;
    pageAfter: Database.Statement<[Record<string, string | number>], CaseRow>;
  };

  readonly indexes = [
    // One lane per kind of list, in priority order: reading a page walks the index and stops at the limit.
    'CREATE INDEX IF NOT EXISTS cases_queue ON cases (provision, lane, risk_rank, repeat DESC, has_children DESC, routed_at, case_id)',
    // A referral's cases: for its audit history, the access log's filter, and whether it is routed to a provision.
    'CREATE INDEX IF NOT EXISTS cases_referral ON cases (referral_id, provision)',
  ];

  prepare(db: Database.Database): void {
    this.cases = new RowTable<CaseTableRow>(db, 'cases', ['case_id'], CASE_COLUMNS);
    this.contacts = new RowTable(db, 'case_contacts', ['referral_id'], ['referral_id', 'contact']);
    this.withheld = new RowTable(db, 'consent_withheld', ['referral_id'], ['referral_id', 'routed', 'risk_level']);
    this.statements = {
      byId: db.prepare(`SELECT ${caseColumns} WHERE c.case_id = ?`),
      // A case held for consent is not the provision's yet: it gives it no say on the referral.
      openAt: db.prepare("SELECT case_id FROM cases WHERE referral_id = ? AND provision = ? AND lane = 'open' LIMIT 1"),
      casesOf: db.prepare('SELECT case_id FROM cases WHERE referral_id = ? ORDER BY case_id'),
      worked: db.prepare("SELECT count(*) AS n FROM cases WHERE referral_id = ? AND lane = 'open'"),
      firstPage: db.prepare(QUEUE_PAGE_SQL.first),
      pageAfter: db.prepare(QUEUE_PAGE_SQL.after),
    };
  }

  apply(event: RecordedEvent): void {
    if (event.type === 'ReferralReceived') {
      // Referrals received before the card was kept have only the whole submission: it is kept instead.
      const { referralId, contact, submission } = event.data as { referralId: string; contact?: unknown; submission: unknown };
      if (!this.contacts.get(referralId)) this.contacts.put({ referral_id: referralId, contact: JSON.stringify(contact ?? submission) });
      return;
    }
    if (event.type === 'ReferralRouted') {
      const { referralId, facts, cases } = event.data as unknown as ReferralRouted['data'];
      if (facts.consent.given) {
        if (this.withheld.get(referralId)) this.withheld.delete(referralId);
      } else {
        const routed = cases.filter((route) => route.status !== 'held-awaiting-consent').map((route) => route.provision);
        this.withheld.put({ referral_id: referralId, routed: JSON.stringify(routed), risk_level: facts.riskLevel });
      }
      return;
    }
    const domain = { type: event.type, data: event.data } as CaseEvent;
    if (domain.type === 'CaseOpened') {
      const { data } = domain;
      // A malformed CaseOpened (a missing field) fails, and the runner stops rather than skip it; a replayed one is a no-op.
      for (const [field, value] of Object.entries({ caseId: data.caseId, referralId: data.referralId, provision: data.provision, status: data.status, routedAt: data.routedAt })) {
        if (typeof value !== 'string') throw new TypeError(`CaseOpened without ${field}`);
      }
      if (this.cases.get(data.caseId)) return;
      const { riskLevel, riskRank, repeat, hasChildren } = priorityOf(data.riskLevel, data.repeat, data.hasChildren);
      this.cases.put({
        case_id: data.caseId, referral_id: data.referralId, provision: data.provision, status: 'awaiting', route_status: data.status,
        risk_level: riskLevel, risk_rank: riskRank, repeat, has_children: hasChildren, routed_at: data.routedAt, due_by: data.dueBy ?? null,
        assignee: null, first_contact_attempt_at: null, origin: data.origin ? JSON.stringify(data.origin) : null,
      });
      return;
    }
    const row = 'caseId' in domain.data ? this.cases.get(domain.data.caseId) : undefined;
    if (!row) return;
    const change = (fields: Partial<CaseTableRow>) => this.cases.put({ ...row, ...fields });
    switch (domain.type) {
      case 'CaseSuperseded':
        // Only an open case becomes superseded; one that had ended keeps its end (as the decider does).
        if (OPEN.includes(row.status)) change({ status: 'superseded' });
        return;
      case 'CaseClaimed':
        return change({ status: 'active', assignee: domain.data.assignee });
      case 'ContactAttempted':
        return change({ first_contact_attempt_at: row.first_contact_attempt_at ?? domain.data.attemptedAt });
      case 'CaseDeclined':
        return change({ status: 'declined' });
      case 'CaseTransferred':
        return change({ status: 'transferred' });
      case 'CaseClosed':
        return change({ status: 'closed' });
      case 'RefugePlaceOffered':
        return change({ route_status: 'routed', due_by: domain.data.dueBy });
      case 'CaseReprioritised': {
        // A later decision kept the case: a medium-risk case reassessed high moves up with it.
        const { riskLevel, repeat, hasChildren } = domain.data;
        const priority = priorityOf(riskLevel, repeat, hasChildren);
        return change({ risk_level: priority.riskLevel, risk_rank: priority.riskRank, repeat: priority.repeat, has_children: priority.hasChildren });
      }
      default:
        return;
    }
  }

  find(caseId: string): CaseRow | null {
    return this.statements.byId.get(caseId) ?? null;
  }

  /** Every case the referral has had, wherever it was opened (routing, a transfer, a referral-on). */
  casesOf(referralId: string): string[] {
    return this.statements.casesOf.all(referralId).map((row) => row.case_id);
  }

  /** A referral's cases in someone's queue (awaiting or active, held for consent not counted). */
  casesBeingWorked(referralId: string): number {
    return this.statements.worked.get(referralId)!.n;
  }

  /** Whether the referral is routed to this provision now: an open case there, not one held for consent. */
  hasOpenCaseAt(referralId: string, provision: string): boolean {
    return this.statements.openAt.get(referralId, provision) !== undefined;
  }

  /**
   * One page of a provision's queue, after the sort key of the last case of the page before (`queueKeyOf`): open
   * statuses (awaiting, active) or closed ones, never both in one list.
   */
  page(provision: string, statuses: QueueStatus[], limit: number, after: QueueKey | null): CaseRow[] {
    const lane = statuses.includes('closed') ? 'closed' : 'open';
    const where = { provision, lane, status: statuses[0], orStatus: statuses[1] ?? statuses[0], limit };
    if (!after) return this.statements.firstPage.all(where);
    const [rank, repeat, children, routedAt, caseId] = after;
    return this.statements.pageAfter.all({ ...where, rank, repeat, children, routedAt, caseId });
  }
}

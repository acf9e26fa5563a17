import { Injectable } from '@nestjs/common';
import type Database from 'better-sqlite3';
import { ERASED_FLAG, ERASED_REASON, NATIONAL_REFUGE_SEARCH_FLAG, NATIONAL_REFUGE_SEARCH_REASON, ROUTING_FAILED_FLAG, ROUTING_FAILED_REASON, type CaseEvent, type ReferralEvent, type ReferralRouted, type RoutingFailed } from '@spoc/domain';
import type { RecordedEvent } from '@spoc/event-store';
import { RowTable, type Projection } from '@spoc/platform';

export type ReferralStatusRow = {
  referral_id: string;
  agency: string;
  /** JSON of the reference as stored: sealed, or (received before it was sealed) a string; `null` once erased. */
  agency_reference: string;
  referral_type: string;
  received_at: string;
  status: string;
  risk_level: string | null;
  risk_criteria: string | null;
  dash_score: number | null;
  policy_version: string | null;
  /** JSON of the latest decision's parts, as the contract shows them. */
  routes: string | null;
  repeat: string | null;
  marac: string | null;
  encompass: string | null;
  /** The sealed schools of the decision that notified them; opened only when the referral is read. */
  schools: string | null;
  flags: string | null;
  reasons: string | null;
  routed_at: string | null;
};

const COLUMNS: Array<keyof ReferralStatusRow> = [
  'referral_id', 'agency', 'agency_reference', 'referral_type', 'received_at', 'status', 'risk_level', 'risk_criteria', 'dash_score', 'policy_version',
  'routes', 'repeat', 'marac', 'encompass', 'schools', 'flags', 'reasons', 'routed_at',
];

/**
 * What a referrer may know of a referral: its status, risk and routes. Personal data (the schools named in Encompass
 * notifications) stays sealed here and is opened on read, so erasing the key erases it from this table too.
 */
@Injectable()
export class ReferralStatusProjection implements Projection {
  readonly name = 'referral-status';
  readonly readYourWrites = true;
  readonly version = 10;
  readonly eventTypes = ['ReferralReceived', 'RiskAssessed', 'ReferralRouted', 'CaseOpened', 'CaseReturnedToReferrer', 'RefugePlaceOffered', 'RoutingFailed', 'ReferralErased'];
  // A rowid table: its rows (2 KB and more, with the routes and reasons) would overflow a WITHOUT ROWID table's
  // pages, which SQLite meant for small rows; every decision rewrote the overflow chain (rebuilds ~30% slower here).
  readonly tables = {
    referrals: `CREATE TABLE IF NOT EXISTS referrals (
      referral_id TEXT NOT NULL PRIMARY KEY, agency TEXT NOT NULL, agency_reference TEXT NOT NULL, referral_type TEXT NOT NULL,
      received_at TEXT NOT NULL, status TEXT NOT NULL, risk_level TEXT, risk_criteria TEXT, dash_score INTEGER,
      policy_version TEXT, routes TEXT, repeat TEXT, marac TEXT, encompass TEXT, schools TEXT, flags TEXT, reasons TEXT,
      routed_at TEXT
    )`,
  };
  private referrals!: RowTable<ReferralStatusRow>;
  private statements!: {
    byId: Database.Statement<[string], ReferralStatusRow>;
    routingCase: Database.Statement<[string], { referral_id: string }>;
    flagged: Database.Statement<[{ receivedAt: string; referralId: string; limit: number }], Pick<ReferralStatusRow, 'referral_id' | 'agency' | 'agency_reference' | 'referral_type' | 'received_at'>>;
    flaggedCount: Database.Statement<[], { n: number }>;
  };

  prepare(db: Database.Database): void {
    // Such referrals are rare and /health counts them on every probe: a partial index holds just them. The queries
    // repeat its condition word for word (with a parameter SQLite would not use it).
    const flaggedWhere = `flags LIKE '%"${ROUTING_FAILED_FLAG}"%'`;
    db.exec(`CREATE INDEX IF NOT EXISTS referrals_routing_failed ON referrals (received_at, referral_id) WHERE ${flaggedWhere}`);
    this.referrals = new RowTable(db, 'referrals', ['referral_id'], COLUMNS);
    this.statements = {
      byId: db.prepare('SELECT * FROM referrals WHERE referral_id = ?'),
      // For offers recorded before they named their referral: rare (a refuge unit freeing), so a scan will do.
      routingCase: db.prepare("SELECT referral_id FROM referrals WHERE routes LIKE '%' || ? || '%' LIMIT 1"),
      flagged: db.prepare(
        `SELECT referral_id, agency, agency_reference, referral_type, received_at FROM referrals WHERE ${flaggedWhere}
         AND (received_at > @receivedAt OR (received_at = @receivedAt AND referral_id > @referralId)) ORDER BY received_at, referral_id LIMIT @limit`,
      ),
      flaggedCount: db.prepare(`SELECT count(*) AS n FROM referrals WHERE ${flaggedWhere}`),
    };
  }

  apply(event: RecordedEvent): void {
    if (event.type === 'ReferralRouted') return this.routed(event.data as unknown as ReferralRouted['data']);
    if (event.type === 'CaseOpened' || event.type === 'CaseReturnedToReferrer' || event.type === 'RefugePlaceOffered') return this.caseMoved({ type: event.type, data: event.data } as CaseEvent);
    if (event.type === 'RoutingFailed') return this.flag((event.data as unknown as RoutingFailed['data']).referralId, ROUTING_FAILED_FLAG, ROUTING_FAILED_REASON);
    if (event.type === 'ReferralErased') return this.erased((event.data as { referralId: string }).referralId);
    const domain = { type: event.type, data: event.data } as ReferralEvent;
    switch (domain.type) {
      case 'ReferralReceived': {
        const { referralId, agency, agencyReference, referralType, receivedAt } = domain.data;
        if (this.referrals.get(referralId)) return;
        this.referrals.put({
          referral_id: referralId, agency, referral_type: referralType, received_at: receivedAt, status: 'received',
          // As stored: sealed (opened only to show it), or in clear in referrals received before it was sealed.
          agency_reference: JSON.stringify(agencyReference),
          risk_level: null, risk_criteria: null, dash_score: null, policy_version: null, routes: null, repeat: null, marac: null, encompass: null,
          schools: null, flags: null, reasons: null, routed_at: null,
        });
        break;
      }
      case 'RiskAssessed': {
        const { level, criteria, dashScore, policyId, referralId } = domain.data;
        const row = this.referrals.get(referralId);
        if (row) this.referrals.put({ ...row, risk_level: level, risk_criteria: JSON.stringify(criteria), dash_score: dashScore, policy_version: policyId });
        break;
      }
    }
  }

  private routed(decision: ReferralRouted['data']): void {
    const { facts, outcome } = decision;
    const routes: Array<{ caseId: string; origin?: unknown }> = decision.cases.map(({ provision, caseId, ruleIds, status, dueBy }) => ({ provision, caseId, ruleIds, status, dueBy }));
    // A case a transfer or a referral-on opened stays where a caseworker put the person unless the new decision
    // kept it (the router leaves such a case alone), so it stays in the routes too.
    const row = this.referrals.get(decision.referralId);
    if (!row) return;
    if (decision.decisionNumber > 0) {
      const before = JSON.parse(row.routes ?? '[]') as Array<{ caseId: string; origin?: unknown }>;
      for (const moved of before) if (moved.origin && !routes.some((route) => route.caseId === moved.caseId)) routes.push(moved);
    }
    this.referrals.put({
      ...row,
      status: outcome.status,
      risk_level: facts.riskLevel,
      risk_criteria: JSON.stringify(facts.riskCriteria),
      policy_version: decision.policyId,
      routes: JSON.stringify(routes),
      repeat: JSON.stringify({ ...facts.repeat, possibleMatchReferralIds: decision.possibleMatchReferralIds }),
      marac: outcome.marac ? JSON.stringify(outcome.marac) : null,
      // Only the first decision notifies schools; a reassessment keeps what was sent.
      encompass: decision.decisionNumber === 0 ? JSON.stringify(decision.encompass) : row.encompass,
      schools: decision.decisionNumber === 0 ? JSON.stringify(decision.schools) : row.schools,
      flags: JSON.stringify(outcome.flags),
      reasons: JSON.stringify(outcome.reasons),
      routed_at: facts.routedAt,
    });
  }

  /** Until a decision replaces them, the flag and the reason tell the referrer and the SPOC team it waits for a person. */
  private flag(referralId: string, flag: string, reason: string): void {
    const row = this.referrals.get(referralId);
    if (!row) return;
    const reasons = JSON.parse(row.reasons ?? '[]') as string[];
    const flags = JSON.parse(row.flags ?? '[]') as string[];
    if (!flags.includes(flag)) flags.push(flag);
    if (!reasons.includes(reason)) reasons.push(reason);
    this.referrals.put({ ...row, reasons: JSON.stringify(reasons), flags: JSON.stringify(flags) });
  }

  /** Nothing is left to route on, so a routing failure no longer waits for the SPOC team: the erasure replaces it. */
  private erased(referralId: string): void {
    const row = this.referrals.get(referralId);
    if (!row) return;
    const flags = (JSON.parse(row.flags ?? '[]') as string[]).filter((flag) => flag !== ROUTING_FAILED_FLAG);
    const reasons = (JSON.parse(row.reasons ?? '[]') as string[]).filter((reason) => reason !== ROUTING_FAILED_REASON);
    // A reference sealed with the referral's key is unreadable once it is destroyed; one kept in clear goes here.
    this.referrals.put({ ...row, agency_reference: 'null', reasons: JSON.stringify(reasons), flags: JSON.stringify(flags) });
    this.flag(referralId, ERASED_FLAG, ERASED_REASON);
  }

  /**
   * After routing, a case can move: a transfer or a decline's referral-on opens one elsewhere (a route is added,
   * with where it came from), a decline with nowhere left to go comes back to the referrer with the reason, and a
   * waitlisted refuge case gets a unit.
   */
  private caseMoved(event: CaseEvent): void {
    if (event.type === 'CaseOpened' && !event.data.origin) return; // routing's own cases come with the decision
    const referralId = (event.data as { referralId?: string }).referralId ?? this.routingCaseOf(event.data.caseId);
    const row = referralId ? this.referrals.get(referralId) : undefined;
    if (!referralId || !row) return;
    const routes = JSON.parse(row.routes ?? '[]') as Array<{ caseId: string; status?: string; dueBy?: string | null }>;
    const reasons = JSON.parse(row.reasons ?? '[]') as string[];
    const flags = JSON.parse(row.flags ?? '[]') as string[];
    if (event.type === 'CaseOpened') {
      const { provision, caseId, ruleIds, status, dueBy, origin } = event.data;
      if (!routes.some((route) => route.caseId === caseId)) routes.push({ provision, caseId, ruleIds, status, dueBy, origin } as { caseId: string });
    } else if (event.type === 'CaseReturnedToReferrer') {
      if (!reasons.includes(event.data.reason)) reasons.push(event.data.reason);
      if (!flags.includes('returned-to-referrer')) flags.push('returned-to-referrer');
    } else if (event.type === 'RefugePlaceOffered') {
      // The unit someone left is this person's now: routed, with the place's own first-contact time, and the
      // national search the waitlisting asked for is over.
      const route = routes.find((candidate) => candidate.caseId === event.data.caseId);
      if (!route || route.status !== 'waitlisted') return;
      route.status = 'routed';
      route.dueBy = event.data.dueBy;
      const stillWaiting = routes.some((candidate) => candidate.status === 'waitlisted');
      if (!stillWaiting) {
        flags.splice(0, flags.length, ...flags.filter((flag) => flag !== NATIONAL_REFUGE_SEARCH_FLAG));
        reasons.splice(0, reasons.length, ...reasons.filter((reason) => reason !== NATIONAL_REFUGE_SEARCH_REASON));
      }
    }
    this.referrals.put({ ...row, routes: JSON.stringify(routes), reasons: JSON.stringify(reasons), flags: JSON.stringify(flags) });
  }

  /** The scan reads the table as SQLite holds it, so the batch's rows are written first. */
  private routingCaseOf(caseId: string): string | undefined {
    this.referrals.flush();
    return this.statements.routingCase.get(`"caseId":"${caseId}"`)?.referral_id;
  }

  find(referralId: string): ReferralStatusRow | null {
    return this.statements.byId.get(referralId) ?? null;
  }

  /** Referrals the router could not decide and no decision has replaced since: the SPOC team routes them by hand. */
  /** Oldest first, a page after the last one shown (received at, referral id). */
  flaggedForRoutingByHand(limit: number, after: [string, string] | null) {
    return this.statements.flagged.all({ receivedAt: after?.[0] ?? '', referralId: after?.[1] ?? '', limit });
  }

  flaggedForRoutingByHandCount(): number {
    return this.statements.flaggedCount.get()!.n;
  }
}

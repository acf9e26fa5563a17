import { Inject, Injectable } from '@nestjs/common';
import type Database from 'better-sqlite3';
import { localDateOf, type CaseEvent, type ReferralReceived, type ReferralRouted, type RefugeEvent, type RiskAssessed, type RoutingPolicy } from '@spoc/domain';
import type { RecordedEvent } from '@spoc/event-store';
import { RowTable, type Projection } from '@spoc/platform';
import { POLICY } from '../infrastructure/tokens';

type ReportReferral = {
  referral_id: string; received_day: string; agency: string; referral_type: string; subject_gender: string | null; risk_level: string | null;
  status: string | null; is_repeat: number; with_children: number;
};
type ReportCase = {
  case_id: string; provision: string; clock_day: string | null; clock_ms: number | null; due_ms: number | null; first_attempt_ms: number | null;
  ended_ms: number | null; closed_day: string | null; outcome: string | null;
};
type ReportRoute = { referral_id: string; provision: string; received_day: string };
type ReportEncompass = { notification_id: string; received_day: string; due_ms: number; sent_ms: number | null };

/**
 * The partnership's performance read model (read by performance.query.ts): one indexed row per referral, route,
 * MARAC listing, Encompass notification, case and refuge request, holding only non-personal facts (agency, type,
 * levels, flags, dates).
 * Dates that put a row in a period are local dates in the policy's time zone; instants are epoch milliseconds.
 * Nothing personal is opened: the sealed fields are never read.
 */
@Injectable()
export class PerformanceProjection implements Projection {
  readonly name = 'performance-report';
  readonly version = 3;
  readonly eventTypes = [
    'ReferralReceived', 'RiskAssessed', 'ReferralRouted', 'EncompassNotificationSent', 'CaseOpened', 'RefugePlaceOffered',
    'ContactAttempted', 'CaseClosed', 'CaseDeclined', 'CaseTransferred', 'CaseSuperseded', 'RefugeUnitRequested', 'RefugeUnitReleased',
  ];
  readonly tables = {
    report_referrals: `CREATE TABLE IF NOT EXISTS report_referrals (
      referral_id TEXT PRIMARY KEY, received_day TEXT NOT NULL, agency TEXT NOT NULL, referral_type TEXT NOT NULL,
      subject_gender TEXT, risk_level TEXT, status TEXT, is_repeat INTEGER NOT NULL DEFAULT 0, with_children INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID`,
    report_routes: `CREATE TABLE IF NOT EXISTS report_routes (
      referral_id TEXT NOT NULL, provision TEXT NOT NULL, received_day TEXT NOT NULL, PRIMARY KEY (referral_id, provision)
    ) WITHOUT ROWID`,
    report_marac: `CREATE TABLE IF NOT EXISTS report_marac (
      meeting_id TEXT NOT NULL, referral_id TEXT NOT NULL, meeting_date TEXT NOT NULL, starts_at TEXT NOT NULL, is_repeat INTEGER NOT NULL,
      PRIMARY KEY (meeting_id, referral_id)
    ) WITHOUT ROWID`,
    report_encompass: `CREATE TABLE IF NOT EXISTS report_encompass (
      notification_id TEXT PRIMARY KEY, received_day TEXT NOT NULL, due_ms INTEGER NOT NULL, sent_ms INTEGER
    ) WITHOUT ROWID`,
    report_cases: `CREATE TABLE IF NOT EXISTS report_cases (
      case_id TEXT PRIMARY KEY, provision TEXT NOT NULL, clock_day TEXT, clock_ms INTEGER, due_ms INTEGER,
      first_attempt_ms INTEGER, ended_ms INTEGER, closed_day TEXT, outcome TEXT
    ) WITHOUT ROWID`,
    report_refuge: `CREATE TABLE IF NOT EXISTS report_refuge (
      request_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, state TEXT NOT NULL, requested_ms INTEGER NOT NULL,
      placed_ms INTEGER, ended_ms INTEGER, waited INTEGER NOT NULL
    ) WITHOUT ROWID`,
  };
  private statements!: Record<string, Database.Statement>;
  private referrals!: RowTable<ReportReferral>;
  private cases!: RowTable<ReportCase>;
  private routes!: RowTable<ReportRoute>;
  private notifications!: RowTable<ReportEncompass>;

  constructor(@Inject(POLICY) private readonly policy: RoutingPolicy) {}

  // Covering indexes in the orders performance.query.ts groups by, so that no report query sorts.
  readonly indexes = [
    'CREATE INDEX IF NOT EXISTS report_referrals_breakdown ON report_referrals (agency, referral_type, risk_level, status, subject_gender, is_repeat, with_children, received_day)',
    'CREATE INDEX IF NOT EXISTS report_routes_provision ON report_routes (provision, received_day)',
    'CREATE INDEX IF NOT EXISTS report_marac_period ON report_marac (meeting_date, meeting_id, is_repeat)',
    'CREATE INDEX IF NOT EXISTS report_encompass_period ON report_encompass (received_day, due_ms, sent_ms)',
    'CREATE INDEX IF NOT EXISTS report_cases_clock ON report_cases (provision, clock_day, clock_ms, due_ms, first_attempt_ms, ended_ms)',
    'CREATE INDEX IF NOT EXISTS report_cases_outcome ON report_cases (provision, outcome, closed_day)',
  ];

  prepare(db: Database.Database): void {
    // Indexes `apply` itself reads through: a decision's unlisting, and the refuge's placed count and waiting list.
    db.exec(`
      CREATE INDEX IF NOT EXISTS report_marac_referral ON report_marac (referral_id, starts_at);
      CREATE INDEX IF NOT EXISTS report_refuge_state ON report_refuge (state, seq);
    `);
    this.referrals = new RowTable(db, 'report_referrals', ['referral_id'], ['referral_id', 'received_day', 'agency', 'referral_type', 'subject_gender', 'risk_level', 'status', 'is_repeat', 'with_children']);
    this.cases = new RowTable(db, 'report_cases', ['case_id'], ['case_id', 'provision', 'clock_day', 'clock_ms', 'due_ms', 'first_attempt_ms', 'ended_ms', 'closed_day', 'outcome']);
    this.routes = new RowTable(db, 'report_routes', ['referral_id', 'provision'], ['referral_id', 'provision', 'received_day']);
    this.notifications = new RowTable(db, 'report_encompass', ['notification_id'], ['notification_id', 'received_day', 'due_ms', 'sent_ms']);
    const sql = {
      clearRoutes: 'DELETE FROM report_routes WHERE referral_id = ?',
      unlist: 'DELETE FROM report_marac WHERE referral_id = ? AND starts_at > ?',
      list: 'INSERT OR REPLACE INTO report_marac (meeting_id, referral_id, meeting_date, starts_at, is_repeat) VALUES (?, ?, ?, ?, ?)',
      request: `INSERT OR IGNORE INTO report_refuge (request_id, seq, state, requested_ms, placed_ms, waited)
                VALUES (?, (SELECT coalesce(max(seq), 0) + 1 FROM report_refuge), ?, ?, ?, ?)`,
      placedCount: "SELECT count(*) AS n FROM report_refuge WHERE state = 'placed'",
      requestById: 'SELECT state FROM report_refuge WHERE request_id = ?',
      release: "UPDATE report_refuge SET state = CASE state WHEN 'placed' THEN 'released' ELSE 'withdrawn' END, ended_ms = ? WHERE request_id = ?",
      promote: `UPDATE report_refuge SET state = 'placed', placed_ms = ? WHERE request_id =
                (SELECT request_id FROM report_refuge WHERE state = 'waiting' ORDER BY seq LIMIT 1)`,
    };
    this.statements = Object.fromEntries(Object.entries(sql).map(([name, text]) => [name, db.prepare(text)]));
  }

  apply(event: RecordedEvent): void {
    switch (event.type) {
      case 'ReferralReceived': {
        const data = event.data as unknown as ReferralReceived['data'];
        if (this.referrals.get(data.referralId)) return;
        this.referrals.put({
          referral_id: data.referralId, received_day: this.day(data.receivedAt), agency: data.agency, referral_type: data.referralType,
          subject_gender: data.subjectGender ?? null, risk_level: null, status: null, is_repeat: 0, with_children: 0,
        });
        return;
      }
      case 'RiskAssessed': {
        const data = event.data as unknown as RiskAssessed['data'];
        const row = this.referrals.get(data.referralId);
        if (row) this.referrals.put({ ...row, risk_level: data.level });
        return;
      }
      case 'ReferralRouted':
        return this.routed(event.data as unknown as ReferralRouted['data']);
      case 'EncompassNotificationSent': {
        const data = event.data as { notificationId: string; sentAt: string };
        const row = this.notifications.get(data.notificationId);
        if (row) this.notifications.put({ ...row, sent_ms: row.sent_ms ?? Date.parse(data.sentAt) });
        return;
      }
      case 'RefugeUnitRequested':
      case 'RefugeUnitReleased':
        return this.refuge({ type: event.type, data: event.data } as RefugeEvent);
      default:
        return this.caseEvent({ type: event.type, data: event.data } as CaseEvent);
    }
  }

  private routed(decision: ReferralRouted['data']): void {
    const { referralId, facts, outcome } = decision;
    const referral = this.referrals.get(referralId);
    if (!referral) return; // a decision without its receipt cannot be placed in a period
    const receivedDay = referral.received_day;
    const withChildren = facts.children.some((child) => child.livesInHousehold && child.ageYears < this.policy.ageBands.householdChildUnder);
    this.referrals.put({ ...referral, risk_level: facts.riskLevel, status: outcome.status, is_repeat: facts.repeat.isRepeat ? 1 : 0, with_children: withChildren ? 1 : 0 });
    // A later decision replaces the routes and the listings not yet heard of the one before (meetings already held
    // stay as they were, as on the MARAC lists); a referral's first decision has none before it.
    if (decision.decisionNumber > 0) {
      this.routes.flush(); // the deletion reads the table as SQLite holds it
      this.run('clearRoutes', referralId);
      this.run('unlist', referralId, facts.routedAt);
    }
    for (const routed of decision.cases) {
      if (!this.routes.get(referralId, routed.provision)) this.routes.put({ referral_id: referralId, provision: routed.provision, received_day: receivedDay });
      // A route kept on the same case that a later decision makes due (a refuge unit now free) starts its clock then.
      if (!routed.opened && routed.status === 'routed' && routed.dueBy) this.clockStarts(routed.caseId, facts.routedAt, routed.dueBy);
    }
    if (outcome.marac) this.run('list', outcome.marac.meetingId, referralId, outcome.marac.date, outcome.marac.startsAt, outcome.marac.repeat ? 1 : 0);
    for (const notification of decision.encompass) {
      if (!this.notifications.get(notification.notificationId)) {
        this.notifications.put({ notification_id: notification.notificationId, received_day: receivedDay, due_ms: Date.parse(notification.dueBy), sent_ms: null });
      }
    }
  }

  /** A case's clock starts once: where none ran yet (a waitlisted case offered a unit), the first contact is counted from then. */
  private clockStarts(caseId: string, at: string, dueBy: string): void {
    const row = this.cases.get(caseId);
    if (row && row.clock_ms === null) this.cases.put({ ...row, clock_day: this.day(at), clock_ms: Date.parse(at), due_ms: Date.parse(dueBy) });
  }

  private caseEvent(event: CaseEvent): void {
    switch (event.type) {
      case 'CaseOpened': {
        const { caseId, provision, status, routedAt, dueBy } = event.data;
        // Routed and waitlisted cases are due a first contact from routing (the waitlisted victim hears what is
        // being done); a held one has no clock until consent opens a case afresh.
        const clockRuns = status !== 'held-awaiting-consent' && dueBy !== null;
        if (this.cases.get(caseId)) return;
        this.cases.put({
          case_id: caseId, provision, clock_day: clockRuns ? this.day(routedAt) : null, clock_ms: clockRuns ? Date.parse(routedAt) : null,
          due_ms: clockRuns ? Date.parse(dueBy) : null, first_attempt_ms: null, ended_ms: null, closed_day: null, outcome: null,
        });
        return;
      }
      // Only where no clock ran yet (cases opened waitlisted without a due time): the first contact is counted once.
      case 'RefugePlaceOffered':
        return this.clockStarts(event.data.caseId, event.data.offeredAt, event.data.dueBy);
      case 'ContactAttempted': {
        const row = this.cases.get(event.data.caseId);
        const at = Date.parse(event.data.attemptedAt);
        if (row) this.cases.put({ ...row, first_attempt_ms: row.first_attempt_ms === null ? at : Math.min(row.first_attempt_ms, at) });
        return;
      }
      case 'CaseClosed': {
        const row = this.cases.get(event.data.caseId);
        if (row) this.cases.put({ ...row, ended_ms: row.ended_ms ?? Date.parse(event.data.closedAt), closed_day: this.day(event.data.closedAt), outcome: event.data.outcome });
        return;
      }
      case 'CaseDeclined':
        return this.ended(event.data.caseId, event.data.declinedAt);
      case 'CaseTransferred':
        return this.ended(event.data.caseId, event.data.transferredAt);
      case 'CaseSuperseded':
        return this.ended(event.data.caseId, event.data.supersededAt);
      default:
        return;
    }
  }

  private ended(caseId: string, at: string): void {
    const row = this.cases.get(caseId);
    if (row && row.ended_ms === null) this.cases.put({ ...row, ended_ms: Date.parse(at) });
  }

  /** The same fold as `refugeUnits` (libs/domain/src/refuge), kept as rows with the instants each stay and wait began and ended. */
  private refuge(event: RefugeEvent): void {
    const capacity = this.policy.provisions.refuge.capacityUnits ?? 0;
    if (event.type === 'RefugeUnitRequested') {
      const at = Date.parse(event.data.requestedAt);
      const placed = (this.statements.placedCount.get() as { n: number }).n < capacity;
      this.run('request', event.data.requestId, placed ? 'placed' : 'waiting', at, placed ? at : null, placed ? 0 : 1);
      return;
    }
    const row = this.statements.requestById.get(event.data.requestId) as { state: string } | undefined;
    if (!row || (row.state !== 'placed' && row.state !== 'waiting')) return;
    const at = Date.parse(event.data.releasedAt);
    this.run('release', at, event.data.requestId);
    if (row.state === 'placed') this.run('promote', at);
  }

  private run(name: string, ...params: unknown[]): void {
    this.statements[name].run(...params);
  }

  private day(instant: string): string {
    return localDateOf(instant, this.policy.calendar.timeZone);
  }
}

import { Inject, Injectable } from '@nestjs/common';
import type Database from 'better-sqlite3';
import { localDateOf, type CaseEvent, type ReferralReceived, type ReferralRouted, type RefugeEvent, type RiskAssessed, type RoutingPolicy } from '@spoc/domain';
import type { RecordedEvent } from '@spoc/event-store';
import type { Projection } from '@spoc/platform';
import { POLICY } from '../infrastructure/tokens';

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
    const sql = {
      received: `INSERT OR IGNORE INTO report_referrals (referral_id, received_day, agency, referral_type, subject_gender) VALUES (?, ?, ?, ?, ?)`,
      assessed: 'UPDATE report_referrals SET risk_level = ? WHERE referral_id = ?',
      routed: 'UPDATE report_referrals SET risk_level = ?, status = ?, is_repeat = ?, with_children = ? WHERE referral_id = ?',
      receivedDay: 'SELECT received_day FROM report_referrals WHERE referral_id = ?',
      clearRoutes: 'DELETE FROM report_routes WHERE referral_id = ?',
      route: 'INSERT OR IGNORE INTO report_routes (referral_id, provision, received_day) VALUES (?, ?, ?)',
      unlist: 'DELETE FROM report_marac WHERE referral_id = ? AND starts_at > ?',
      list: 'INSERT OR REPLACE INTO report_marac (meeting_id, referral_id, meeting_date, starts_at, is_repeat) VALUES (?, ?, ?, ?, ?)',
      notify: 'INSERT OR IGNORE INTO report_encompass (notification_id, received_day, due_ms) VALUES (?, ?, ?)',
      sent: 'UPDATE report_encompass SET sent_ms = coalesce(sent_ms, ?) WHERE notification_id = ?',
      opened: 'INSERT OR IGNORE INTO report_cases (case_id, provision, clock_day, clock_ms, due_ms) VALUES (?, ?, ?, ?, ?)',
      clockStarts: 'UPDATE report_cases SET clock_day = ?, clock_ms = ?, due_ms = ? WHERE case_id = ? AND clock_ms IS NULL',
      attempted: 'UPDATE report_cases SET first_attempt_ms = min(coalesce(first_attempt_ms, ?), ?) WHERE case_id = ?',
      closed: 'UPDATE report_cases SET ended_ms = coalesce(ended_ms, ?), closed_day = ?, outcome = ? WHERE case_id = ?',
      ended: 'UPDATE report_cases SET ended_ms = coalesce(ended_ms, ?) WHERE case_id = ?',
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
        this.run('received', data.referralId, this.day(data.receivedAt), data.agency, data.referralType, data.subjectGender ?? null);
        return;
      }
      case 'RiskAssessed': {
        const data = event.data as unknown as RiskAssessed['data'];
        this.run('assessed', data.level, data.referralId);
        return;
      }
      case 'ReferralRouted':
        return this.routed(event.data as unknown as ReferralRouted['data']);
      case 'EncompassNotificationSent': {
        const data = event.data as { notificationId: string; sentAt: string };
        this.run('sent', Date.parse(data.sentAt), data.notificationId);
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
    const receivedDay = (this.statements.receivedDay.get(referralId) as { received_day: string } | undefined)?.received_day;
    if (!receivedDay) return; // a decision without its receipt cannot be placed in a period
    const withChildren = facts.children.some((child) => child.livesInHousehold && child.ageYears < this.policy.ageBands.householdChildUnder);
    this.run('routed', facts.riskLevel, outcome.status, facts.repeat.isRepeat ? 1 : 0, withChildren ? 1 : 0, referralId);
    this.run('clearRoutes', referralId);
    for (const routed of decision.cases) {
      this.run('route', referralId, routed.provision, receivedDay);
      // A route kept on the same case that a later decision makes due (a refuge unit now free) starts its clock then.
      if (!routed.opened && routed.status === 'routed' && routed.dueBy) {
        this.run('clockStarts', this.day(facts.routedAt), Date.parse(facts.routedAt), Date.parse(routed.dueBy), routed.caseId);
      }
    }
    // As on the MARAC lists: a new decision replaces listings not yet heard; meetings already held stay as they were.
    this.run('unlist', referralId, facts.routedAt);
    if (outcome.marac) this.run('list', outcome.marac.meetingId, referralId, outcome.marac.date, outcome.marac.startsAt, outcome.marac.repeat ? 1 : 0);
    for (const notification of decision.encompass) this.run('notify', notification.notificationId, receivedDay, Date.parse(notification.dueBy));
  }

  private caseEvent(event: CaseEvent): void {
    switch (event.type) {
      case 'CaseOpened': {
        const { caseId, provision, status, routedAt, dueBy } = event.data;
        // Routed and waitlisted cases are due a first contact from routing (the waitlisted victim hears what is
        // being done); a held one has no clock until consent opens a case afresh.
        const clockRuns = status !== 'held-awaiting-consent' && dueBy !== null;
        this.run('opened', caseId, provision, clockRuns ? this.day(routedAt) : null, clockRuns ? Date.parse(routedAt) : null, clockRuns ? Date.parse(dueBy) : null);
        return;
      }
      // Only where no clock ran yet (cases opened waitlisted without a due time): the first contact is counted once.
      case 'RefugePlaceOffered':
        this.run('clockStarts', this.day(event.data.offeredAt), Date.parse(event.data.offeredAt), Date.parse(event.data.dueBy), event.data.caseId);
        return;
      case 'ContactAttempted': {
        const at = Date.parse(event.data.attemptedAt);
        this.run('attempted', at, at, event.data.caseId);
        return;
      }
      case 'CaseClosed':
        this.run('closed', Date.parse(event.data.closedAt), this.day(event.data.closedAt), event.data.outcome, event.data.caseId);
        return;
      case 'CaseDeclined':
        return this.run('ended', Date.parse(event.data.declinedAt), event.data.caseId);
      case 'CaseTransferred':
        return this.run('ended', Date.parse(event.data.transferredAt), event.data.caseId);
      case 'CaseSuperseded':
        return this.run('ended', Date.parse(event.data.supersededAt), event.data.caseId);
      default:
        return;
    }
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

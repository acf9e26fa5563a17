import { Inject, Injectable } from '@nestjs/common';
import type Database from 'better-sqlite3';
import { localDateOf, type CaseEvent, type ReferralReceived, type ReferralRouted, type RefugeEvent, type RiskAssessed, type RoutingPolicy } from '@spoc/domain';
import type { DecodedEvent, Projection } from '@spoc/platform';
import { POLICY } from '../infrastructure/tokens';

/** Referrals of the period grouped by everything the report breaks them down by: a few hundred cells at most. */
export interface ReferralCell {
  agency: string;
  referralType: string;
  riskLevel: string | null;
  status: string | null;
  gender: string | null;
  repeat: number;
  withChildren: number;
  n: number;
}

export interface Interval {
  startMs: number;
  endMs: number | null;
}

/** What the report is worked out from, read in a handful of indexed queries (no scan of the log). */
export interface PeriodData {
  referrals: ReferralCell[];
  routes: Array<{ provision: string; n: number }>;
  maracMeetings: Array<{ listed: number; repeat: number }>;
  encompass: { notifications: number; sent: number; sentOnTime: number };
  /** Every case whose first-contact clock started in the period: ms to its first attempt (null: none yet), and whether it is overdue. */
  firstContact: Array<{ provision: string; ms: number | null; overdue: number }>;
  outcomes: Array<{ provision: string; outcome: string; n: number }>;
  refugeStays: Interval[];
  refugeWaits: Interval[];
}

/**
 * The partnership's performance read model: one indexed row per referral, route, MARAC listing, Encompass
 * notification, case and refuge request, holding only non-personal facts (agency, type, levels, flags, dates).
 * Dates that put a row in a period are local dates in the policy's time zone; instants are epoch milliseconds.
 * Nothing personal is opened: the sealed fields are never read.
 */
@Injectable()
export class PerformanceProjection implements Projection {
  readonly name = 'performance-report';
  readonly version = 1;
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
      meeting_id TEXT NOT NULL, referral_id TEXT NOT NULL, meeting_date TEXT NOT NULL, is_repeat INTEGER NOT NULL,
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

  prepare(db: Database.Database): void {
    db.exec(`
      -- Covering indexes: a period's rows are read from the index alone, in one range scan each.
      CREATE INDEX IF NOT EXISTS report_referrals_period ON report_referrals (received_day, agency, referral_type, risk_level, status, subject_gender, is_repeat, with_children);
      CREATE INDEX IF NOT EXISTS report_routes_period ON report_routes (received_day, provision);
      CREATE INDEX IF NOT EXISTS report_marac_date ON report_marac (meeting_date);
      CREATE INDEX IF NOT EXISTS report_marac_referral ON report_marac (referral_id);
      CREATE INDEX IF NOT EXISTS report_encompass_day ON report_encompass (received_day);
      CREATE INDEX IF NOT EXISTS report_cases_clock_period ON report_cases (clock_day, provision, clock_ms, due_ms, first_attempt_ms, ended_ms);
      CREATE INDEX IF NOT EXISTS report_cases_closed_period ON report_cases (closed_day, provision, outcome);
      CREATE INDEX IF NOT EXISTS report_refuge_state ON report_refuge (state, seq);
    `);
    const sql = {
      received: `INSERT OR IGNORE INTO report_referrals (referral_id, received_day, agency, referral_type, subject_gender) VALUES (?, ?, ?, ?, ?)`,
      assessed: 'UPDATE report_referrals SET risk_level = ? WHERE referral_id = ?',
      routed: 'UPDATE report_referrals SET risk_level = ?, status = ?, is_repeat = ?, with_children = ? WHERE referral_id = ?',
      receivedDay: 'SELECT received_day FROM report_referrals WHERE referral_id = ?',
      clearRoutes: 'DELETE FROM report_routes WHERE referral_id = ?',
      route: 'INSERT OR IGNORE INTO report_routes (referral_id, provision, received_day) VALUES (?, ?, ?)',
      unlist: 'DELETE FROM report_marac WHERE referral_id = ? AND meeting_date >= ?',
      list: 'INSERT OR REPLACE INTO report_marac (meeting_id, referral_id, meeting_date, is_repeat) VALUES (?, ?, ?, ?)',
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
      // Queries of a period.
      referralCells: `SELECT agency, referral_type AS referralType, risk_level AS riskLevel, status, subject_gender AS gender,
                        is_repeat AS repeat, with_children AS withChildren, count(*) AS n
                      FROM report_referrals WHERE received_day BETWEEN ? AND ?
                      GROUP BY agency, referral_type, risk_level, status, subject_gender, is_repeat, with_children`,
      routeCounts: 'SELECT provision, count(*) AS n FROM report_routes WHERE received_day BETWEEN ? AND ? GROUP BY provision',
      maracMeetings: `SELECT count(*) AS listed, sum(is_repeat) AS repeat FROM report_marac WHERE meeting_date BETWEEN ? AND ? GROUP BY meeting_id`,
      encompass: `SELECT count(*) AS notifications, count(sent_ms) AS sent, coalesce(sum(sent_ms < due_ms), 0) AS sentOnTime
                  FROM report_encompass WHERE received_day BETWEEN ? AND ?`,
      firstContact: `SELECT provision, first_attempt_ms - clock_ms AS ms,
                       coalesce(due_ms < @now AND (first_attempt_ms > due_ms OR (first_attempt_ms IS NULL AND (ended_ms IS NULL OR ended_ms > due_ms))), 0) AS overdue
                     FROM report_cases WHERE clock_day BETWEEN @from AND @to`,
      outcomes: 'SELECT provision, outcome, count(*) AS n FROM report_cases WHERE closed_day BETWEEN ? AND ? GROUP BY provision, outcome',
      refugeStays: `SELECT placed_ms AS startMs, CASE state WHEN 'placed' THEN NULL ELSE ended_ms END AS endMs FROM report_refuge
                    WHERE placed_ms IS NOT NULL AND placed_ms < @end AND (state = 'placed' OR ended_ms > @start)`,
      refugeWaits: `SELECT requested_ms AS startMs, coalesce(placed_ms, ended_ms) AS endMs FROM report_refuge
                    WHERE waited = 1 AND requested_ms < @end AND (coalesce(placed_ms, ended_ms) IS NULL OR coalesce(placed_ms, ended_ms) > @start)`,
    };
    this.statements = Object.fromEntries(Object.entries(sql).map(([name, text]) => [name, db.prepare(text)]));
  }

  apply(event: DecodedEvent): void {
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
    this.run('unlist', referralId, this.day(facts.routedAt));
    if (outcome.marac) this.run('list', outcome.marac.meetingId, referralId, outcome.marac.date, outcome.marac.repeat ? 1 : 0);
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

  /** Everything the report for `from`..`to` (local dates, inclusive) needs; `window` bounds refuge stays in instants. */
  period(from: string, to: string, window: { startMs: number; endMs: number }, nowMs: number): PeriodData {
    const all = <T>(name: string, ...params: unknown[]) => this.statements[name].all(...params) as T[];
    return {
      referrals: all<ReferralCell>('referralCells', from, to),
      routes: all('routeCounts', from, to),
      maracMeetings: all('maracMeetings', from, to),
      encompass: this.statements.encompass.get(from, to) as PeriodData['encompass'],
      firstContact: all('firstContact', { from, to, now: nowMs }),
      outcomes: all('outcomes', from, to),
      refugeStays: all('refugeStays', { start: window.startMs, end: window.endMs }),
      refugeWaits: all('refugeWaits', { start: window.startMs, end: window.endMs }),
    };
  }

  private run(name: string, ...params: unknown[]): void {
    this.statements[name].run(...params);
  }

  private day(instant: string): string {
    return localDateOf(instant, this.policy.calendar.timeZone);
  }
}

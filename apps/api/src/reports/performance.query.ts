import { Inject, Injectable } from '@nestjs/common';
import type Database from 'better-sqlite3';
import { PROVISION_IDS } from '@spoc/domain';
import { READ_DB } from '../infrastructure/tokens';

export const RISK_LEVELS = ['high', 'medium', 'standard'] as const;
export const ROUTING_STATUSES = ['routed', 'awaiting-consent', 'not-eligible'] as const;

export interface Interval {
  startMs: number;
  endMs: number | null;
}

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

/** What the report is worked out from, for one period. */
export interface PeriodData {
  referrals: ReferralCell[];
  /** Provision → referrals routed there. */
  routes: Record<string, number>;
  maracMeetings: Array<{ listed: number; repeat: number }>;
  encompass: { notifications: number; sent: number; sentOnTime: number };
  firstContact: Record<string, { cases: number; overdue: number; delaysMs: number[] }>;
  /** `<provision>:<outcome>` → cases closed. */
  outcomes: Record<string, number>;
  refugeStays: Interval[];
  refugeWaits: Interval[];
}

const OVERDUE = 'due_ms < @now AND (first_attempt_ms > due_ms OR (first_attempt_ms IS NULL AND (ended_ms IS NULL OR ended_ms > due_ms)))';

const SQL = {
  referrals: `SELECT agency, referral_type AS referralType, risk_level AS riskLevel, status, subject_gender AS gender,
                is_repeat AS repeat, with_children AS withChildren, count(*) AS n
              FROM report_referrals INDEXED BY report_referrals_breakdown WHERE received_day BETWEEN ? AND ?
              GROUP BY agency, referral_type, risk_level, status, subject_gender, is_repeat, with_children`,
  routes: 'SELECT provision, count(*) AS n FROM report_routes INDEXED BY report_routes_provision WHERE received_day BETWEEN ? AND ? GROUP BY provision',
  maracMeetings: 'SELECT count(*) AS listed, sum(is_repeat) AS repeat FROM report_marac WHERE meeting_date BETWEEN ? AND ? GROUP BY meeting_date, meeting_id',
  encompass: `SELECT count(*) AS notifications, count(sent_ms) AS sent, coalesce(sum(sent_ms < due_ms), 0) AS sentOnTime
              FROM report_encompass WHERE received_day BETWEEN ? AND ?`,
  contactCounts: `SELECT count(*) AS cases, coalesce(sum(${OVERDUE}), 0) AS overdue FROM report_cases
                  WHERE provision = @provision AND clock_day BETWEEN @from AND @to`,
  contactDelays: `SELECT first_attempt_ms - clock_ms FROM report_cases
                  WHERE provision = @provision AND clock_day BETWEEN @from AND @to AND first_attempt_ms IS NOT NULL`,
  outcomes: 'SELECT provision, outcome, count(*) AS n FROM report_cases INDEXED BY report_cases_outcome WHERE closed_day BETWEEN ? AND ? GROUP BY provision, outcome',
  refugeStays: `SELECT placed_ms AS startMs, CASE state WHEN 'placed' THEN NULL ELSE ended_ms END AS endMs FROM report_refuge
                WHERE placed_ms IS NOT NULL AND placed_ms < @end AND (state = 'placed' OR ended_ms > @start)`,
  refugeWaits: `SELECT requested_ms AS startMs, coalesce(placed_ms, ended_ms) AS endMs FROM report_refuge
                WHERE waited = 1 AND requested_ms < @end AND (coalesce(placed_ms, ended_ms) IS NULL OR coalesce(placed_ms, ended_ms) > @start)`,
};

/**
 * The report's reads of the performance read model (`performance.projection.ts` writes it), each one scan of a
 * covering index. Groupings follow their index's order (`INDEXED BY`), so none needs a sort: over ten years the
 * sorts cost more than everything else together (31 ms against 7 for the referrals alone), and scanning a whole
 * index for a short period still costs under 2 ms.
 */
@Injectable()
export class PerformanceQuery {
  private statements: Record<keyof typeof SQL, Database.Statement> | null = null;

  constructor(@Inject(READ_DB) private readonly db: Database.Database) {}

  period(from: string, to: string, window: { startMs: number; endMs: number }, nowMs: number): PeriodData {
    const q = this.prepared();
    const firstContact: PeriodData['firstContact'] = {};
    for (const provision of PROVISION_IDS) {
      const { cases, overdue } = q.contactCounts.get({ provision, from, to, now: nowMs }) as { cases: number; overdue: number };
      firstContact[provision] = { cases, overdue, delaysMs: q.contactDelays.all({ provision, from, to }) as number[] };
    }
    const routes = q.routes.all(from, to) as Array<{ provision: string; n: number }>;
    const outcomes = q.outcomes.all(from, to) as Array<{ provision: string; outcome: string; n: number }>;
    return {
      referrals: q.referrals.all(from, to) as ReferralCell[],
      routes: Object.fromEntries(routes.map((row) => [row.provision, row.n])),
      maracMeetings: q.maracMeetings.all(from, to) as PeriodData['maracMeetings'],
      encompass: q.encompass.get(from, to) as PeriodData['encompass'],
      firstContact,
      outcomes: Object.fromEntries(outcomes.map((row) => [`${row.provision}:${row.outcome}`, row.n])),
      refugeStays: q.refugeStays.all({ start: window.startMs, end: window.endMs }) as Interval[],
      refugeWaits: q.refugeWaits.all({ start: window.startMs, end: window.endMs }) as Interval[],
    };
  }

  /** Prepared on first use: the projection runner creates the tables and indexes when the app starts. */
  private prepared(): Record<keyof typeof SQL, Database.Statement> {
    if (!this.statements) {
      this.statements = Object.fromEntries(Object.entries(SQL).map(([name, text]) => [name, this.db.prepare(text)])) as Record<keyof typeof SQL, Database.Statement>;
      this.statements.contactDelays.pluck();
    }
    return this.statements;
  }
}

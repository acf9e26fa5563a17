import { Injectable } from '@nestjs/common';
import type Database from 'better-sqlite3';
import type { ReferralRouted } from '@spoc/domain';
import type { RecordedEvent } from '@spoc/event-store';
import type { Projection } from '@spoc/platform';
import { meetingIdOf } from './meeting-view';

export interface MaracCaseRow {
  meeting_id: string;
  meeting_date: string;
  kind: string;
  starts_at: string;
  referral_id: string;
  repeat: number;
  has_children: number;
}

/** Who is listed at which MARAC meeting: the latest decision of each referral decides its listing. */
@Injectable()
export class MaracProjection implements Projection {
  readonly name = 'marac';
  readonly version = 2;
  readonly eventTypes = ['ReferralRouted'];
  readonly tables = {
    marac_cases: `CREATE TABLE IF NOT EXISTS marac_cases (
      meeting_id TEXT NOT NULL, meeting_date TEXT NOT NULL, kind TEXT NOT NULL, starts_at TEXT NOT NULL,
      referral_id TEXT NOT NULL, repeat INTEGER NOT NULL, has_children INTEGER NOT NULL, listed_at TEXT NOT NULL,
      PRIMARY KEY (meeting_id, referral_id)
    ) WITHOUT ROWID`,
  };
  private statements!: { unlistFuture: Database.Statement; list: Database.Statement; range: Database.Statement<[string, string], MaracCaseRow> };

  readonly indexes = ['CREATE INDEX IF NOT EXISTS marac_cases_date ON marac_cases (meeting_date)'];

  prepare(db: Database.Database): void {
    // Every decision unlists its referral's future meetings: without this, each one scans every listing.
    db.exec('CREATE INDEX IF NOT EXISTS marac_cases_referral ON marac_cases (referral_id, starts_at)');
    this.statements = {
      // Instants both (UTC, as toISOString writes them), so they compare as strings.
      unlistFuture: db.prepare('DELETE FROM marac_cases WHERE referral_id = ? AND starts_at > ?'),
      list: db.prepare(
        `INSERT OR REPLACE INTO marac_cases (meeting_id, meeting_date, kind, starts_at, referral_id, repeat, has_children, listed_at)
         VALUES (@meetingId, @date, @kind, @startsAt, @referralId, @repeat, @hasChildren, @listedAt)`,
      ),
      range: db.prepare('SELECT * FROM marac_cases WHERE meeting_date BETWEEN ? AND ? ORDER BY meeting_date, meeting_id, has_children DESC, listed_at'),
    };
  }

  apply(event: RecordedEvent): void {
    const decision = event.data as unknown as ReferralRouted['data'];
    // A reassessment replaces a listing whose meeting has not begun; meetings begun or held stay as they were. A
    // referral's first decision has no listing before it.
    if (decision.decisionNumber > 0) this.statements.unlistFuture.run(decision.referralId, decision.facts.routedAt);
    const marac = decision.outcome.marac;
    if (!marac) return;
    this.statements.list.run({
      meetingId: meetingIdOf(marac),
      date: marac.date,
      kind: marac.kind,
      startsAt: marac.startsAt,
      referralId: decision.referralId,
      repeat: marac.repeat ? 1 : 0,
      hasChildren: marac.hasChildren ? 1 : 0,
      listedAt: decision.facts.routedAt,
    });
  }

  casesBetween(from: string, to: string): MaracCaseRow[] {
    return this.statements.range.all(from, to);
  }
}

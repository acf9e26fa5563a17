import { Injectable } from '@nestjs/common';
import type Database from 'better-sqlite3';
import type { CaseOpened } from '@spoc/domain';
import type { DecodedEvent, Projection } from '@spoc/platform';

/**
 * Which referral each case belongs to, so a referral's history reads its case streams without scanning the log.
 * Every case starts with CaseOpened naming its referral, whether routing or a transfer opened it.
 */
@Injectable()
export class CaseReferralProjection implements Projection {
  readonly name = 'case-referral';
  readonly version = 1;
  readonly eventTypes = ['CaseOpened'];
  readonly tables = {
    case_referrals: 'CREATE TABLE IF NOT EXISTS case_referrals (case_id TEXT PRIMARY KEY, referral_id TEXT NOT NULL) WITHOUT ROWID',
  };
  private statements!: { opened: Database.Statement; casesOf: Database.Statement<[string], { case_id: string }> };

  prepare(db: Database.Database): void {
    db.exec('CREATE INDEX IF NOT EXISTS case_referrals_referral ON case_referrals (referral_id)');
    this.statements = {
      opened: db.prepare('INSERT OR IGNORE INTO case_referrals (case_id, referral_id) VALUES (?, ?)'),
      casesOf: db.prepare('SELECT case_id FROM case_referrals WHERE referral_id = ? ORDER BY case_id'),
    };
  }

  apply(event: DecodedEvent): void {
    const { caseId, referralId } = event.data as unknown as CaseOpened['data'];
    this.statements.opened.run(caseId, referralId);
  }

  casesOf(referralId: string): string[] {
    return this.statements.casesOf.all(referralId).map((row) => row.case_id);
  }
}

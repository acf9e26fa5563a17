import { Injectable } from '@nestjs/common';
import type Database from 'better-sqlite3';
import type { ReferralEvent } from '@spoc/domain';
import type { DecodedEvent, Projection } from '@spoc/platform';

export interface ReferralStatusRow {
  referral_id: string;
  agency: string;
  agency_reference: string;
  referral_type: string;
  received_at: string;
  status: string;
  risk_level: string | null;
  risk_criteria: string | null;
  dash_score: number | null;
  policy_version: string | null;
}

/** What a referrer may know of a referral: its status and its non-personal facts. No personal data is kept here. */
@Injectable()
export class ReferralStatusProjection implements Projection {
  readonly name = 'referral-status';
  readonly eventTypes = ['ReferralReceived', 'RiskAssessed'];
  readonly tables = {
    referrals: `CREATE TABLE IF NOT EXISTS referrals (
      referral_id TEXT PRIMARY KEY, agency TEXT NOT NULL, agency_reference TEXT NOT NULL, referral_type TEXT NOT NULL,
      received_at TEXT NOT NULL, status TEXT NOT NULL, risk_level TEXT, risk_criteria TEXT, dash_score INTEGER,
      policy_version TEXT
    ) WITHOUT ROWID`,
  };
  private statements!: {
    received: Database.Statement;
    assessed: Database.Statement;
    byId: Database.Statement<[string], ReferralStatusRow>;
  };

  prepare(db: Database.Database): void {
    this.statements = {
      received: db.prepare(
        `INSERT OR IGNORE INTO referrals (referral_id, agency, agency_reference, referral_type, received_at, status)
         VALUES (?, ?, ?, ?, ?, 'received')`,
      ),
      assessed: db.prepare('UPDATE referrals SET risk_level = ?, risk_criteria = ?, dash_score = ?, policy_version = ? WHERE referral_id = ?'),
      byId: db.prepare('SELECT * FROM referrals WHERE referral_id = ?'),
    };
  }

  apply(event: DecodedEvent): void {
    const domain = { type: event.type, data: event.data } as ReferralEvent;
    switch (domain.type) {
      case 'ReferralReceived': {
        const { referralId, agency, agencyReference, referralType, receivedAt } = domain.data;
        this.statements.received.run(referralId, agency, agencyReference, referralType, receivedAt);
        break;
      }
      case 'RiskAssessed': {
        const { level, criteria, dashScore, policyId, referralId } = domain.data;
        this.statements.assessed.run(level, JSON.stringify(criteria), dashScore, policyId, referralId);
        break;
      }
    }
  }

  find(referralId: string): ReferralStatusRow | null {
    return this.statements.byId.get(referralId) ?? null;
  }
}

import type { Principal } from '../shared/auth/principal';
import type { ReferralStatusRow } from './referral-status.projection';

/** The contract's GET /v1/referrals/:id shape. Routing fills routes, repeat, marac and encompass; until then they are empty. */
export function referralView(row: ReferralStatusRow) {
  return {
    referralId: row.referral_id,
    agencyReference: row.agency_reference,
    referralType: row.referral_type,
    receivedAt: row.received_at,
    status: row.status,
    riskLevel: row.risk_level,
    riskCriteria: row.risk_criteria ? (JSON.parse(row.risk_criteria) as string[]) : [],
    dashScore: row.dash_score,
    repeat: null,
    routes: [],
    marac: null,
    encompass: [],
    policyVersion: row.policy_version,
  };
}

/** A referrer sees only its own agency's referrals; to anyone else in that role the referral does not exist. */
export function mayReadReferral(principal: Principal, row: ReferralStatusRow): boolean {
  if (principal.role === 'auditor') return true;
  if (principal.role === 'referrer') return principal.agency === row.agency;
  return false;
}

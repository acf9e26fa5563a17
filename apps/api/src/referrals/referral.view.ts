import { isSealed, type PersonalDataVault } from '@spoc/platform';
import type { Principal } from '../shared/auth/principal';
import type { ReferralStatusRow } from './referral-status.projection';

const parse = <T>(json: string | null, fallback: T): T => (json ? (JSON.parse(json) as T) : fallback);

/** The contract's GET /v1/referrals/:id shape, with the routing parts once the router has decided. */
export function referralView(row: ReferralStatusRow, vault: PersonalDataVault, sentNotifications: Set<string>) {
  const sealed = parse<unknown>(row.schools, null);
  const schools = isSealed(sealed) ? vault.open<Record<string, string>>(sealed) : null;
  const encompass = parse<Array<{ notificationId: string; childIndex: number; dueBy: string }>>(row.encompass, []);
  return {
    referralId: row.referral_id,
    agencyReference: row.agency_reference,
    referralType: row.referral_type,
    receivedAt: row.received_at,
    status: row.status,
    riskLevel: row.risk_level,
    riskCriteria: parse<string[]>(row.risk_criteria, []),
    dashScore: row.dash_score,
    repeat: parse(row.repeat, null),
    routes: parse(row.routes, []),
    marac: parse(row.marac, null),
    encompass: encompass.map((notification) => ({
      notificationId: notification.notificationId,
      school: schools?.[String(notification.childIndex)] ?? null,
      dueBy: notification.dueBy,
      status: sentNotifications.has(notification.notificationId) ? 'sent' : 'due',
    })),
    flags: parse<string[]>(row.flags, []),
    reasons: parse<string[]>(row.reasons, []),
    routedAt: row.routed_at,
    policyVersion: row.policy_version,
  };
}

type Repeat = { previousReferralIds?: string[]; possibleMatchReferralIds?: string[] } & Record<string, unknown>;

/**
 * The earlier referrals of the same person as a caller may see them: an auditor all of them, a referrer only its
 * own agency's (another agency's referral does not exist for it, so neither does its id). That the person is a
 * repeat, and was at MARAC, stays: it is why the referral was routed as it was.
 */
export function repeatSeenBy<T extends { repeat: unknown }>(view: T, caller: Principal, agencyOf: (referralId: string) => string | null): T {
  const repeat = view.repeat as Repeat | null;
  if (caller.role === 'auditor' || !repeat) return view;
  const own = (ids: string[] | undefined) => ids?.filter((id) => agencyOf(id) === caller.agency);
  return { ...view, repeat: { ...repeat, previousReferralIds: own(repeat.previousReferralIds) ?? [], possibleMatchReferralIds: own(repeat.possibleMatchReferralIds) ?? [] } };
}

/** A referrer sees only its own agency's referrals; to anyone else in that role the referral does not exist. */
export function mayReadReferral(principal: Principal, row: ReferralStatusRow): boolean {
  if (principal.role === 'auditor') return true;
  if (principal.role === 'referrer') return principal.agency === row.agency;
  return false;
}

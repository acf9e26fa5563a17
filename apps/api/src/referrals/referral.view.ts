import { isSealed, type PersonalDataVault } from '@spoc/platform';
import { POSSIBLE_MATCH_REASON, type MaracMeeting, type RouteStatus } from '@spoc/domain';
import { maracListingView } from '../marac/meeting-view';
import type { Principal } from '../shared/auth/principal';
import type { ReferralStatusRow } from './referral-status.projection';

const parse = <T>(json: string | null, fallback: T): T => (json ? (JSON.parse(json) as T) : fallback);
const HELD_FOR_CONSENT: RouteStatus = 'held-awaiting-consent';

/** The agency's reference, opened; null once the referral is erased. */
export function agencyReferenceOf(row: Pick<ReferralStatusRow, 'agency_reference'>, vault: PersonalDataVault): string | null {
  const stored = parse<unknown>(row.agency_reference, null);
  return isSealed(stored) ? vault.open<string>(stored) : typeof stored === 'string' ? stored : null;
}

/** The contract's GET /v1/referrals/:id shape, with the routing parts once the router has decided. */
export function referralView(row: ReferralStatusRow, vault: PersonalDataVault, sentNotifications: Set<string>) {
  const sealed = parse<unknown>(row.schools, null);
  const schools = isSealed(sealed) ? vault.open<Record<string, string>>(sealed) : null;
  const encompass = parse<Array<{ notificationId: string; childIndex: number; dueBy: string }>>(row.encompass, []);
  // The contract's routes are routed or waitlisted; a route waiting for the victim's consent is listed apart.
  const routes = parse<Array<{ status: string; provision: string; caseId: string; ruleIds: string[] }>>(row.routes, []);
  const held = (route: { status: string }) => route.status === HELD_FOR_CONSENT;
  return {
    referralId: row.referral_id,
    agencyReference: agencyReferenceOf(row, vault),
    referralType: row.referral_type,
    receivedAt: row.received_at,
    status: row.status,
    riskLevel: row.risk_level,
    riskCriteria: parse<string[]>(row.risk_criteria, []),
    dashScore: row.dash_score,
    repeat: repeatView(parse<Repeat | null>(row.repeat, null)),
    routes: routes.filter((route) => !held(route)),
    heldForConsent: routes.filter(held).map(({ provision, caseId, ruleIds }) => ({ provision, caseId, ruleIds })),
    marac: maracListingView(parse<MaracMeeting | null>(row.marac, null)),
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

/** The decision's repeat facts as the contract shows them: which referrals, not the router's own summary of them. */
function repeatView(repeat: Repeat | null): Repeat | null {
  if (!repeat) return null;
  const { possibleMatch: _summary, ...shown } = repeat;
  return shown;
}

type Repeat = { isRepeat?: boolean; repeatMarac?: boolean; previousReferralIds?: string[]; maracReferralIds?: string[]; possibleMatchReferralIds?: string[]; possibleMatch?: boolean } & Record<string, unknown>;
type RoutedView = { repeat: unknown; flags: string[]; reasons?: string[]; riskCriteria: string[]; marac: unknown };

/**
 * What the routing learned from earlier referrals of the same person, as the caller may see it (decision 0012).
 * An auditor sees all of it. A referrer sees only what its own agency's referrals taught: another agency's referral
 * does not exist for it, so neither does its id, nor that the person was referred or heard at MARAC because of it.
 * The decision itself stands as made: the risk level and the routes are what the referrer acts on. Where another
 * agency's MARAC listing alone made the level high, the criteria say `partnership-information`; where the
 * referrer's own answers make it high anyway, nothing is said in its place.
 */
export function repeatSeenBy<T extends RoutedView>(view: T, caller: Principal, agencyOf: (referralId: string) => string | null): T {
  const repeat = view.repeat as Repeat | null;
  if (caller.role === 'auditor' || !repeat) return view;
  const own = (ids: string[] | undefined) => (ids ?? []).filter((id) => agencyOf(id) === caller.agency);
  const previous = own(repeat.previousReferralIds);
  // Which earlier referrals were at MARAC is kept in decisions since 0012; before, only "every earlier one is ours" tells.
  const ownMarac = repeat.maracReferralIds ? own(repeat.maracReferralIds).length > 0 : previous.length === (repeat.previousReferralIds ?? []).length;
  const repeatMarac = repeat.repeatMarac === true && ownMarac;
  const withheld = repeat.repeatMarac === true && !repeatMarac;
  const criteria = withheld ? view.riskCriteria.filter((criterion) => criterion !== 'repeat-marac') : view.riskCriteria;
  const possible = own(repeat.possibleMatchReferralIds);
  return {
    ...view,
    repeat: { ...repeat, isRepeat: previous.length > 0, repeatMarac, previousReferralIds: previous, ...(repeat.maracReferralIds ? { maracReferralIds: own(repeat.maracReferralIds) } : {}), possibleMatchReferralIds: possible },
    flags: view.flags.filter((flag) => (flag !== 'repeat-victim' || previous.length > 0) && (flag !== 'repeat-marac' || repeatMarac) && (flag !== 'possible-repeat-to-confirm' || possible.length > 0)),
    ...(view.reasons ? { reasons: view.reasons.filter((text) => text !== POSSIBLE_MATCH_REASON || possible.length > 0) } : {}),
    riskCriteria: withheld && criteria.length === 0 ? ['partnership-information'] : criteria,
    marac: view.marac === null ? null : { ...(view.marac as object), repeat: repeatMarac },
  };
}

/** A referrer sees only its own agency's referrals; to anyone else in that role the referral does not exist. */
export function mayReadReferral(principal: Principal, row: ReferralStatusRow): boolean {
  if (principal.role === 'auditor') return true;
  if (principal.role === 'referrer') return principal.agency === row.agency;
  return false;
}

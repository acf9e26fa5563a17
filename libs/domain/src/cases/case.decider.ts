import { addWorkingDays } from '../calendar/working-days';
import type { ProvisionId, RoutingPolicy } from '../policy/policy';
import type { ReferralType } from '../referrals/referral.types';
import type { RiskLevel } from '../risk/dash';
import { notForReferralType } from '../routing/referral-type-rules';
import { notForAge, worksWithoutConsent, type AgesAtDecision } from '../routing/victim-rules';
import type { RouteStatus } from '../routing/routing.types';
import type { CaseOpened, CaseSuperseded } from '../routing/referral-routed';
import { assertNever, DomainError } from '../shared/domain-error';

/** The contract's case statuses, plus `superseded` when a reassessment no longer routes the referral there. */
export type CaseStatus = 'awaiting' | 'active' | 'declined' | 'transferred' | 'closed' | 'superseded';

export const CONTACT_OUTCOMES = ['contacted', 'no-answer', 'unsafe-to-contact', 'message-left'] as const;
export type ContactOutcome = (typeof CONTACT_OUTCOMES)[number];

export const CLOSE_OUTCOMES = ['engaged-risk-reduced', 'engaged-ongoing-risk', 'declined-support', 'no-contact', 'moved-away', 'other'] as const;
export type CloseOutcome = (typeof CLOSE_OUTCOMES)[number];

/** Free text a caseworker types (`note`, `reason`) may name people: it is sealed with the referral's key. */
export type CaseEvent =
  | CaseOpened
  | CaseSuperseded
  | { type: 'CaseClaimed'; data: { caseId: string; assignee: string; claimedAt: string } }
  | { type: 'ContactAttempted'; data: { caseId: string; outcome: ContactOutcome; note: string | null; attemptedAt: string } }
  | { type: 'CaseDeclined'; data: { caseId: string; reason: string; declinedAt: string } }
  | { type: 'CaseTransferred'; data: { caseId: string; toProvision: ProvisionId; toCaseId: string; reason: string; transferredAt: string } }
  | { type: 'CaseClosed'; data: { caseId: string; outcome: CloseOutcome; note: string | null; closedAt: string } }
  /**
   * A waitlisted refuge case gets the unit someone else left: a new first-contact clock starts, for the place.
   * (While waitlisted the case is workable: the victim hears within the service level what is being done.)
   */
  // `policyId`: the policy whose service level set `dueBy` (absent, like `referralId`, in events recorded before it was kept).
  | { type: 'RefugePlaceOffered'; data: { caseId: string; referralId?: string; dueBy: string; offeredAt: string; policyId?: string } }
  /**
   * A later decision on the referral (a reassessment, a consent) kept this case and changed what orders it in its
   * queue: the risk level, a repeat, children. `status` is the case's as it stands; nothing else changes.
   */
  | { type: 'CaseReprioritised'; data: { caseId: string; referralId: string; riskLevel: RiskLevel | null; repeat: boolean; hasChildren: boolean; decisionNumber: number; status: CaseStatus; reprioritisedAt: string } }
  /** What the router did after a decline: referred on to the policy's fallback provision... */
  // `policyId`: the policy whose fallback chose `toProvision` (absent in events recorded before it was kept).
  | { type: 'CaseReferredOn'; data: { caseId: string; referralId: string; toProvision: ProvisionId; toCaseId: string; referredAt: string; policyId?: string } }
  /** ...or, with no fallback left, handed back to the referrer with a plain reason (never the caseworker's text). */
  | { type: 'CaseReturnedToReferrer'; data: { caseId: string; referralId: string; reason: string; returnedAt: string } }
  /**
   * The referral's personal data was erased: whoever follows the case (a provider's system, through Kafka) drops
   * what it fetched of it. `status` is the case's as it stood; nothing else about the case changes.
   */
  | { type: 'CaseDetailsErased'; data: { caseId: string; referralId: string; status: CaseStatus; erasedAt: string } };

export type CaseCommand =
  | { type: 'ClaimCase'; data: { caseId: string; assignee: string; at: string } }
  | { type: 'RecordContactAttempt'; data: { caseId: string; outcome: ContactOutcome; note: string | null; at: string } }
  | { type: 'DeclineCase'; data: { caseId: string; reason: string; at: string } }
  // `openAt`: the provisions where the referral has an open case now (a second one there would have two workers call);
  // `consentGiven`: as the referral's latest decision had it.
  | {
      type: 'TransferCase';
      data: {
        caseId: string; toProvision: ProvisionId; toCaseId: string; reason: string; at: string;
        referralType: ReferralType; openAt: ProvisionId[]; consentGiven: boolean; ages: AgesAtDecision; policy: RoutingPolicy;
      };
    }
  | { type: 'CloseCase'; data: { caseId: string; outcome: CloseOutcome; note: string | null; at: string } }
  | { type: 'OfferRefugePlace'; data: { caseId: string; at: string; policy: RoutingPolicy } }
  | { type: 'Reprioritise'; data: { caseId: string; riskLevel: RiskLevel | null; repeat: boolean; hasChildren: boolean; decisionNumber: number; at: string } }
  | { type: 'ResolveDecline'; data: { caseId: string; toCaseId: string; at: string; policy: RoutingPolicy; triedProvisions: ProvisionId[] } };

/** What a caseworker may ask of a case; the rest are the router's. */
export type CaseworkerCommand = Exclude<CaseCommand, { type: 'OfferRefugePlace' | 'ResolveDecline' | 'Reprioritise' }>;

export type CaseState =
  | { status: 'none' }
  | {
      status: CaseStatus;
      opened: CaseOpened['data'];
      routeStatus: RouteStatus;
      dueBy: string | null;
      assignee: string | null;
      contactAttempts: number;
      firstContactAttemptAt: string | null;
      /** After a decline: set once the router has referred it on or returned it. */
      declineResolved: boolean;
      /** The decision its risk level, repeat and children are from: an older one read again changes nothing. */
      priorityDecision: number;
    };

type OpenState = Exclude<CaseState, { status: 'none' }>;

/**
 * The case lifecycle (the contract's table): awaiting → active by a claim; contact attempts while active; decline
 * or transfer from awaiting or active; close from active; none of them on a case held for consent. Everything
 * else is an invalid transition with a plain reason. Caseworkers' commands carry `at` from the edge; nothing here
 * reads a clock.
 */
export const caseDecider = {
  initialState: (): CaseState => ({ status: 'none' }),

  decide(command: CaseCommand, state: CaseState): CaseEvent[] {
    if (state.status === 'none') throw new DomainError('not-found', 'no such case');
    const { caseId, at } = command.data;
    switch (command.type) {
      case 'ClaimCase':
        requireStatus(state, ['awaiting'], 'claimed');
        requireRouted(state);
        return [{ type: 'CaseClaimed', data: { caseId, assignee: command.data.assignee, claimedAt: at } }];
      case 'RecordContactAttempt':
        requireStatus(state, ['active'], 'given a contact attempt');
        return [{ type: 'ContactAttempted', data: { caseId, outcome: command.data.outcome, note: command.data.note, attemptedAt: at } }];
      case 'DeclineCase':
        requireStatus(state, ['awaiting', 'active'], 'declined');
        requireRouted(state);
        return [{ type: 'CaseDeclined', data: { caseId, reason: command.data.reason, declinedAt: at } }];
      case 'TransferCase': {
        requireStatus(state, ['awaiting', 'active'], 'transferred');
        requireRouted(state);
        const { toProvision, toCaseId, reason, referralType, openAt, consentGiven, ages, policy } = command.data;
        if (toProvision === state.opened.provision) throw new DomainError('invalid-transition', 'a case cannot be transferred to its own provision');
        const notFor = notForReferralType(referralType, toProvision) ?? notForAge(toProvision, ages, policy);
        if (notFor) throw new DomainError('invalid-transition', notFor);
        if (!consentGiven && !worksWithoutConsent(toProvision, state.opened.riskLevel)) {
          throw new DomainError('invalid-transition', `the victim has not consented, and ${toProvision} is a voluntary service: record the consent first`);
        }
        if (openAt.includes(toProvision)) throw new DomainError('invalid-transition', `the referral already has an open case at ${toProvision}: ask that provision, rather than open a second`);
        // A refuge unit is allocated in request order by routing; a transfer would jump the waitlist.
        if (toProvision === 'refuge') throw new DomainError('invalid-transition', 'refuge places are allocated by routing: record the need for safe accommodation in a reassessment');
        return [{ type: 'CaseTransferred', data: { caseId, toProvision, toCaseId, reason, transferredAt: at } }];
      }
      case 'CloseCase':
        requireStatus(state, ['active'], 'closed');
        return [{ type: 'CaseClosed', data: { caseId, outcome: command.data.outcome, note: command.data.note, closedAt: at } }];
      case 'OfferRefugePlace': {
        if ((state.status !== 'awaiting' && state.status !== 'active') || state.routeStatus !== 'waitlisted') return [];
        const days = command.data.policy.provisions.refuge.firstContactWorkingDays;
        return [{ type: 'RefugePlaceOffered', data: { caseId, referralId: state.opened.referralId, dueBy: addWorkingDays(at, days, command.data.policy.calendar), offeredAt: at, policyId: command.data.policy.id } }];
      }
      case 'Reprioritise': {
        const { riskLevel, repeat, hasChildren, decisionNumber } = command.data;
        const { opened } = state;
        if (state.status !== 'awaiting' && state.status !== 'active') return [];
        // A router reading the log again meets older decisions again: only a newer one moves the case.
        if (decisionNumber <= state.priorityDecision) return [];
        if (opened.riskLevel === riskLevel && opened.repeat === repeat && opened.hasChildren === hasChildren) return [];
        return [{ type: 'CaseReprioritised', data: { caseId, referralId: opened.referralId, riskLevel, repeat, hasChildren, decisionNumber, status: state.status, reprioritisedAt: at } }];
      }
      case 'ResolveDecline': {
        if (state.status !== 'declined' || state.declineResolved) return [];
        const fallback = command.data.policy.provisions[state.opened.provision].declineFallback;
        if (fallback && !command.data.triedProvisions.includes(fallback)) {
          return [{ type: 'CaseReferredOn', data: { caseId, referralId: state.opened.referralId, toProvision: fallback, toCaseId: command.data.toCaseId, referredAt: at, policyId: command.data.policy.id } }];
        }
        const reason = fallback
          ? `Declined by ${state.opened.provision}; ${fallback} has already had this referral, so it is returned to the referrer.`
          : `Declined by ${state.opened.provision}; the policy names no other provision for it, so it is returned to the referrer.`;
        return [{ type: 'CaseReturnedToReferrer', data: { caseId, referralId: state.opened.referralId, reason, returnedAt: at } }];
      }
      default:
        return assertNever(command);
    }
  },

  evolve(state: CaseState, event: CaseEvent): CaseState {
    if (event.type === 'CaseOpened') {
      const { data } = event;
      return { status: 'awaiting', opened: data, routeStatus: data.status, dueBy: data.dueBy, assignee: null, contactAttempts: 0, firstContactAttemptAt: null, declineResolved: false, priorityDecision: data.decisionNumber };
    }
    if (state.status === 'none') return state;
    switch (event.type) {
      case 'CaseSuperseded':
        // A case already ended keeps the status it ended with; the supersession is still on record.
        return state.status === 'awaiting' || state.status === 'active' ? { ...state, status: 'superseded' } : state;
      case 'CaseClaimed':
        return { ...state, status: 'active', assignee: event.data.assignee };
      case 'ContactAttempted':
        return { ...state, contactAttempts: state.contactAttempts + 1, firstContactAttemptAt: state.firstContactAttemptAt ?? event.data.attemptedAt };
      case 'CaseDeclined':
        return { ...state, status: 'declined' };
      case 'CaseTransferred':
        return { ...state, status: 'transferred' };
      case 'CaseClosed':
        return { ...state, status: 'closed' };
      case 'RefugePlaceOffered':
        return { ...state, routeStatus: 'routed', dueBy: event.data.dueBy };
      case 'CaseReprioritised': {
        // Kept on the case as opened: a transfer or a referral-on carries it on to the next case.
        const { riskLevel, repeat, hasChildren, decisionNumber } = event.data;
        return { ...state, opened: { ...state.opened, riskLevel, repeat, hasChildren }, priorityDecision: decisionNumber };
      }
      case 'CaseReferredOn':
      case 'CaseReturnedToReferrer':
        return { ...state, declineResolved: true };
      case 'CaseDetailsErased':
        return state;
      default:
        return assertNever(event);
    }
  },
};

function requireStatus(state: OpenState, allowed: CaseStatus[], verb: string): void {
  if (!allowed.includes(state.status)) {
    throw new DomainError('invalid-transition', `a case that is ${state.status} cannot be ${verb} (only one that is ${allowed.join(' or ')})`);
  }
}

/**
 * Without the victim's consent the referral is not routed: the provision may not take it, nor decline or transfer
 * it, either of which would send the person on to another provision as a routed case.
 */
function requireRouted(state: OpenState): void {
  if (state.routeStatus === 'held-awaiting-consent') throw new DomainError('invalid-transition', "this case is held until the victim's consent is recorded");
}

/**
 * The case a transfer or a decline's referral-on opens at another provision: the same person and risk, a new
 * first-contact clock from the moment of the move, and a link back to the case it came from.
 */
export function caseOpenedElsewhere(
  from: CaseOpened['data'],
  move: { toProvision: ProvisionId; toCaseId: string; at: string; kind: 'transfer' | 'decline' },
  policy: RoutingPolicy,
): CaseOpened {
  return {
    type: 'CaseOpened',
    data: {
      caseId: move.toCaseId,
      referralId: from.referralId,
      provision: move.toProvision,
      ruleIds: from.ruleIds,
      status: 'routed',
      riskLevel: from.riskLevel,
      repeat: from.repeat,
      hasChildren: from.hasChildren,
      routedAt: move.at,
      dueBy: addWorkingDays(move.at, policy.provisions[move.toProvision].firstContactWorkingDays, policy.calendar),
      decisionNumber: from.decisionNumber,
      origin: { kind: move.kind, fromCaseId: from.caseId, fromProvision: from.provision },
      policyId: policy.id,
    },
  };
}

/** The ways a case ends; the first of them on a case's stream is its end (a later supersession changes nothing). */
export function endsCase(event: { type: string }): boolean {
  return event.type === 'CaseClosed' || event.type === 'CaseDeclined' || event.type === 'CaseTransferred' || event.type === 'CaseSuperseded';
}

/** Whether a case still holds (or waits for) a refuge unit: until it ends, by any way of ending. */
export function endsRefugeHold(event: CaseEvent): boolean {
  return endsCase(event);
}

import type { MaracMeeting } from '../marac/marac-schedule';
import type { ProvisionId } from '../policy/policy';
import type { LawfulBasis, ReferralType } from '../referrals/referral.types';
import type { RiskLevel } from '../risk/dash';

/**
 * Everything routing looks at, gathered by the router beforehand and stored with the decision, so that the same
 * facts and the same policy give the same outcome when an auditor replays it. Ages are whole years at routing.
 */
export interface RoutingFacts {
  referralId: string;
  referralType: ReferralType;
  routedAt: string;
  subjectAgeYears: number;
  riskLevel: RiskLevel | null;
  riskCriteria: string[];
  /**
   * `reasonRecorded`: whether the referrer said why it goes ahead without consent (the text stays sealed with the
   * referral); missing in decisions made before it was kept.
   */
  consent: { given: boolean; lawfulBasis: LawfulBasis; reasonRecorded?: boolean };
  needsSafeAccommodation: boolean;
  refugeUnitsFree: number;
  children: RoutingChild[];
  policeAttended: boolean;
  perpetratorAcknowledgesBehaviour: boolean | null;
  /** For child-to-parent referrals, the child's age. */
  otherPartyAgeYears: number | null;
  /**
   * `maracReferralIds`: which earlier referrals make it a repeat MARAC; `possibleMatch`: whether an earlier referral
   * may be the same person, for someone to confirm. Both missing in decisions made before they were kept.
   */
  repeat: { isRepeat: boolean; previousReferralIds: string[]; repeatMarac: boolean; maracReferralIds?: string[]; possibleMatch?: boolean };
}

export interface RoutingChild {
  /** Position in the referral's children list, so a notification names its child without personal data. */
  index: number;
  ageYears: number;
  livesInHousehold: boolean;
  presentAtIncident: boolean;
  school: string | null;
}

/** Rule ids as routing-policy.md names them; `perpetrator` and `child-to-parent` are its two other referral types. */
export const RULE_IDS = [
  'child-under-13',
  'young-person',
  'high-risk',
  'medium-risk',
  'standard-risk',
  'safe-accommodation',
  'children-in-household',
  'encompass',
  'perpetrator',
  'child-to-parent',
] as const;
export type RuleId = (typeof RULE_IDS)[number];

export const ROUTING_FLAGS = [
  'repeat-victim',
  'repeat-marac',
  'search-national-refuge-vacancies',
  'encompass-school-not-known',
  'risk-assessment-missing',
  'calendar-out-of-date',
  'consent-reason-missing',
  'possible-repeat-to-confirm',
] as const;
export type RoutingFlag = (typeof ROUTING_FLAGS)[number];

export type RouteStatus = 'routed' | 'waitlisted' | 'held-awaiting-consent';

export interface Route {
  provision: ProvisionId;
  ruleIds: RuleId[];
  status: RouteStatus;
  /** First contact attempt due; null while held, because no clock runs before consent. */
  dueBy: string | null;
}

export interface MaracListing extends MaracMeeting {
  repeat: boolean;
  hasChildren: boolean;
}

export interface EncompassNotification {
  childIndex: number;
  school: string;
  dueBy: string;
}

export type RoutingStatus = 'routed' | 'awaiting-consent' | 'not-eligible';

export interface RoutingOutcome {
  policyId: string;
  status: RoutingStatus;
  routes: Route[];
  marac: MaracListing | null;
  encompass: EncompassNotification[];
  rulesFired: RuleId[];
  flags: RoutingFlag[];
  /** Plain sentences for the referrer and the auditor; never personal data. */
  reasons: string[];
}

/** What a decision that found no refuge unit free says; a place offered later takes both back. */
export const NATIONAL_REFUGE_SEARCH_FLAG = 'search-national-refuge-vacancies';
export const NATIONAL_REFUGE_SEARCH_REASON = 'No refuge unit is free: search national refuge vacancies and consider an out-of-area placement.';

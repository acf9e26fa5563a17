/**
 * The stored event types and their schema versions: the one place a type string is named for the log.
 * Stored names never come from class names; a change of shape bumps the version and adds an upcaster here.
 */
export const EVENT_SCHEMAS = {
  PrincipalRegistered: 1,
  PrincipalRevoked: 1,
  ReferralReceived: 1,
  RiskAssessed: 1,
  NeedsRecorded: 1,
  ConsentRecorded: 1,
  ReferralRouted: 1,
  CaseOpened: 1,
  CaseSuperseded: 1,
  CaseClaimed: 1,
  ContactAttempted: 1,
  CaseDeclined: 1,
  CaseTransferred: 1,
  CaseClosed: 1,
  RefugePlaceOffered: 1,
  CaseReprioritised: 1,
  CaseReferredOn: 1,
  CaseReturnedToReferrer: 1,
  /** Tells a case's followers that its referral's personal data was erased. */
  CaseDetailsErased: 1,
  /** The router could not decide on a referral; kinds only, never data. */
  RoutingFailed: 1,
  /** A referral's personal data made unreadable; why, never what. */
  ReferralErased: 1,
  RefugeUnitRequested: 1,
  RefugeUnitReleased: 1,
  EncompassNotificationSent: 1,
  /** A batch of accesses: who read or changed which referral or case, by which route. Ids only, never personal data. */
  AccessRecorded: 1,
} as const;

export type StoredEventType = keyof typeof EVENT_SCHEMAS;

/** Top-level fields of an event's data that are personal data: sealed with the subject's key before storage. */
export const PERSONAL_FIELDS: Partial<Record<StoredEventType, readonly string[]>> = {
  // The agency's reference points at its own record of the person (a crime or case number): erasure must reach it.
  ReferralReceived: ['agencyReference', 'submission', 'contact'],
  RiskAssessed: ['assessment'],
  ConsentRecorded: ['notes'],
  // A child's school says where the child is every weekday.
  ReferralRouted: ['schools'],
  // What a caseworker types may name the victim, the children or the abuser.
  ContactAttempted: ['note'],
  CaseDeclined: ['reason'],
  CaseTransferred: ['reason'],
  CaseClosed: ['note'],
};

export const streams = {
  referral: (referralId: string) => `referral-${referralId}`,
  principal: (principalId: string) => `principal-${principalId}`,
  case: (caseId: string) => `case-${caseId}`,
  encompass: (notificationId: string) => `encompass-${notificationId}`,
  /** One stream for all refuge places, so the order of requests decides who is placed. */
  refuge: () => 'refuge-units',
  /** The access log, one stream per UTC day (YYYY-MM-DD), appended in batches. */
  access: (day: string) => `access-${day}`,
};

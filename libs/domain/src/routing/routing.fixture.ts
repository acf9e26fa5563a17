import type { RoutingChild, RoutingFacts } from './routing.types';

/**
 * Facts for specs: an adult standard-risk victim who consents, routed on Monday 23 November 2026 at 14:00 (GMT),
 * with no children and the police not involved. Each spec changes only what its rule looks at.
 */
export function victim(overrides: Partial<RoutingFacts> = {}): RoutingFacts {
  return {
    referralId: 'r-1',
    referralType: 'victim',
    routedAt: '2026-11-23T14:00:00.000Z',
    subjectAgeYears: 34,
    riskLevel: 'standard',
    riskCriteria: ['dash-score<10'],
    consent: { given: true, lawfulBasis: 'consent' },
    needsSafeAccommodation: false,
    refugeUnitsFree: 3,
    children: [],
    policeAttended: false,
    perpetratorAcknowledgesBehaviour: null,
    otherPartyAgeYears: null,
    repeat: { isRepeat: false, previousReferralIds: [], repeatMarac: false },
    ...overrides,
  };
}

export function child(index: number, ageYears: number, overrides: Partial<RoutingChild> = {}): RoutingChild {
  return { index, ageYears, livesInHousehold: true, presentAtIncident: false, school: `School ${index}`, ...overrides };
}

export const withoutConsent = { consent: { given: false, lawfulBasis: 'safeguarding' as const } };

/** Due times from Monday 23 November 2026 14:00 GMT. */
export const due = {
  oneWorkingDay: '2026-11-24T14:00:00.000Z',
  twoWorkingDays: '2026-11-25T14:00:00.000Z',
  fiveWorkingDays: '2026-11-30T14:00:00.000Z',
  nextSchoolDayStart: '2026-11-24T08:30:00.000Z',
};

import {
  isWithinMonths,
  localDateOf,
  type ConsentRecorded,
  type NeedsRecorded,
  type ReferralReceived,
  type RiskAssessed,
  type RoutingFacts,
  type RoutingPolicy,
} from '@spoc/domain';
import { matchIndexed, type IndexedPerson, type RouterState } from './router-state';

/** Whole years from a date of birth to a local date (both YYYY-MM-DD). */
export function ageOn(dateOfBirth: string, date: string): number {
  const [by, bm, bd] = dateOfBirth.split('-').map(Number);
  const [y, m, d] = date.split('-').map(Number);
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}

export interface RepeatFindings {
  isRepeat: boolean;
  previousReferralIds: string[];
  repeatMarac: boolean;
  /** The earlier referrals that make it a repeat MARAC (listed, in the window, the same perpetrator). */
  maracReferralIds: string[];
  possibleMatchReferralIds: string[];
}

/**
 * Repeat victimisation: earlier referrals of the same person within the window (certain matches only count;
 * possible ones are listed for someone to confirm). Repeat MARAC: an earlier referral of the person, naming the
 * same perpetrator, was listed at MARAC within the MARAC window before this one, however long ago it was received
 * (a reassessment may have listed it later).
 */
export function findRepeats(person: Omit<IndexedPerson, 'maracListings'>, state: RouterState, policy: RoutingPolicy): RepeatFindings {
  const { timeZone } = policy.calendar;
  const before = state.candidatesFor(person).filter((candidate) => candidate.receivedAt < person.receivedAt);
  const inWindow = (candidate: IndexedPerson) => isWithinMonths(candidate.receivedAt, person.receivedAt, policy.repeatVictimisation.windowMonths, timeZone);
  const certain = before.filter((candidate) => matchIndexed(person, candidate) === 'certain');
  const possible = before.filter((candidate) => inWindow(candidate) && matchIndexed(person, candidate) === 'possible');
  // The same perpetrator by the rule people are matched by: a police person id decides when both have one;
  // otherwise last name and date of birth tightened by first name (a perpetrator has no postcode here). Anything
  // less is not certain, and a repeat MARAC is never made of a guess.
  const samePerpetrator = (candidate: IndexedPerson) => {
    if (person.otherPolicePersonId !== null && candidate.otherPolicePersonId !== null) return person.otherPolicePersonId === candidate.otherPolicePersonId;
    return person.otherBlocking !== null && person.otherBlocking === candidate.otherBlocking && person.otherFirstName !== null && person.otherFirstName === candidate.otherFirstName;
  };
  const listedInWindow = (candidate: IndexedPerson) =>
    candidate.maracListings.some((listedAt) => listedAt <= person.receivedAt && isWithinMonths(listedAt, person.receivedAt, policy.marac.repeatWindowMonths, timeZone));
  const heardAtMarac = certain.filter((candidate) => listedInWindow(candidate) && samePerpetrator(candidate));
  const repeats = certain.filter(inWindow);
  return {
    isRepeat: repeats.length > 0,
    previousReferralIds: repeats.map((candidate) => candidate.referralId).sort(),
    repeatMarac: heardAtMarac.length > 0,
    maracReferralIds: heardAtMarac.map((candidate) => candidate.referralId).sort(),
    possibleMatchReferralIds: possible.map((candidate) => candidate.referralId).sort(),
  };
}

/** Everything routing looks at, from the referral's own events, the repeat findings and the refuge places. */
export function gatherFacts(input: {
  received: ReferralReceived['data'];
  assessment: RiskAssessed['data'] | null;
  /** Consent recorded after the referral, which replaces what the referral said. */
  consent?: ConsentRecorded['data'] | null;
  /** Needs a reassessment recorded, which replace what the referral said. */
  needs?: NeedsRecorded['data'] | null;
  repeat: RepeatFindings;
  refugeUnitsFree: number;
  routedAt: string;
  policy: RoutingPolicy;
}): RoutingFacts {
  const { received, assessment, repeat, policy } = input;
  const submission = received.submission;
  const referralDate = localDateOf(received.receivedAt, policy.calendar.timeZone);
  const consent = input.consent ?? submission.consent;
  // A repeat MARAC case is high risk whatever the score. The assessment keeps the criteria it was scored with (under
  // its own policy's thresholds), and repeat-marac joins them: one rule, however the policy changed since.
  const risk = assessment && repeat.repeatMarac
    ? { level: 'high' as const, criteria: assessment.level === 'high' ? [...assessment.criteria, 'repeat-marac'] : ['repeat-marac'] }
    : assessment;
  return {
    referralId: received.referralId,
    referralType: received.referralType,
    routedAt: input.routedAt,
    subjectAgeYears: ageOn(submission.subject.dateOfBirth, referralDate),
    riskLevel: risk ? risk.level : null,
    riskCriteria: risk ? risk.criteria : [],
    consent: { given: consent.given, lawfulBasis: consent.lawfulBasis, reasonRecorded: Boolean(consent.notes?.trim()) },
    needsSafeAccommodation: (input.needs?.needs ?? submission.needs).safeAccommodation,
    refugeUnitsFree: input.refugeUnitsFree,
    children: submission.children.map((child, index) => ({
      index,
      ageYears: ageOn(child.dateOfBirth, referralDate),
      livesInHousehold: child.livesInHousehold,
      presentAtIncident: child.presentAtIncident,
      school: child.school,
    })),
    policeAttended: submission.incident?.policeAttended ?? false,
    perpetratorAcknowledgesBehaviour: submission.perpetratorProgramme?.acknowledgesBehaviour ?? null,
    otherPartyAgeYears: submission.otherParty?.dateOfBirth ? ageOn(submission.otherParty.dateOfBirth, referralDate) : null,
    repeat: {
      isRepeat: repeat.isRepeat,
      previousReferralIds: repeat.previousReferralIds,
      repeatMarac: repeat.repeatMarac,
      maracReferralIds: repeat.maracReferralIds,
      possibleMatch: repeat.possibleMatchReferralIds.length > 0,
    },
  };
}

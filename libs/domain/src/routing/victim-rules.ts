import type { ProvisionId, RoutingPolicy } from '../policy/policy';
import type { RiskLevel } from '../risk/dash';
import { assertNever } from '../shared/domain-error';
import { flag, reason, route, type Finding } from './findings';
import { NATIONAL_REFUGE_SEARCH_FLAG, NATIONAL_REFUGE_SEARCH_REASON, type RoutingFacts } from './routing.types';

/** Where high risk goes: an adult's to the IDVA (with MARAC), a young person's to the young person violence advocate. */
export const HIGH_RISK_PROVISION = 'idva' satisfies ProvisionId;
export const YOUNG_PERSON_PROVISION = 'ypva' satisfies ProvisionId;
/** Where `riskRoute` sends an adult by risk level: high, medium, standard. */
const RISK_ROUTE_PROVISIONS: readonly ProvisionId[] = [HIGH_RISK_PROVISION, 'outreach', 'victim-support'];

/**
 * Whether a provision may work a person who has not consented (routing-policy.md, "Consent"): children's
 * safeguarding always; the IDVA and the young person violence advocate at high risk. The rules below say the same
 * route by route ('proceeds-without-consent'); a caseworker's transfer asks it here.
 */
export function worksWithoutConsent(provision: ProvisionId, riskLevel: RiskLevel | null): boolean {
  if (provision === 'mash') return true;
  return riskLevel === 'high' && (provision === HIGH_RISK_PROVISION || provision === YOUNG_PERSON_PROVISION);
}

/** A person's ages as the latest decision found them (null where not known): what a transfer's age rule reads. */
export interface AgesAtDecision {
  subject: number | null;
  otherParty: number | null;
}

/**
 * Why a provision may not work a person of this age, or null if it may: the age bands the rules below route by,
 * asked by a caseworker's transfer. A child under 13 goes to MASH alone; the young person violence advocate takes
 * 13–17; the risk routes (IDVA, outreach, Victim Support) take 16 and over; Who's in Charge? takes parents of
 * children aged 8–18 (the policy's bands, not these figures). A subject's age not known is not held against the
 * move; the child's is, as routing holds it.
 */
export function notForAge(provision: ProvisionId, ages: AgesAtDecision, { ageBands }: Pick<RoutingPolicy, 'ageBands'>): string | null {
  const age = ages.subject;
  if (age !== null && age < ageBands.childUnder && provision !== 'mash') return `a child under ${ageBands.childUnder} is worked by children's safeguarding (MASH) alone`;
  if (age !== null && provision === YOUNG_PERSON_PROVISION && (age < ageBands.youngPersonFrom || age > ageBands.youngPersonTo)) {
    return `the young person violence advocate works with people aged ${ageBands.youngPersonFrom} to ${ageBands.youngPersonTo}`;
  }
  if (age !== null && RISK_ROUTE_PROVISIONS.includes(provision) && age < ageBands.adultFrom) {
    return `${provision} works with people aged ${ageBands.adultFrom} and over: a younger person is the young person violence advocate's`;
  }
  const child = ages.otherParty;
  const range = `${ageBands.childToParentChildFrom} to ${ageBands.childToParentChildTo}`;
  // As `childToParentRules`: the child's age decides it, so an unknown one does not let the move through.
  if (provision === 'whos-in-charge' && child === null) return `the child's age is not known, and Who's in Charge? is for parents of children aged ${range}`;
  if (provision === 'whos-in-charge' && child !== null && (child < ageBands.childToParentChildFrom || child > ageBands.childToParentChildTo)) {
    return `Who's in Charge? is for parents of children aged ${range}`;
  }
  return null;
}

/**
 * The victim rules of routing-policy.md, in its order; all that apply fire. A child under 13 is not a domestic
 * abuse victim referral (risk-assessment.md), so MASH alone takes it: no other route. Operation Encompass is not a
 * route but a notification alongside them, so the schools of the children listed still hear of a police-attended
 * incident (decision 0014).
 */
export function victimRules(facts: RoutingFacts, policy: RoutingPolicy): Finding[] {
  const { ageBands } = policy;
  if (facts.subjectAgeYears < ageBands.childUnder) {
    return [
      route('child-under-13', 'mash', 'proceeds-without-consent'),
      reason('child-under-13', `Child victim: children's safeguarding. A child under ${ageBands.childUnder} is not a domestic abuse victim referral, so it goes to MASH only.`),
      ...encompass(facts, policy),
    ];
  }
  const risk = effectiveRiskLevel(facts);
  return [
    ...youngPerson(facts, policy, risk),
    ...riskRoute(facts, policy, risk),
    ...safeAccommodation(facts),
    ...childrenInHousehold(facts, policy, risk),
    ...encompass(facts, policy),
  ];
}

/** A repeat MARAC case is high risk whatever the score (routing-policy.md), even if the level was set without it. */
function effectiveRiskLevel(facts: RoutingFacts): RiskLevel | null {
  return facts.repeat.repeatMarac ? 'high' : facts.riskLevel;
}

function youngPerson(facts: RoutingFacts, { ageBands }: RoutingPolicy, risk: RiskLevel | null): Finding[] {
  if (facts.subjectAgeYears < ageBands.youngPersonFrom || facts.subjectAgeYears > ageBands.youngPersonTo) return [];
  // A high-risk 13–15-year-old has no IDVA or MARAC, so the advocate must not wait for consent either.
  return [route('young-person', YOUNG_PERSON_PROVISION, risk === 'high' ? 'proceeds-without-consent' : 'voluntary')];
}

function riskRoute(facts: RoutingFacts, { ageBands }: RoutingPolicy, risk: RiskLevel | null): Finding[] {
  if (facts.subjectAgeYears < ageBands.adultFrom) return [];
  switch (risk) {
    case 'high':
      return [
        route('high-risk', HIGH_RISK_PROVISION, 'proceeds-without-consent'),
        { kind: 'marac', ruleId: 'high-risk', hasChildren: facts.children.some((child) => child.ageYears < ageBands.householdChildUnder) },
      ];
    case 'medium':
      return [route('medium-risk', 'outreach', 'voluntary')];
    case 'standard':
      return [route('standard-risk', 'victim-support', 'voluntary')];
    case null:
      return [flag(null, 'risk-assessment-missing'), reason(null, 'There is no risk assessment, so no risk route could be chosen.')];
    default:
      return assertNever(risk);
  }
}

function safeAccommodation(facts: RoutingFacts): Finding[] {
  if (!facts.needsSafeAccommodation) return [];
  // Nobody can be placed in a refuge against their will, so the refuge waits for consent even at high risk.
  if (facts.refugeUnitsFree > 0) return [route('safe-accommodation', 'refuge', 'voluntary')];
  return [
    route('safe-accommodation', 'refuge', 'voluntary', true),
    flag('safe-accommodation', NATIONAL_REFUGE_SEARCH_FLAG),
    reason('safe-accommodation', NATIONAL_REFUGE_SEARCH_REASON),
  ];
}

function childrenInHousehold(facts: RoutingFacts, { ageBands }: RoutingPolicy, risk: RiskLevel | null): Finding[] {
  if (risk !== 'high' && risk !== 'medium') return [];
  const anyChild = facts.children.some((child) => child.livesInHousehold && child.ageYears < ageBands.householdChildUnder);
  return anyChild ? [route('children-in-household', 'mash', 'proceeds-without-consent')] : [];
}

function encompass(facts: RoutingFacts, { encompass: rule }: RoutingPolicy): Finding[] {
  if (!facts.policeAttended) return [];
  return facts.children
    .filter((child) => child.ageYears >= rule.schoolAgeFrom && child.ageYears <= rule.schoolAgeTo)
    .filter((child) => child.livesInHousehold || child.presentAtIncident)
    .map((child): Finding =>
      child.school === null
        ? flag('encompass', 'encompass-school-not-known')
        : { kind: 'encompass', ruleId: 'encompass', childIndex: child.index, school: child.school },
    );
}

import type { RoutingPolicy } from '../policy/policy';
import { reason, route, type Finding } from './findings';
import type { RoutingFacts } from './routing.types';

/** Up2U takes people of the adult age who acknowledge the behaviour; anyone else goes back to the referrer. */
export function perpetratorRules(facts: RoutingFacts, { ageBands }: RoutingPolicy): Finding[] {
  const problems: string[] = [];
  if (facts.subjectAgeYears < ageBands.adultFrom) problems.push(`Up2U is for people aged ${ageBands.adultFrom} and over.`);
  if (facts.perpetratorAcknowledgesBehaviour === null) problems.push('It is not known whether the person acknowledges the behaviour, which Up2U needs.');
  if (facts.perpetratorAcknowledgesBehaviour === false) problems.push('The person does not acknowledge the behaviour, which Up2U needs.');
  if (problems.length === 0) return [route('perpetrator', 'up2u', 'voluntary')];
  return [...problems, 'Not eligible: the referral is returned to the referrer.'].map((text) => reason('perpetrator', text));
}

/** The parent is the subject and the child the other party; the parent's own victim rules apply beside this one. */
export function childToParentRules(facts: RoutingFacts, { ageBands }: RoutingPolicy): Finding[] {
  const age = facts.otherPartyAgeYears;
  const range = `${ageBands.childToParentChildFrom} to ${ageBands.childToParentChildTo}`;
  if (age === null) return [reason('child-to-parent', `The child's age is not known, so Who's in Charge? (for parents of children aged ${range}) cannot be offered yet.`)];
  if (age < ageBands.childToParentChildFrom || age > ageBands.childToParentChildTo) {
    return [reason('child-to-parent', `Who's in Charge? is for parents of children aged ${range}; the child is outside that range.`)];
  }
  return [route('child-to-parent', 'whos-in-charge', 'voluntary')];
}

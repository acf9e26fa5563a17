import type { ProvisionId, RoutingPolicy } from '../policy/policy';
import type { ReferralType } from '../referrals/referral.types';
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

/**
 * Why a provision may not work a referral of this type, or null if it may: what routing never does, a caseworker's
 * move may not do either. Up2U is for the person who uses abusive behaviour, and that person goes nowhere else (a
 * victim's service would hold the perpetrator's contact and see the victim's queue); Who's in Charge? is for a
 * parent abused by their child.
 */
export function notForReferralType(referralType: ReferralType, provision: ProvisionId): string | null {
  if (referralType === 'perpetrator') return provision === 'up2u' ? null : 'a perpetrator referral is worked by Up2U alone: it cannot go to a victim service';
  if (provision === 'up2u') return "Up2U works with the person who uses abusive behaviour: a victim's case cannot go there";
  if (provision === 'whos-in-charge' && referralType !== 'child-to-parent') return "Who's in Charge? works with parents abused by their child: this is not a child-to-parent referral";
  return null;
}

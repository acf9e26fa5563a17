import { localDateOf } from '../calendar/local-time';
import { nextSchoolDayStart } from '../calendar/school-days';
import { addWorkingDays } from '../calendar/working-days';
import { nextMaracMeeting } from '../marac/marac-schedule';
import type { ProvisionId, RoutingPolicy } from '../policy/policy';
import { assertNever } from '../shared/domain-error';
import { flag, type Finding } from './findings';
import { childToParentRules, perpetratorRules } from './referral-type-rules';
import type { EncompassNotification, MaracListing, Route, RoutingFacts, RoutingFlag, RoutingOutcome, RoutingStatus, RuleId } from './routing.types';
import { victimRules } from './victim-rules';

/**
 * Decides where a referral goes under a policy. Pure and deterministic: the same facts and policy give a deep-equal
 * outcome, which is what lets the audit re-evaluate any past decision.
 */
export function evaluateRouting(facts: RoutingFacts, policy: RoutingPolicy): RoutingOutcome {
  return assemble(facts, policy, findingsFor(facts, policy));
}

function findingsFor(facts: RoutingFacts, policy: RoutingPolicy): Finding[] {
  switch (facts.referralType) {
    case 'victim':
      return [...repeatFlags(facts), ...victimRules(facts, policy)];
    case 'child-to-parent':
      return [...repeatFlags(facts), ...childToParentRules(facts, policy), ...victimRules(facts, policy)];
    case 'perpetrator':
      return perpetratorRules(facts, policy);
    default:
      return assertNever(facts.referralType);
  }
}

export const POSSIBLE_MATCH_REASON = 'An earlier referral may be of the same person (possibleMatchReferralIds): someone should confirm it; it is not counted as a repeat until then.';

/**
 * Repeats are about victims; the router found them before routing, so no rule owns them. A possible match is never
 * merged (routing-policy.md): it is flagged, and said in the reasons, so that someone confirms it.
 */
function repeatFlags({ repeat }: RoutingFacts): Finding[] {
  return [
    ...(repeat.isRepeat ? [flag(null, 'repeat-victim')] : []),
    ...(repeat.repeatMarac ? [flag(null, 'repeat-marac')] : []),
    ...(repeat.possibleMatch ? [flag(null, 'possible-repeat-to-confirm')] : []),
  ];
}

interface ProposedRoute {
  ruleIds: RuleId[];
  needsConsent: boolean;
  waitlisted: boolean;
}

function assemble(facts: RoutingFacts, policy: RoutingPolicy, findings: Finding[]): RoutingOutcome {
  const proposed = new Map<ProvisionId, ProposedRoute>();
  const rulesFired = new Set<RuleId>();
  const flags = new Set<RoutingFlag>();
  const reasons: string[] = [];
  const notified: Array<Omit<EncompassNotification, 'dueBy'>> = [];
  let marac: MaracListing | null = null;
  for (const finding of findings) {
    if (finding.ruleId !== null) rulesFired.add(finding.ruleId);
    switch (finding.kind) {
      case 'route': {
        // One route per provision, carrying every rule that put it there; any rule that needs no consent carries it.
        const existing = proposed.get(finding.provision);
        proposed.set(finding.provision, {
          ruleIds: [...new Set([...(existing?.ruleIds ?? []), finding.ruleId])],
          needsConsent: (existing?.needsConsent ?? true) && finding.needsConsent,
          waitlisted: (existing?.waitlisted ?? false) || finding.waitlisted,
        });
        break;
      }
      case 'marac':
        marac = {
          ...nextMaracMeeting({ routedAt: facts.routedAt, hasChildren: finding.hasChildren }, policy),
          repeat: facts.repeat.repeatMarac,
          hasChildren: finding.hasChildren,
        };
        break;
      case 'encompass':
        notified.push({ childIndex: finding.childIndex, school: finding.school });
        break;
      case 'flag':
        flags.add(finding.flag);
        break;
      case 'reason':
        reasons.push(finding.text);
        break;
      default:
        assertNever(finding);
    }
  }
  const routes = [...proposed].map(([provision, proposal]) => toRoute(provision, proposal, facts, policy));
  const schoolDayStart = notified.length > 0 ? nextSchoolDayStart(facts.routedAt, policy.calendar, policy.encompass.schoolDayStart) : null;
  const encompass = notified.map(({ childIndex, school }) => ({ childIndex, school, dueBy: schoolDayStart! }));
  if (localDateOf(facts.routedAt, policy.calendar.timeZone) > policy.calendar.coversThrough) flags.add('calendar-out-of-date');
  reasons.push(...consentReasons(facts, routes, marac, policy));
  if (reasonMissingWithoutConsent(facts)) {
    flags.add('consent-reason-missing');
    reasons.push("High risk goes ahead without consent, and the referrer's reason for it is not recorded: the referrer records it with the consent (given false, with notes).");
  }
  const status = statusOf(routes);
  if (status === 'not-eligible' && reasons.length === 0) reasons.push('No rule of the policy routes this referral.');
  // Said last: it is about the person's earlier referrals, not why this one goes where it goes (or nowhere).
  if (facts.repeat.possibleMatch) reasons.push(POSSIBLE_MATCH_REASON);
  return { policyId: policy.id, status, routes, marac, encompass, rulesFired: [...rulesFired], flags: [...flags], reasons };
}

function toRoute(provision: ProvisionId, proposal: ProposedRoute, facts: RoutingFacts, policy: RoutingPolicy): Route {
  const { ruleIds } = proposal;
  if (proposal.needsConsent && !facts.consent.given) return { provision, ruleIds, status: 'held-awaiting-consent', dueBy: null };
  // A waitlisted victim still hears within the service level what is being done (the national search).
  const dueBy = addWorkingDays(facts.routedAt, policy.provisions[provision].firstContactWorkingDays, policy.calendar);
  return { provision, ruleIds, status: proposal.waitlisted ? 'waitlisted' : 'routed', dueBy };
}

function statusOf(routes: Route[]): RoutingStatus {
  if (routes.some((route) => route.status !== 'held-awaiting-consent')) return 'routed';
  return routes.length > 0 ? 'awaiting-consent' : 'not-eligible';
}

/**
 * High risk goes ahead without consent, and the referrer's reason is required (routing-policy.md, "Consent"). Intake
 * asks for it when the checklist scores high; a repeat MARAC, or a reassessment, makes a referral high later, and
 * routing does not wait for the reason: it goes ahead and asks for it. Decisions made before the reason was kept
 * say nothing of it.
 */
function reasonMissingWithoutConsent({ riskLevel, consent }: RoutingFacts): boolean {
  return riskLevel === 'high' && !consent.given && consent.reasonRecorded === false;
}

function consentReasons(facts: RoutingFacts, routes: Route[], marac: MaracListing | null, policy: RoutingPolicy): string[] {
  if (facts.consent.given) return [];
  const names = (selected: Route[]) => selected.map((route) => policy.provisions[route.provision].name);
  const held = names(routes.filter((route) => route.status === 'held-awaiting-consent'));
  const proceeding = [...names(routes.filter((route) => route.status !== 'held-awaiting-consent')), ...(marac ? ['the MARAC listing'] : [])];
  const reasons: string[] = [];
  if (held.length > 0) reasons.push(`Without consent, voluntary services are held awaiting consent and the referrer is told: ${held.join(', ')}.`);
  if (proceeding.length > 0) reasons.push(`Proceeding without consent on the lawful basis "${facts.consent.lawfulBasis}": ${proceeding.join(', ')}.`);
  return reasons;
}

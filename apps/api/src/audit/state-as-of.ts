import { caseDecider, referralDecider, type CaseEvent, type CaseState, type ReferralEvent, type ReferralRouted, type RiskAssessed } from '@spoc/domain';
import { maracListingView } from '../marac/meeting-view';

/** A stored event as the audit reads it: personal fields opened (or null after erasure). */
export interface AuditedEvent {
  streamId: string;
  type: string;
  data: unknown;
  recordedAt: string;
  position: bigint;
}

/**
 * A referral and its cases as they stood at `asOf`: the events recorded up to then, folded by the same deciders
 * that took the decisions (never the read models, which only know the present). Beside the referral decider's
 * own state it keeps what the referral showed then: the latest assessment and the latest routing decision.
 */
export function stateAsOf(events: readonly AuditedEvent[], asOf: string) {
  const until = Date.parse(asOf);
  const known = events.filter((event) => Date.parse(event.recordedAt) <= until);
  let referral = referralDecider.initialState();
  let assessment: RiskAssessed['data'] | null = null;
  let decision: ReferralRouted['data'] | null = null;
  const cases = new Map<string, CaseState>();
  for (const event of known) {
    if (event.streamId.startsWith('referral-')) {
      const domain = { type: event.type, data: event.data } as ReferralEvent;
      referral = referralDecider.evolve(referral, domain);
      if (domain.type === 'RiskAssessed') assessment = domain.data;
      if (domain.type === 'ReferralRouted') decision = domain.data;
    } else if (event.streamId.startsWith('case-')) {
      const caseId = event.streamId.slice('case-'.length);
      cases.set(caseId, caseDecider.evolve(cases.get(caseId) ?? caseDecider.initialState(), { type: event.type, data: event.data } as CaseEvent));
    }
  }
  return {
    asOf: new Date(until).toISOString(),
    eventsConsidered: known.length,
    referral: referral.status === 'none'
      ? null
      : {
          ...referral,
          // The contract's status, as the referral showed it then (the decider's own status only says it exists).
          status: decision ? decision.outcome.status : 'received',
          risk: assessment ? { level: assessment.level, dashScore: assessment.dashScore, criteria: assessment.criteria, policyId: assessment.policyId, assessedAt: assessment.assessedAt } : null,
          routing: decision
            ? { decisionNumber: decision.decisionNumber, policyId: decision.policyId, status: decision.outcome.status, rulesFired: decision.outcome.rulesFired, routedAt: decision.facts.routedAt, marac: maracListingView(decision.outcome.marac) }
            : null,
        },
    cases: [...cases.entries()].flatMap(([caseId, state]) =>
      state.status === 'none'
        ? []
        : [{ caseId, provision: state.opened.provision, status: state.status, routeStatus: state.routeStatus, dueBy: state.dueBy, assignee: state.assignee, contactAttempts: state.contactAttempts, firstContactAttemptAt: state.firstContactAttemptAt, origin: state.opened.origin ?? null }],
    ),
  };
}

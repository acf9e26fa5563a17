import type { ProvisionId } from '../policy/policy';
import type { RiskLevel } from '../risk/dash';
import type { RouteStatus, RoutingChild, RoutingFacts, RoutingOutcome, RuleId } from './routing.types';

/** A route as decided, with the case that carries it. `opened` is true when this decision opened the case. */
export interface RoutedCase {
  provision: ProvisionId;
  caseId: string;
  ruleIds: RuleId[];
  status: RouteStatus;
  dueBy: string | null;
  opened: boolean;
}

/** Facts as stored: a child's school is sealed apart (in `schools`), so the facts carry only whether one was named. */
export type StoredFacts = Omit<RoutingFacts, 'children'> & { children: Array<Omit<RoutingChild, 'school'> & { hasSchool: boolean }> };

export interface ReferralRouted {
  type: 'ReferralRouted';
  data: {
    referralId: string;
    /** 0 for the first decision, then one more for each reassessment. */
    decisionNumber: number;
    /** The referral stream revision the decision was made on; it is appended there, so only one router's lands. */
    basedOnRevision: string;
    policyId: string;
    facts: StoredFacts;
    outcome: Omit<RoutingOutcome, 'encompass'>;
    cases: RoutedCase[];
    supersededCaseIds: string[];
    encompass: Array<{ notificationId: string; childIndex: number; dueBy: string }>;
    /** Earlier referrals that may be the same person: for someone to confirm, never merged. */
    possibleMatchReferralIds: string[];
    /** Personal data, sealed: child index → school. */
    schools: Record<string, string>;
  };
}

export interface CaseOpened {
  type: 'CaseOpened';
  data: {
    caseId: string;
    referralId: string;
    provision: ProvisionId;
    ruleIds: RuleId[];
    status: RouteStatus;
    riskLevel: RiskLevel | null;
    repeat: boolean;
    hasChildren: boolean;
    routedAt: string;
    dueBy: string | null;
    decisionNumber: number;
    /** Absent for a case routing opened; set for one opened by a transfer or by referring on a declined case. */
    origin?: { kind: 'transfer' | 'decline'; fromCaseId: string; fromProvision: ProvisionId };
    /**
     * A case a move opened: the policy whose service level set `dueBy` (absent in those recorded before it was kept).
     * A case routing opened has its decision's (`decisionNumber`).
     */
    policyId?: string;
  };
}

export interface CaseSuperseded {
  type: 'CaseSuperseded';
  data: { caseId: string; referralId: string; decisionNumber: number; supersededAt: string; reason: string };
}

export interface DecisionInput {
  facts: RoutingFacts;
  outcome: RoutingOutcome;
  decisionNumber: number;
  basedOnRevision: bigint;
  /** Cases still open from earlier decisions, by provision, with the route status they were opened with. */
  openCases: Array<{ provision: ProvisionId; caseId: string; status?: RouteStatus }>;
  possibleMatchReferralIds: string[];
  caseIdFor(provision: ProvisionId): string;
  notificationIdFor(childIndex: number): string;
  /** Encompass is about the incident, so only the first decision notifies schools. */
  notifySchools: boolean;
}

/**
 * Turns an outcome into the decision record: a route that still applies keeps its case, a new route gets a new case,
 * and an open case whose route no longer applies is listed as superseded (never deleted).
 */
export function buildDecision(input: DecisionInput): ReferralRouted {
  const { facts, outcome, decisionNumber } = input;
  const existing = new Map(input.openCases.map((open) => [open.provision, open]));
  const held = (status: RouteStatus | undefined) => status === 'held-awaiting-consent';
  const cases: RoutedCase[] = outcome.routes.map((route) => {
    const previous = existing.get(route.provision);
    // A case held for consent is not one anybody works: once consent is given the route opens a case afresh,
    // with its own first-contact clock, and the held one is superseded.
    const kept = previous && held(previous.status) === held(route.status) ? previous.caseId : undefined;
    return { ...route, caseId: kept ?? input.caseIdFor(route.provision), opened: !kept };
  });
  const keptCaseIds = new Set(cases.filter((routed) => !routed.opened).map((routed) => routed.caseId));
  const supersededCaseIds = input.openCases.filter((open) => !keptCaseIds.has(open.caseId)).map((open) => open.caseId);
  const encompass = input.notifySchools
    ? outcome.encompass.map((notification) => ({
        notificationId: input.notificationIdFor(notification.childIndex),
        childIndex: notification.childIndex,
        dueBy: notification.dueBy,
      }))
    : [];
  const schools: Record<string, string> = {};
  for (const child of facts.children) if (child.school) schools[String(child.index)] = child.school;
  const { encompass: _schoolsInOutcome, ...outcomeWithoutSchools } = outcome;
  return {
    type: 'ReferralRouted',
    data: {
      referralId: facts.referralId,
      decisionNumber,
      basedOnRevision: input.basedOnRevision.toString(),
      policyId: outcome.policyId,
      facts: { ...facts, children: facts.children.map(({ school, ...child }) => ({ ...child, hasSchool: school !== null })) },
      outcome: outcomeWithoutSchools,
      cases,
      supersededCaseIds,
      encompass,
      possibleMatchReferralIds: input.possibleMatchReferralIds,
      schools,
    },
  };
}

/** A queue puts a case with any child named on the referral ahead of one without (after risk and repeat). */
export function hasChildrenForPriority(facts: { children: readonly unknown[] }): boolean {
  return facts.children.length > 0;
}

/** The case events a decision implies, derived from the stored decision alone so that replaying it is exact. */
export function caseEventsOf(decision: ReferralRouted['data']): { opened: CaseOpened[]; superseded: CaseSuperseded[] } {
  const { facts, referralId, decisionNumber } = decision;
  return {
    opened: decision.cases
      .filter((routed) => routed.opened)
      .map((routed) => ({
        type: 'CaseOpened',
        data: {
          caseId: routed.caseId,
          referralId,
          provision: routed.provision,
          ruleIds: routed.ruleIds,
          status: routed.status,
          riskLevel: facts.riskLevel,
          repeat: facts.repeat.isRepeat,
          hasChildren: hasChildrenForPriority(facts),
          routedAt: facts.routedAt,
          dueBy: routed.dueBy,
          decisionNumber,
        },
      })),
    superseded: decision.supersededCaseIds.map((caseId) => ({
      type: 'CaseSuperseded',
      data: { caseId, referralId, decisionNumber, supersededAt: facts.routedAt, reason: 'a later decision on the referral (a reassessment, or consent recorded) replaced this case' },
    })),
  };
}

/**
 * The facts as routing saw them, schools put back: what an auditor's re-evaluation runs on. Routing only asks
 * whether a school was named, so a replay that compares routes may pass `placeholder` instead of opening the schools.
 */
export function factsForReplay(routed: ReferralRouted['data'], schools: Record<string, string> | null, placeholder?: string): RoutingFacts {
  return {
    ...routed.facts,
    children: routed.facts.children.map(({ hasSchool, ...child }) => ({
      ...child,
      school: hasSchool ? (schools?.[String(child.index)] ?? placeholder ?? null) : null,
    })),
  };
}

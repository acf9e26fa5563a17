import { evaluateRouting, factsForReplay, type ReferralRouted, type RoutingPolicy } from '@spoc/domain';

interface RouteSummary {
  ruleIds: string[];
  status: string;
  dueBy: string | null;
}

export type Mismatch =
  | { kind: 'route'; provision: string; recorded: RouteSummary | null; reEvaluated: RouteSummary | null }
  | { kind: 'rulesFired' | 'flags'; recorded: string[]; reEvaluated: string[] }
  | { kind: 'status' | 'marac' | 'encompass'; recorded: unknown; reEvaluated: unknown };

export interface ReEvaluation {
  policyFound: boolean;
  /** null when there is nothing to compare with (the policy version is not on file, or could not be applied). */
  sameRoutes: boolean | null;
  sameRulesFired: boolean | null;
  /** Routes, rules, and the rest of the outcome too: the status, the MARAC listing, the flags, the schools' due times. */
  sameOutcome: boolean | null;
  mismatches: Mismatch[];
  note?: string;
}

/**
 * Runs a stored decision's facts through the policy version that made it and compares what comes out with what
 * was recorded: routes (provision, rules, status, due time), rules fired, the referral's status, the MARAC
 * listing, the flags, and the schools' due times. Routing only asks whether a child's school was named, which the
 * facts record, so no school is decrypted for this. The reasons are prose, and are not compared.
 */
export function reEvaluate(decision: ReferralRouted['data'], policy: RoutingPolicy | null): ReEvaluation {
  if (!policy) {
    return { policyFound: false, sameRoutes: null, sameRulesFired: null, sameOutcome: null, mismatches: [], note: `policy version ${decision.policyId} is not in the policies directory` };
  }
  let outcome: ReturnType<typeof evaluateRouting>;
  try {
    outcome = evaluateRouting(factsForReplay(decision, null, 'named'), policy);
  } catch {
    return { policyFound: true, sameRoutes: null, sameRulesFired: null, sameOutcome: null, mismatches: [], note: 'the policy could not be applied to the recorded facts' };
  }
  const recorded = new Map(decision.cases.map((routed) => [routed.provision as string, summary(routed)]));
  const reEvaluated = new Map(outcome.routes.map((route) => [route.provision as string, summary(route)]));
  const mismatches: Mismatch[] = [];
  for (const provision of [...new Set([...recorded.keys(), ...reEvaluated.keys()])].sort()) {
    const before = recorded.get(provision) ?? null;
    const after = reEvaluated.get(provision) ?? null;
    if (JSON.stringify(before) !== JSON.stringify(after)) mismatches.push({ kind: 'route', provision, recorded: before, reEvaluated: after });
  }
  const sameRoutes = mismatches.length === 0;
  const rulesBefore = [...decision.outcome.rulesFired].sort();
  const rulesAfter = [...outcome.rulesFired].sort();
  const sameRulesFired = JSON.stringify(rulesBefore) === JSON.stringify(rulesAfter);
  if (!sameRulesFired) mismatches.push({ kind: 'rulesFired', recorded: rulesBefore, reEvaluated: rulesAfter });
  const differs = (kind: 'status' | 'marac' | 'encompass', before: unknown, after: unknown) => {
    if (JSON.stringify(before) !== JSON.stringify(after)) mismatches.push({ kind, recorded: before, reEvaluated: after });
  };
  differs('status', decision.outcome.status, outcome.status);
  differs('marac', decision.outcome.marac, outcome.marac);
  const flagsBefore = [...decision.outcome.flags].sort();
  const flagsAfter = [...outcome.flags].sort();
  if (JSON.stringify(flagsBefore) !== JSON.stringify(flagsAfter)) mismatches.push({ kind: 'flags', recorded: flagsBefore, reEvaluated: flagsAfter });
  // Schools are told once, by the first decision (the notification is about the incident): later ones record none.
  if (decision.decisionNumber === 0) {
    const schools = (notified: ReadonlyArray<{ childIndex: number; dueBy: string }>) => notified.map(({ childIndex, dueBy }) => ({ childIndex, dueBy })).sort((a, b) => a.childIndex - b.childIndex);
    differs('encompass', schools(decision.encompass), schools(outcome.encompass));
  }
  return { policyFound: true, sameRoutes, sameRulesFired, sameOutcome: mismatches.length === 0, mismatches };
}

// The order of rule ids on a route carries no meaning; sorted so that only a real difference shows.
function summary(route: { ruleIds: readonly string[]; status: string; dueBy: string | null }): RouteSummary {
  return { ruleIds: [...route.ruleIds].sort(), status: route.status, dueBy: route.dueBy };
}

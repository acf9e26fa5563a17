/**
 * The routing policy is data: a versioned document in policies/, validated when loaded. Only the risk thresholds
 * are here so far; the routing rules join them in the router.
 */
export interface RiskThresholds {
  /** This many `yes` answers or more is "visible high risk". */
  highDashScore: number;
  /** This many or more (and below high) is medium. */
  mediumDashScore: number;
  /** This many police call-outs for domestic abuse in 12 months is potential escalation: high. */
  escalationPoliceCallouts: number;
}

export interface RoutingPolicy {
  id: string;
  effectiveFrom: string;
  riskThresholds: RiskThresholds;
}

export class InvalidPolicyError extends Error {
  readonly code = 'invalid-policy';
  constructor(readonly problems: string[]) {
    super(`the routing policy is invalid: ${problems.join('; ')}`);
    this.name = 'InvalidPolicyError';
  }
}

/** Checks a parsed policy document; every problem is listed so a bad policy is fixed in one go. */
export function parsePolicy(document: unknown): RoutingPolicy {
  const problems: string[] = [];
  const doc = (document ?? {}) as Record<string, unknown>;
  if (typeof doc.id !== 'string' || doc.id.length === 0) problems.push('id must be a non-empty string');
  if (typeof doc.effectiveFrom !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(doc.effectiveFrom)) {
    problems.push('effectiveFrom must be a date YYYY-MM-DD');
  }
  const thresholds = (doc.riskThresholds ?? {}) as Record<string, unknown>;
  for (const key of ['highDashScore', 'mediumDashScore', 'escalationPoliceCallouts']) {
    const value = thresholds[key];
    if (!Number.isInteger(value) || (value as number) < 0) problems.push(`riskThresholds.${key} must be a whole number >= 0`);
  }
  if (
    Number.isInteger(thresholds.highDashScore) &&
    Number.isInteger(thresholds.mediumDashScore) &&
    (thresholds.mediumDashScore as number) > (thresholds.highDashScore as number)
  ) {
    problems.push('riskThresholds.mediumDashScore must not exceed highDashScore');
  }
  if ((thresholds.highDashScore as number) > 24) problems.push('riskThresholds.highDashScore cannot exceed the 24 questions');
  if (problems.length > 0) throw new InvalidPolicyError(problems);
  return {
    id: doc.id as string,
    effectiveFrom: doc.effectiveFrom as string,
    riskThresholds: {
      highDashScore: thresholds.highDashScore as number,
      mediumDashScore: thresholds.mediumDashScore as number,
      escalationPoliceCallouts: thresholds.escalationPoliceCallouts as number,
    },
  };
}

import type { RiskThresholds } from '../policy/policy';
import type { RiskAssessment } from '../referrals/referral.types';

export type RiskLevel = 'high' | 'medium' | 'standard';

/** The level together with what made it, so an auditor can see how it was reached. */
export interface RiskScore {
  dashScore: number;
  level: RiskLevel;
  criteria: string[];
}

/**
 * Scores a DASH checklist (only `yes` counts) and applies the other high-risk criteria: professional judgement
 * (can raise, never lower), potential escalation by police call-outs, and a repeat MARAC case.
 */
export function scoreDash(assessment: RiskAssessment, thresholds: RiskThresholds, repeatMarac = false): RiskScore {
  const dashScore = Object.values(assessment.answers).filter((answer) => answer === 'yes').length;
  const high: string[] = [];
  if (dashScore >= thresholds.highDashScore) high.push(`dash-score>=${thresholds.highDashScore}`);
  if (assessment.professionalJudgement.highRisk) high.push('professional-judgement');
  if (assessment.policeCalloutsLast12Months >= thresholds.escalationPoliceCallouts) {
    high.push(`escalation:callouts>=${thresholds.escalationPoliceCallouts}`);
  }
  if (repeatMarac) high.push('repeat-marac');
  if (high.length > 0) return { dashScore, level: 'high', criteria: high };
  if (dashScore >= thresholds.mediumDashScore) {
    return { dashScore, level: 'medium', criteria: [`dash-score>=${thresholds.mediumDashScore}`] };
  }
  return { dashScore, level: 'standard', criteria: [`dash-score<${thresholds.mediumDashScore}`] };
}

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
 * What the level is computed from, none of it personal: kept on the assessment event so that the level can be
 * recomputed (by an auditor, or under a candidate policy) without opening the checklist, even after erasure.
 */
export interface RiskInputs {
  dashScore: number;
  professionalJudgementHigh: boolean;
  policeCallouts: number;
}

export function riskInputsOf(assessment: RiskAssessment): RiskInputs {
  return {
    dashScore: Object.values(assessment.answers).filter((answer) => answer === 'yes').length,
    professionalJudgementHigh: assessment.professionalJudgement.highRisk,
    policeCallouts: assessment.policeCalloutsLast12Months,
  };
}

/**
 * Scores a DASH checklist (only `yes` counts) and applies the other high-risk criteria: professional judgement
 * (can raise, never lower), potential escalation by police call-outs, and a repeat MARAC case.
 */
export function scoreDash(assessment: RiskAssessment, thresholds: RiskThresholds, repeatMarac = false): RiskScore {
  return scoreRisk(riskInputsOf(assessment), thresholds, repeatMarac);
}

export function scoreRisk(inputs: RiskInputs, thresholds: RiskThresholds, repeatMarac = false): RiskScore {
  const { dashScore } = inputs;
  const high: string[] = [];
  if (dashScore >= thresholds.highDashScore) high.push(`dash-score>=${thresholds.highDashScore}`);
  if (inputs.professionalJudgementHigh) high.push('professional-judgement');
  if (inputs.policeCallouts >= thresholds.escalationPoliceCallouts) {
    high.push(`escalation:callouts>=${thresholds.escalationPoliceCallouts}`);
  }
  if (repeatMarac) high.push('repeat-marac');
  if (high.length > 0) return { dashScore, level: 'high', criteria: high };
  if (dashScore >= thresholds.mediumDashScore) {
    return { dashScore, level: 'medium', criteria: [`dash-score>=${thresholds.mediumDashScore}`] };
  }
  return { dashScore, level: 'standard', criteria: [`dash-score<${thresholds.mediumDashScore}`] };
}

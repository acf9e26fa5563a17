import type { RiskAssessment } from '../referrals/referral.types';
import { scoreDash } from './dash';

const thresholds = { highDashScore: 14, mediumDashScore: 10, escalationPoliceCallouts: 3 };

function checklist(yes: number, overrides: Partial<RiskAssessment> = {}): RiskAssessment {
  const answers: RiskAssessment['answers'] = {};
  for (let n = 1; n <= 24; n += 1) answers[`Q${n}`] = n <= yes ? 'yes' : n % 2 ? 'no' : 'not-known';
  return {
    tool: 'DASH',
    answers,
    professionalJudgement: { highRisk: false, rationale: null },
    policeCalloutsLast12Months: 0,
    assessedAt: '2026-11-21T01:00:00Z',
    ...overrides,
  };
}

describe('DASH scoring', () => {
  it('counts only yes answers', () => {
    expect(scoreDash(checklist(0), thresholds).dashScore).toBe(0);
    expect(scoreDash(checklist(24), thresholds).dashScore).toBe(24);
  });

  it('is standard at 9 yes and medium at 10', () => {
    expect(scoreDash(checklist(9), thresholds)).toEqual({ dashScore: 9, level: 'standard', criteria: ['dash-score<10'] });
    expect(scoreDash(checklist(10), thresholds)).toEqual({ dashScore: 10, level: 'medium', criteria: ['dash-score>=10'] });
  });

  it('is medium at 13 yes and high at 14 (visible high risk)', () => {
    expect(scoreDash(checklist(13), thresholds).level).toBe('medium');
    expect(scoreDash(checklist(14), thresholds)).toEqual({ dashScore: 14, level: 'high', criteria: ['dash-score>=14'] });
  });

  it('is high on professional judgement at a score of 0', () => {
    const assessment = checklist(0, { professionalJudgement: { highRisk: true, rationale: 'fears for her life' } });
    expect(scoreDash(assessment, thresholds)).toEqual({ dashScore: 0, level: 'high', criteria: ['professional-judgement'] });
  });

  it('is high on potential escalation at 3 police call-outs, not at 2', () => {
    expect(scoreDash(checklist(2, { policeCalloutsLast12Months: 3 }), thresholds)).toMatchObject({
      level: 'high',
      criteria: ['escalation:callouts>=3'],
    });
    expect(scoreDash(checklist(2, { policeCalloutsLast12Months: 2 }), thresholds).level).toBe('standard');
  });

  it('never lets professional judgement lower a level', () => {
    const assessment = checklist(16, { professionalJudgement: { highRisk: false, rationale: 'seems calm' } });
    expect(scoreDash(assessment, thresholds).level).toBe('high');
  });

  it('is high for a repeat MARAC case whatever the score, and lists every criterion that applies', () => {
    expect(scoreDash(checklist(1), thresholds, true)).toMatchObject({ level: 'high', criteria: ['repeat-marac'] });
    const all = checklist(20, {
      policeCalloutsLast12Months: 5,
      professionalJudgement: { highRisk: true, rationale: 'strangulation' },
    });
    expect(scoreDash(all, thresholds, true).criteria).toEqual([
      'dash-score>=14',
      'professional-judgement',
      'escalation:callouts>=3',
      'repeat-marac',
    ]);
  });

  it('takes its bands from the policy, not from code', () => {
    const stricter = { highDashScore: 12, mediumDashScore: 8, escalationPoliceCallouts: 2 };
    expect(scoreDash(checklist(12), stricter).level).toBe('high');
    expect(scoreDash(checklist(8), stricter).level).toBe('medium');
  });
});

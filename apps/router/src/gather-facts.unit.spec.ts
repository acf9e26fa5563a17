import { referralDecider, type ReferralReceived, type RiskAssessed } from '@spoc/domain';
import type { CreateReferralDto } from '../../api/src/referrals/referral.dto';
import { validRiskAssessment, validVictimReferral } from '../../api/src/referrals/referral.fixtures';
import { toReferralSubmission } from '../../api/src/referrals/referral.mapper';
import { gatherFacts, type RepeatFindings } from './gather-facts';
import { basePolicy } from './testing/router-test-kit';

const answers = (yes: number) => Object.fromEntries(Array.from({ length: 24 }, (_, n) => [`Q${n + 1}`, n < yes ? 'yes' : 'no']));

/** A referral as intake records it: its receipt and its assessment, scored under the policy's thresholds. */
function received(yes: number) {
  const body = validVictimReferral({ riskAssessment: validRiskAssessment({ answers: answers(yes) }) });
  const [receipt, assessment] = referralDecider.decide(
    { type: 'ReceiveReferral', data: { referralId: 'r-1', agency: 'hampshire-police', submission: toReferralSubmission(body as CreateReferralDto), submissionDigest: 'd', receivedAt: '2026-11-23T10:00:00Z', policy: basePolicy } },
    referralDecider.initialState(),
  );
  return { received: receipt.data as ReferralReceived['data'], assessment: assessment.data as RiskAssessed['data'] };
}

const repeatMarac: RepeatFindings = { isRepeat: true, previousReferralIds: ['r-0'], repeatMarac: true, maracReferralIds: ['r-0'], possibleMatchReferralIds: [] };
const facts = (yes: number, repeat: RepeatFindings) => gatherFacts({ ...received(yes), repeat, refugeUnitsFree: 0, routedAt: '2026-11-23T10:05:00Z', policy: basePolicy });

describe('the facts routing looks at', () => {
  it('makes a repeat MARAC high whatever the score, keeping the criteria the assessment was scored with', () => {
    expect(facts(15, repeatMarac)).toMatchObject({ riskLevel: 'high', riskCriteria: ['dash-score>=14', 'repeat-marac'] });
    expect(facts(11, repeatMarac)).toMatchObject({ riskLevel: 'high', riskCriteria: ['repeat-marac'] });
    expect(facts(2, repeatMarac)).toMatchObject({ riskLevel: 'high', riskCriteria: ['repeat-marac'] });
  });

  it('keeps the assessment as it was when the person is no repeat MARAC', () => {
    const none: RepeatFindings = { isRepeat: false, previousReferralIds: [], repeatMarac: false, maracReferralIds: [], possibleMatchReferralIds: [] };
    expect(facts(11, none)).toMatchObject({ riskLevel: 'medium', riskCriteria: ['dash-score>=10'], repeat: { repeatMarac: false, maracReferralIds: [] } });
  });
});

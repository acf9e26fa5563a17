import { stateAsOf, type AuditedEvent } from './state-as-of';

let position = 0n;
const at = (minute: number) => `2026-11-23T10:${String(minute).padStart(2, '0')}:00.000Z`;
function event(streamId: string, type: string, data: object, minute: number): AuditedEvent {
  position += 1n;
  return { streamId, type, data, recordedAt: at(minute), position };
}

const received = event('referral-r1', 'ReferralReceived', { referralId: 'r1', agency: 'hampshire-police', referralType: 'victim', submissionDigest: 'd', receivedAt: at(0), submission: null }, 0);
const assessed = event('referral-r1', 'RiskAssessed', { referralId: 'r1', assessmentNumber: 0, dashScore: 15, level: 'high', criteria: ['dash-score>=14'], policyId: 'p1', assessedAt: at(0) }, 0);
const routed = event('referral-r1', 'ReferralRouted', { referralId: 'r1', decisionNumber: 0, policyId: 'p1', facts: { routedAt: at(1) }, outcome: { status: 'routed', rulesFired: ['high-risk'], marac: null } }, 1);
const opened = event('case-c1', 'CaseOpened', { caseId: 'c1', referralId: 'r1', provision: 'idva', ruleIds: ['high-risk'], status: 'routed', riskLevel: 'high', repeat: false, hasChildren: false, routedAt: at(1), dueBy: at(59), decisionNumber: 0 }, 1);
const claimed = event('case-c1', 'CaseClaimed', { caseId: 'c1', assignee: 'worker-1', claimedAt: at(5) }, 5);
const closed = event('case-c1', 'CaseClosed', { caseId: 'c1', outcome: 'other', note: null, closedAt: at(9) }, 9);
const history = [received, assessed, routed, opened, claimed, closed];

describe('a referral as it stood at an instant', () => {
  it('shows nothing before it was received', () => {
    expect(stateAsOf(history, '2026-11-23T09:59:59Z')).toMatchObject({ referral: null, cases: [], eventsConsidered: 0 });
  });

  it('shows it received and assessed, not yet routed, in the first minute', () => {
    const state = stateAsOf(history, at(0));
    expect(state.referral).toMatchObject({ status: 'received', risk: { level: 'high', dashScore: 15 }, routing: null });
    expect(state.cases).toEqual([]);
  });

  it('shows the case claimed by its worker between the claim and the close, and closed after', () => {
    expect(stateAsOf(history, at(7)).cases).toEqual([expect.objectContaining({ caseId: 'c1', provision: 'idva', status: 'active', assignee: 'worker-1' })]);
    expect(stateAsOf(history, at(10)).cases).toEqual([expect.objectContaining({ status: 'closed' })]);
    expect(stateAsOf(history, at(10)).referral).toMatchObject({ status: 'routed', routing: { status: 'routed', rulesFired: ['high-risk'] } });
  });
});

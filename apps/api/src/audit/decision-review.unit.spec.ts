import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildDecision, evaluateRouting, parsePolicy, type ReferralRouted } from '@spoc/domain';
import { child, victim } from '../../../../libs/domain/src/routing/routing.fixture';
import { reEvaluate } from './decision-review';

const policy = parsePolicy(JSON.parse(readFileSync(path.resolve(__dirname, '../../../../policies/portsmouth-2026-1.json'), 'utf8')));

/** A decision as the router stores it: a high-risk victim, police attended, a school-age child at home. */
function storedDecision(): ReferralRouted['data'] {
  const facts = victim({ riskLevel: 'high', riskCriteria: ['dash-score>=14'], policeAttended: true, children: [child(0, 9)] });
  return buildDecision({
    facts,
    outcome: evaluateRouting(facts, policy),
    decisionNumber: 0,
    basedOnRevision: 1n,
    openCases: [],
    possibleMatchReferralIds: [],
    caseIdFor: (provision) => `case-${provision}`,
    notificationIdFor: (index) => `notification-${index}`,
    notifySchools: true,
  }).data;
}

describe('re-evaluating a stored routing decision', () => {
  it('finds the same routes and rules under the policy version that made it, without the schools', () => {
    const decision = storedDecision();
    expect(decision.outcome.rulesFired).toEqual(expect.arrayContaining(['high-risk', 'encompass']));

    expect(reEvaluate(decision, policy)).toEqual({ policyFound: true, sameRoutes: true, sameRulesFired: true, sameOutcome: true, mismatches: [] });
  });

  it('names each route and the rules that differ from the record', () => {
    const decision = storedDecision();
    const idva = decision.cases.find((routed) => routed.provision === 'idva')!;
    idva.status = 'waitlisted';
    decision.cases = decision.cases.filter((routed) => routed.provision !== 'mash');
    decision.outcome.rulesFired = decision.outcome.rulesFired.filter((rule) => rule !== 'children-in-household');

    const result = reEvaluate(decision, policy);

    expect(result).toMatchObject({ policyFound: true, sameRoutes: false, sameRulesFired: false, sameOutcome: false });
    expect(result.mismatches).toEqual([
      { kind: 'route', provision: 'idva', recorded: expect.objectContaining({ status: 'waitlisted' }), reEvaluated: expect.objectContaining({ status: 'routed' }) },
      { kind: 'route', provision: 'mash', recorded: null, reEvaluated: expect.objectContaining({ ruleIds: ['children-in-household'] }) },
      { kind: 'rulesFired', recorded: expect.not.arrayContaining(['children-in-household']), reEvaluated: expect.arrayContaining(['children-in-household']) },
    ]);
  });

  it('names a MARAC listing, a status, flags or a school due time that differ, though the routes and rules agree', () => {
    const decision = storedDecision();
    decision.outcome.marac = { ...decision.outcome.marac!, date: '2026-12-24', meetingId: 'marac-daily-2026-12-24' };
    decision.outcome.status = 'awaiting-consent';
    decision.outcome.flags = [...decision.outcome.flags, 'calendar-out-of-date'];
    decision.encompass = decision.encompass.map((notified) => ({ ...notified, dueBy: '2026-12-24T08:30:00.000Z' }));

    const result = reEvaluate(decision, policy);

    expect(result).toMatchObject({ sameRoutes: true, sameRulesFired: true, sameOutcome: false });
    expect(result.mismatches.map((mismatch) => mismatch.kind)).toEqual(['status', 'marac', 'flags', 'encompass']);
    expect(result.mismatches[1]).toMatchObject({ recorded: { date: '2026-12-24' }, reEvaluated: { date: storedDecision().outcome.marac!.date } });
  });

  it('does not expect schools to be told again by a later decision', () => {
    const decision = { ...storedDecision(), decisionNumber: 1, encompass: [] };
    expect(reEvaluate(decision, policy)).toMatchObject({ sameOutcome: true, mismatches: [] });
  });

  it('says so when the policy version is not on file, rather than guessing', () => {
    expect(reEvaluate(storedDecision(), null)).toEqual({
      policyFound: false,
      sameRoutes: null,
      sameRulesFired: null,
      sameOutcome: null,
      mismatches: [],
      note: 'policy version portsmouth-2026-1 is not in the policies directory',
    });
  });
});

import { validRiskAssessment, validVictimReferral } from '../apps/api/src/referrals/referral.fixtures';
import { bearer, TestApp } from './support/test-app';

const answers = (yes: number) => Object.fromEntries(Array.from({ length: 24 }, (_, n) => [`Q${n + 1}`, n < yes ? 'yes' : 'no']));
const pause = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('a referral as it stood at an instant, rebuilt from the log', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await TestApp.start();
  });
  afterAll(() => app.close());

  it('shows the case awaiting before the claim, active after it and closed at the end, and nothing before the referral', async () => {
    const police = (await app.createPrincipal({ role: 'referrer', name: 'Police desk', agency: 'hampshire-police' })).token;
    const idva = (await app.createPrincipal({ role: 'caseworker', name: 'IDVA', provision: 'idva' })).token;
    const auditor = (await app.createPrincipal({ role: 'auditor', name: 'Board' })).token;
    const before = new Date().toISOString();
    await pause();
    const body = validVictimReferral({ agencyReference: 'ASOF-1', subject: { lastName: 'Asofson' }, children: [], riskAssessment: validRiskAssessment({ answers: answers(15) }) });
    const { body: accepted } = await app.http().post('/v1/referrals').set(bearer(police)).send(body).expect(202);
    const { body: referral } = await app.http().get(`/v1/referrals/${accepted.referralId}?waitForRoutes=5000`).set(bearer(police)).expect(200);
    const caseId = referral.routes[0].caseId;
    await pause();
    const routed = new Date().toISOString();
    await pause();
    await app.http().post(`/v1/cases/${caseId}/claim`).set(bearer(idva)).send({}).expect(200);
    await pause();
    const claimed = new Date().toISOString();
    await pause();
    await app.http().post(`/v1/cases/${caseId}/close`).set(bearer(idva)).send({ outcome: 'engaged-risk-reduced' }).expect(200);

    const at = (instant: string) => app.http().get(`/v1/audit/referrals/${accepted.referralId}/state?asOf=${encodeURIComponent(instant)}`).set(bearer(auditor)).expect(200);
    expect((await at(before)).body).toMatchObject({ referral: null, cases: [] });
    expect((await at(routed)).body).toMatchObject({
      referral: { status: 'routed', risk: { level: 'high' }, routing: { status: 'routed', rulesFired: ['high-risk'] } },
      cases: [{ caseId, provision: 'idva', status: 'awaiting', assignee: null }],
      chainValid: true,
    });
    expect((await at(claimed)).body.cases).toEqual([expect.objectContaining({ caseId, status: 'active', assignee: expect.any(String) })]);
    expect((await at(new Date().toISOString())).body.cases).toEqual([expect.objectContaining({ caseId, status: 'closed' })]);

    const bad = await app.http().get(`/v1/audit/referrals/${accepted.referralId}/state?asOf=yesterday`).set(bearer(auditor)).expect(400);
    expect(bad.body.details).toEqual([{ field: 'asOf', problem: expect.any(String) }]);
    await app.http().get(`/v1/audit/referrals/${accepted.referralId}/state?asOf=${encodeURIComponent(routed)}`).set(bearer(police)).expect(403);
    await app.http().get(`/v1/audit/referrals/00000000-0000-4000-8000-000000000000/state?asOf=${encodeURIComponent(routed)}`).set(bearer(auditor)).expect(404);
  });
});

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROUTER } from '../apps/api/src/infrastructure/tokens';
import type { Router } from '../apps/router/src/router';
import { distinctSurname, validRiskAssessment, validVictimReferral, type ReferralBody } from '../apps/api/src/referrals/referral.fixtures';
import { answers, eventually } from './support/eventually';
import { bearer, TestApp } from './support/test-app';

let serial = 0;
const surname = (n: number) => distinctSurname('Consentcase', n);

describe('consent, cases and what the provisions may still see', () => {
  let app: TestApp;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    app = await TestApp.start(mkdtempSync(path.join(tmpdir(), 'spoc-consent-cases-')));
    tokens.police = (await app.createPrincipal({ role: 'referrer', name: 'Police desk', agency: 'hampshire-police' })).token;
    for (const provision of ['idva', 'outreach', 'victim-support', 'mash']) {
      tokens[provision] = (await app.createPrincipal({ role: 'caseworker', name: `${provision} worker`, provision })).token;
    }
  });
  afterAll(async () => {
    await app.close();
  });

  async function routed(overrides: ReferralBody) {
    serial += 1;
    const body = validVictimReferral({ agencyReference: `CC-${serial}`, subject: { lastName: surname(serial) }, ...overrides });
    const { body: accepted } = await app.http().post('/v1/referrals').set(bearer(tokens.police)).send(body).expect(202);
    const { body: referral } = await app.http().get(`/v1/referrals/${accepted.referralId}?waitForRoutes=5000`).set(bearer(tokens.police)).expect(200);
    const all = [...referral.routes, ...referral.heldForConsent] as Array<{ provision: string; caseId: string }>;
    return { referral, cases: Object.fromEntries(all.map((route) => [route.provision, route.caseId])), name: surname(serial) };
  }
  const act = (provision: string, caseId: string, action: string, body: object = {}) =>
    app.http().post(`/v1/cases/${caseId}/${action}`).set(bearer(tokens[provision])).send(body);
  const readReferral = (id: string) => app.http().get(`/v1/referrals/${id}`).set(bearer(tokens.police)).expect(200);

  it("keeps MASH's view of a closed case whatever the adult's consent, when a reassessment no longer routes to MASH", async () => {
    const withChildren = { riskAssessment: validRiskAssessment({ answers: answers(11) }), children: [{ dateOfBirth: '2018-01-01', livesInHousehold: true, presentAtIncident: false }] };
    const standard = { riskAssessment: validRiskAssessment({ answers: answers(3) }) };

    // Control: consent kept, reassessed standard (MASH no longer routed): MASH still sees whom it worked with.
    const kept = await routed(withChildren);
    await act('mash', kept.cases.mash, 'claim').expect(200);
    await act('mash', kept.cases.mash, 'close', { outcome: 'engaged-risk-reduced', note: 'children safe' }).expect(200);
    await app.http().post(`/v1/referrals/${kept.referral.referralId}/reassessments`).set(bearer(tokens.police)).send(standard).expect(202);
    await eventually(() => readReferral(kept.referral.referralId), (response) => response.body.routes.some((route: { provision: string }) => route.provision === 'victim-support'), 'the reassessment decided');
    const keptView = await app.http().get(`/v1/cases/${kept.cases.mash}`).set(bearer(tokens.mash)).expect(200);
    expect(keptView.body).toMatchObject({ status: 'closed', personalDataWithheld: false, subject: { lastName: kept.name } });

    // The same, after the adult withdrew consent: children's safeguarding does not depend on it (routing-policy.md).
    const withdrawn = await routed(withChildren);
    await act('mash', withdrawn.cases.mash, 'claim').expect(200);
    await act('mash', withdrawn.cases.mash, 'close', { outcome: 'engaged-risk-reduced', note: 'children safe' }).expect(200);
    await app.http().post(`/v1/referrals/${withdrawn.referral.referralId}/consent`).set(bearer(tokens.police)).send({ consent: { given: false, lawfulBasis: 'public-task', notes: 'withdrawn by phone' } }).expect(202);
    await eventually(() => readReferral(withdrawn.referral.referralId), (response) => response.body.heldForConsent.some((route: { provision: string }) => route.provision === 'outreach'), 'the withdrawal decided');
    await app.http().post(`/v1/referrals/${withdrawn.referral.referralId}/reassessments`).set(bearer(tokens.police)).send(standard).expect(202);
    await eventually(() => readReferral(withdrawn.referral.referralId), (response) => response.body.heldForConsent.some((route: { provision: string }) => route.provision === 'victim-support'), 'the reassessment decided');
    const view = await app.http().get(`/v1/cases/${withdrawn.cases.mash}`).set(bearer(tokens.mash)).expect(200);
    expect(view.body).toMatchObject({ status: 'closed', personalDataWithheld: false, subject: { lastName: withdrawn.name } });
  });

  // Last: it stops the in-process router (as a separate router process may be down, lagging, or have flagged the
  // referral for routing by hand).
  it('refuses a transfer to a voluntary service once the referrer has recorded that consent is withdrawn', async () => {
    const { referral, cases } = await routed({ riskAssessment: validRiskAssessment({ answers: answers(15) }), children: [] });
    expect(cases.idva).toBeDefined();
    await (app.app.get(ROUTER) as Router).stop();
    await app.http().post(`/v1/referrals/${referral.referralId}/consent`).set(bearer(tokens.police))
      .send({ consent: { given: false, lawfulBasis: 'safeguarding', notes: 'she no longer wants support' } }).expect(202);
    const moved = await act('idva', cases.idva, 'transfer', { toProvision: 'outreach', reason: 'community support' });
    expect(moved.status).toBe(409);
  });
});

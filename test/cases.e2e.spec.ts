import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { distinctSurname, validRiskAssessment, validVictimReferral, type ReferralBody } from '../apps/api/src/referrals/referral.fixtures';
import { answers, eventually } from './support/eventually';
import { bearer, TestApp } from './support/test-app';

let serial = 0;
const surname = (n: number) => distinctSurname('Case', n);


describe('provider queues and the case lifecycle over HTTP', () => {
  let app: TestApp;
  let policyDir: string;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    // A refuge of one unit, so that a release and the offer to the next person can be seen with two referrals.
    const dir = (policyDir = mkdtempSync(path.join(tmpdir(), 'spoc-cases-')));
    const policy = JSON.parse(readFileSync(path.resolve(__dirname, '../policies/portsmouth-2026-1.json'), 'utf8'));
    policy.provisions.refuge.capacityUnits = 1;
    const policyFile = path.join(dir, 'policy.json');
    writeFileSync(policyFile, JSON.stringify(policy));
    app = await TestApp.start(mkdtempSync(path.join(tmpdir(), 'spoc-e2e-')), { SPOC_POLICY_FILE: policyFile });
    tokens.police = (await app.createPrincipal({ role: 'referrer', name: 'Police desk', agency: 'hampshire-police' })).token;
    tokens.auditor = (await app.createPrincipal({ role: 'auditor', name: 'Board' })).token;
    for (const provision of ['idva', 'outreach', 'refuge', 'victim-support', 'mash']) {
      tokens[provision] = (await app.createPrincipal({ role: 'caseworker', name: `${provision} worker`, provision })).token;
    }
    tokens.idva2 = (await app.createPrincipal({ role: 'caseworker', name: 'second IDVA', provision: 'idva' })).token;
  });
  afterAll(async () => {
    await app.close();
    rmSync(policyDir, { recursive: true, force: true });
  });

  /** Posts a referral and returns it once routed, with a map provision → case id. */
  async function routed(overrides: ReferralBody) {
    serial += 1;
    const body = validVictimReferral({ agencyReference: `CASE-${serial}`, subject: { lastName: surname(serial) }, ...overrides });
    const { body: accepted } = await app.http().post('/v1/referrals').set(bearer(tokens.police)).send(body).expect(202);
    const { body: referral } = await app.http().get(`/v1/referrals/${accepted.referralId}?waitForRoutes=5000`).set(bearer(tokens.police)).expect(200);
    // Routes held for the victim's consent are listed apart from the contract's routed and waitlisted ones.
    const all = [...referral.routes, ...referral.heldForConsent] as Array<{ provision: string; caseId: string }>;
    const cases = Object.fromEntries(all.map((route) => [route.provision, route.caseId]));
    return { referral, cases };
  }

  const high = { riskAssessment: validRiskAssessment({ answers: answers(15) }) };
  const queue = (provision: string, query = '') => app.http().get(`/v1/queues/${provision}${query}`).set(bearer(tokens[provision]));
  const act = (provision: string, caseId: string, action: string, body: object = {}) =>
    app.http().post(`/v1/cases/${caseId}/${action}`).set(bearer(tokens[provision])).send(body);

  it("puts a high-risk case in the IDVA queue with who to call, how to call them safely, and when first contact is due", async () => {
    const { referral, cases } = await routed(high);
    const { body } = await queue('idva').expect(200);
    const item = body.items.find((entry: { caseId: string }) => entry.caseId === cases.idva);
    expect(item).toMatchObject({
      referralId: referral.referralId,
      provision: 'idva',
      riskLevel: 'high',
      status: 'awaiting',
      routedAt: expect.any(String),
      dueBy: referral.routes.find((route: { provision: string }) => route.provision === 'idva').dueBy,
      overdue: false,
      assignee: null,
      subject: { firstName: 'Sam', lastName: surname(serial), phone: '07700 900123', safeContact: { phone: true, voicemail: false, text: true, email: false, letter: false, notes: 'after 2pm only' } },
    });
  });

  it("keeps each provision to its own queue and cases: another provision's case does not exist for it", async () => {
    const { cases } = await routed(high);
    await app.http().get('/v1/queues/idva').set(bearer(tokens.outreach)).expect(403);
    await app.http().get('/v1/queues/counselling').set(bearer(tokens.outreach)).expect(404);
    await app.http().get('/v1/queues/idva').set(bearer(tokens.police)).expect(403);
    await app.http().get(`/v1/cases/${cases.idva}`).set(bearer(tokens.outreach)).expect(404);
    await act('outreach', cases.idva, 'claim').expect(404);
    await app.http().post(`/v1/cases/${cases.idva}/claim`).set(bearer(tokens.auditor)).send({}).expect(403);
  });

  it('runs a case from claim to close: one of two racing claims wins, contact attempts are recorded, the case closes with its outcome', async () => {
    const { cases } = await routed(high);
    const caseId = cases.idva;
    const [first, second] = await Promise.all([act('idva', caseId, 'claim'), app.http().post(`/v1/cases/${caseId}/claim`).set(bearer(tokens.idva2)).send({})]);
    expect([first.status, second.status].sort()).toEqual([200, 409]);
    const winner = first.status === 200 ? first : second;
    expect(winner.body).toMatchObject({ caseId, status: 'active', assignee: expect.any(String) });

    await act('idva', caseId, 'claim').expect(409);
    const attempt = await act('idva', caseId, 'contact-attempts', { outcome: 'no-answer', note: 'rang at 14:10, no voicemail left as instructed' }).expect(200);
    expect(attempt.body).toMatchObject({ status: 'active', firstContactAttemptAt: expect.any(String), overdue: false });
    expect(attempt.body.history.map((event: { type: string }) => event.type)).toEqual(['CaseOpened', 'CaseClaimed', 'ContactAttempted']);
    expect(attempt.body.history[2].data).toMatchObject({ outcome: 'no-answer', note: 'rang at 14:10, no voicemail left as instructed' });

    const closed = await act('idva', caseId, 'close', { outcome: 'engaged-risk-reduced', note: 'safety plan in place' }).expect(200);
    expect(closed.body.status).toBe('closed');
    await act('idva', caseId, 'contact-attempts', { outcome: 'contacted' }).expect(409);
    const open = await queue('idva').expect(200);
    expect(open.body.items.map((entry: { caseId: string }) => entry.caseId)).not.toContain(caseId);
    const closedQueue = await queue('idva', '?status=closed').expect(200);
    expect(closedQueue.body.items.map((entry: { caseId: string }) => entry.caseId)).toContain(caseId);
  });

  it('refuses transitions the contract does not allow, saying why', async () => {
    const { cases } = await routed(high);
    const contact = await act('idva', cases.idva, 'contact-attempts', { outcome: 'contacted' }).expect(409);
    expect(contact.body).toMatchObject({ statusCode: 409, message: expect.stringMatching(/awaiting cannot be given a contact attempt/) });
    await act('idva', cases.idva, 'close', { outcome: 'other' }).expect(409);
  });

  it('lists every problem in a bad body, with its field, and never echoes the value', async () => {
    const { cases } = await routed(high);
    const bad = await act('idva', cases.idva, 'contact-attempts', { outcome: 'rang-them', note: 7, extra: 'Sam' }).expect(400);
    expect(bad.body.details).toEqual(
      expect.arrayContaining([
        { field: 'outcome', problem: expect.stringMatching(/must be one of/) },
        { field: 'note', problem: 'must be a string' },
        { field: 'extra', problem: expect.any(String) },
      ]),
    );
    expect(JSON.stringify(bad.body)).not.toContain('rang-them');
    await act('idva', cases.idva, 'transfer', { toProvision: 'counselling' }).expect(400);
    await act('idva', cases.idva, 'decline', {}).expect(400);
  });

  it('transfers a case: the new case opens at the target, linked back, and the referral shows the new route', async () => {
    const { referral, cases } = await routed(high);
    const moved = await act('idva', cases.idva, 'transfer', { toProvision: 'outreach', reason: 'victim asked for community support instead' }).expect(200);
    expect(moved.body.status).toBe('transferred');
    const { body } = await queue('outreach').expect(200);
    const target = body.items.find((entry: { referralId: string }) => entry.referralId === referral.referralId);
    expect(target).toMatchObject({ status: 'awaiting', riskLevel: 'high', dueBy: expect.any(String) });
    const detail = await app.http().get(`/v1/cases/${target.caseId}`).set(bearer(tokens.outreach)).expect(200);
    expect(detail.body.origin).toEqual({ kind: 'transfer', fromCaseId: cases.idva, fromProvision: 'idva' });
    const after = await app.http().get(`/v1/referrals/${referral.referralId}`).set(bearer(tokens.police)).expect(200);
    expect(after.body.routes).toEqual(expect.arrayContaining([expect.objectContaining({ provision: 'outreach', caseId: target.caseId })]));
    await act('idva', cases.idva, 'transfer', { toProvision: 'outreach', reason: 'again' }).expect(409);
  });

  it("refuses a transfer routing could never make (a victim to Up2U, an adult to the YPVA) or one that would open a second case where one is open", async () => {
    const { referral, cases } = await routed({ ...high, children: [{ dateOfBirth: '2018-01-01', livesInHousehold: true, presentAtIncident: false }] });
    expect(cases.mash).toBeDefined();
    const toUp2u = await act('idva', cases.idva, 'transfer', { toProvision: 'up2u', reason: 'wrong service' }).expect(409);
    expect(toUp2u.body.message).toMatch(/Up2U works with the person who uses abusive behaviour/);
    const toMash = await act('idva', cases.idva, 'transfer', { toProvision: 'mash', reason: 'children' }).expect(409);
    expect(toMash.body.message).toMatch(/already has an open case at mash/);
    // An adult is not the young person violence advocate's (the age the decision routed on).
    const toYpva = await act('idva', cases.idva, 'transfer', { toProvision: 'ypva', reason: 'young' }).expect(409);
    expect(toYpva.body.message).toMatch(/works with people aged 13 to 17/);
    const { body } = await queue('mash').expect(200);
    expect(body.items.filter((entry: { referralId: string }) => entry.referralId === referral.referralId)).toHaveLength(1);
    const idva = await app.http().get(`/v1/cases/${cases.idva}`).set(bearer(tokens.idva)).expect(200);
    expect(idva.body.status).toBe('awaiting');
  });

  it('opens one case, not two, when two of a referral\'s cases are transferred to the same provision at the same moment', async () => {
    const { referral, cases } = await routed({ ...high, children: [{ dateOfBirth: '2018-01-01', livesInHousehold: true, presentAtIncident: false }] });
    expect(Object.keys(cases).sort()).toEqual(['idva', 'mash']);
    const answered = await Promise.all(['idva', 'mash'].map((provision) => act(provision, cases[provision], 'transfer', { toProvision: 'outreach', reason: 'community support' })));
    expect(answered.map((response) => response.status).sort()).toEqual([200, 409]);
    const { body } = await queue('outreach', '?limit=500').expect(200);
    expect(body.items.filter((entry: { referralId: string }) => entry.referralId === referral.referralId)).toHaveLength(1);
  });

  it('refuses to transfer a person who has not consented to a voluntary service', async () => {
    const { cases } = await routed({ ...high, children: [], consent: { given: false, lawfulBasis: 'safeguarding', notes: 'at risk of serious harm' } });
    const refused = await act('idva', cases.idva, 'transfer', { toProvision: 'outreach', reason: 'community support' }).expect(409);
    expect(refused.body.message).toMatch(/has not consented, and outreach is a voluntary service/);
  });

  it('reassesses a transferred referral without pointing a route at the case that was transferred away', async () => {
    const { referral, cases } = await routed(high);
    await act('idva', cases.idva, 'transfer', { toProvision: 'outreach', reason: 'victim asked for community support instead' }).expect(200);
    const outreachCase = (
      await eventually(
        () => queue('outreach'),
        (response) => response.body.items.some((entry: { referralId: string }) => entry.referralId === referral.referralId),
        'the transferred case',
      )
    ).body.items.find((entry: { referralId: string }) => entry.referralId === referral.referralId).caseId;

    // Still high risk: the policy routes to IDVA again. The IDVA case ended with the transfer, so a new one opens.
    await app.http().post(`/v1/referrals/${referral.referralId}/reassessments`).set(bearer(tokens.police)).send(high).expect(202);
    const after = await eventually(
      () => app.http().get(`/v1/referrals/${referral.referralId}?waitForRoutes=2000`).set(bearer(tokens.police)),
      (response) => response.body.routedAt !== referral.routedAt,
      'the second decision',
    );
    const idva = after.body.routes.find((route: { provision: string }) => route.provision === 'idva');
    expect(idva.caseId).not.toBe(cases.idva);
    const { body: idvaQueue } = await queue('idva').expect(200);
    expect(idvaQueue.items).toEqual(expect.arrayContaining([expect.objectContaining({ caseId: idva.caseId, status: 'awaiting' })]));
    // The case a caseworker moved the person to is left where it is, and the referrer still sees it.
    expect(after.body.routes).toEqual(expect.arrayContaining([expect.objectContaining({ provision: 'outreach', caseId: outreachCase })]));
    const moved = await app.http().get(`/v1/cases/${outreachCase}`).set(bearer(tokens.outreach)).expect(200);
    expect(moved.body.status).toBe('awaiting');
  });

  it("refers a case Victim Support declines on to outreach, as the policy says, and returns an IDVA decline to the referrer", async () => {
    const standard = await routed({ children: [] });
    expect(standard.referral).toMatchObject({ riskLevel: 'standard', riskCriteria: ['dash-score<10'] });
    await act('victim-support', standard.cases['victim-support'], 'decline', { reason: 'needs are beyond a standard-risk service' }).expect(200);
    const referredOn = await eventually(
      () => queue('outreach'),
      (response) => response.body.items.some((entry: { referralId: string }) => entry.referralId === standard.referral.referralId),
      'the referral-on to outreach',
    );
    const target = referredOn.body.items.find((entry: { referralId: string }) => entry.referralId === standard.referral.referralId);
    const detail = await app.http().get(`/v1/cases/${target.caseId}`).set(bearer(tokens.outreach)).expect(200);
    expect(detail.body.origin).toMatchObject({ kind: 'decline', fromProvision: 'victim-support' });

    const { referral, cases } = await routed({ ...high, children: [] });
    await act('idva', cases.idva, 'decline', { reason: 'conflict of interest' }).expect(200);
    const returned = await eventually(
      () => app.http().get(`/v1/referrals/${referral.referralId}`).set(bearer(tokens.police)),
      (response) => response.body.flags.includes('returned-to-referrer'),
      'the return to the referrer',
    );
    expect(returned.body.reasons.join(' ')).toMatch(/Declined by idva/);
    expect(JSON.stringify(returned.body)).not.toContain('conflict of interest');
  });

  it('shows each provision only what the policy gives it: Victim Support sees the risk summary, not the DASH answers', async () => {
    const standard = await routed({ children: [] });
    const vs = await app.http().get(`/v1/cases/${standard.cases['victim-support']}`).set(bearer(tokens['victim-support'])).expect(200);
    expect(vs.body.risk).toEqual({ level: 'standard', dashScore: 6, criteria: ['dash-score<10'] });
    expect(vs.body.referral).not.toHaveProperty('children');
    // How to reach the person safely, and nothing else of them: no date of birth, address or identifiers.
    expect(Object.keys(vs.body.referral.subject).sort()).toEqual(['email', 'firstName', 'interpreterRequired', 'language', 'lastName', 'phone', 'safeContact']);
    expect(vs.body.referral.subject).toMatchObject({ firstName: 'Sam', phone: '07700 900123', safeContact: expect.any(Object) });

    const { cases } = await routed(high);
    const idva = await app.http().get(`/v1/cases/${cases.idva}`).set(bearer(tokens.idva)).expect(200);
    expect(idva.body.risk).toMatchObject({ level: 'high', dashScore: 15, answers: expect.objectContaining({ Q1: 'yes' }) });
    expect(idva.body.referral.children).toHaveLength(1);
    expect(idva.body.referral.subject).toMatchObject({ firstName: 'Sam', dateOfBirth: expect.any(String), postcode: expect.any(String) });
  });

  it('frees a refuge unit when its case closes and offers it to the person waiting, whose clock then starts', async () => {
    const shelter = { needs: { safeAccommodation: true }, children: [] };
    const first = await routed(shelter);
    const second = await routed(shelter);
    const refugeRoute = (referral: { routes: Array<{ provision: string; status: string }> }) => referral.routes.find((route) => route.provision === 'refuge')!;
    expect(refugeRoute(first.referral).status).toBe('routed');
    expect(refugeRoute(second.referral)).toMatchObject({ status: 'waitlisted' });
    expect(second.referral.flags).toContain('search-national-refuge-vacancies');

    await act('refuge', first.cases.refuge, 'claim').expect(200);
    await act('refuge', first.cases.refuge, 'close', { outcome: 'moved-away' }).expect(200);
    const offered = await eventually(
      () => app.http().get(`/v1/cases/${second.cases.refuge}`).set(bearer(tokens.refuge)),
      (response) => response.body.routeStatus === 'routed',
      'the refuge place offered to the next person',
    );
    expect(offered.body.dueBy).toEqual(expect.any(String));
    expect(offered.body.history.map((event: { type: string }) => event.type)).toEqual(['CaseOpened', 'RefugePlaceOffered']);
    // The referrer sees it too: routed, due by the place's own time, and the national search no longer asked for.
    const { body: referral } = await app.http().get(`/v1/referrals/${second.referral.referralId}`).set(bearer(tokens.police)).expect(200);
    expect(refugeRoute(referral)).toMatchObject({ status: 'routed', dueBy: offered.body.dueBy });
    expect(referral.flags).not.toContain('search-national-refuge-vacancies');
    expect(referral.reasons.join(' ')).not.toMatch(/national refuge vacancies/);
    await act('refuge', second.cases.refuge, 'claim').expect(200);
  });

  it('moves a case a reassessment keeps up its queue with the new risk level, and its detail agrees', async () => {
    const { referral, cases } = await routed({ riskAssessment: validRiskAssessment({ answers: answers(11) }) });
    expect(referral.riskLevel).toBe('medium');
    const queueItem = async () =>
      ((await app.http().get('/v1/queues/mash?limit=500').set(bearer(tokens.mash)).expect(200)).body.items as Array<{ caseId: string; riskLevel: string }>).find((item) => item.caseId === cases.mash)!;
    expect((await queueItem()).riskLevel).toBe('medium');

    await app.http().post(`/v1/referrals/${referral.referralId}/reassessments`).set(bearer(tokens.police)).send({ riskAssessment: validRiskAssessment({ answers: answers(16) }) }).expect(202);
    const reassessed = await eventually(
      () => app.http().get(`/v1/referrals/${referral.referralId}`).set(bearer(tokens.police)),
      (response) => response.body.riskLevel === 'high' && response.body.routes.some((route: { provision: string }) => route.provision === 'idva'),
      'the reassessment decided',
    );
    // The same MASH case, kept by the new decision.
    expect(reassessed.body.routes.find((route: { provision: string }) => route.provision === 'mash').caseId).toBe(cases.mash);
    await eventually(queueItem, (item) => item.riskLevel === 'high', 'the kept case reprioritised');
    const { body: detail } = await app.http().get(`/v1/cases/${cases.mash}`).set(bearer(tokens.mash)).expect(200);
    expect(detail.riskLevel).toBe('high');
    expect(detail.risk.level).toBe('high');
    expect(detail.history.map((event: { type: string }) => event.type)).toEqual(['CaseOpened', 'CaseReprioritised']);

    // Transferred on, the case it opens carries the level it was moved to, not the one it was opened with.
    await act('mash', cases.mash, 'transfer', { toProvision: 'victim-support', reason: 'support for the adult' }).expect(200);
    const moved = await eventually(
      async () => ((await queue('victim-support').expect(200)).body.items as Array<{ referralId: string; riskLevel: string; caseId: string }>).find((item) => item.referralId === referral.referralId),
      (item) => item !== undefined,
      'the case opened by the transfer',
    );
    expect(moved!.riskLevel).toBe('high');
  });

  it('withholds the person from a provision whose case was superseded because consent was withdrawn', async () => {
    const { referral, cases } = await routed({ children: [] });
    expect(referral.riskLevel).toBe('standard');
    await act('victim-support', cases['victim-support'], 'claim').expect(200);
    await act('victim-support', cases['victim-support'], 'contact-attempts', { outcome: 'no-answer', note: 'Sam asked for a call back after 2pm' }).expect(200);
    await app.http().post(`/v1/referrals/${referral.referralId}/consent`).set(bearer(tokens.police)).send({ consent: { given: false, lawfulBasis: 'public-task', notes: 'withdrawn by phone' } }).expect(202);
    const withdrawn = await eventually(
      () => app.http().get(`/v1/cases/${cases['victim-support']}`).set(bearer(tokens['victim-support'])),
      (response) => response.body.status === 'superseded',
      'the case superseded by the withdrawal',
    );
    expect(withdrawn.body).toMatchObject({ personalDataWithheld: true, referral: null, subject: null });
    expect(JSON.stringify(withdrawn.body)).not.toContain(surname(serial));
    // Its own history stays, without what was typed about the person.
    expect(withdrawn.body.history.map((event: { type: string }) => event.type)).toEqual(['CaseOpened', 'CaseClaimed', 'ContactAttempted', 'CaseSuperseded']);
    expect(JSON.stringify(withdrawn.body)).not.toContain('call back');
  });

  it("withholds the person from a provision whose case had closed when consent was withdrawn, but not from MASH, which needs none", async () => {
    const { referral, cases } = await routed({ riskAssessment: validRiskAssessment({ answers: answers(11) }), children: [{ dateOfBirth: '2018-01-01', livesInHousehold: true, presentAtIncident: false }] });
    for (const provision of ['outreach', 'mash']) {
      await act(provision, cases[provision], 'claim').expect(200);
      await act(provision, cases[provision], 'close', { outcome: 'engaged-risk-reduced', note: 'Sam is safe at her sister' }).expect(200);
    }
    const closedList = async (provision: string) => (await queue(provision, '?status=closed&limit=100').expect(200)).body.items.find((entry: { caseId: string }) => entry.caseId === cases[provision]);
    expect((await closedList('outreach')).subject).toMatchObject({ lastName: surname(serial) });

    await app.http().post(`/v1/referrals/${referral.referralId}/consent`).set(bearer(tokens.police)).send({ consent: { given: false, lawfulBasis: 'public-task', notes: 'withdrawn by phone' } }).expect(202);
    const closed = await eventually(
      () => app.http().get(`/v1/cases/${cases['outreach']}`).set(bearer(tokens['outreach'])),
      (response) => response.body.personalDataWithheld === true,
      'the closed case withheld after the withdrawal',
    );
    expect(closed.body).toMatchObject({ status: 'closed', referral: null, subject: null });
    expect(JSON.stringify(closed.body)).not.toContain(surname(serial));
    expect(JSON.stringify(closed.body)).not.toContain('sister');
    expect(await closedList('outreach')).toMatchObject({ subject: null, personalDataWithheld: true });
    // Children's safeguarding does not depend on the adult's consent: MASH still sees whom it worked with.
    const mash = await app.http().get(`/v1/cases/${cases.mash}`).set(bearer(tokens.mash)).expect(200);
    expect(mash.body).toMatchObject({ status: 'closed', personalDataWithheld: false, subject: { lastName: surname(serial) } });
    expect(await closedList('mash')).toMatchObject({ personalDataWithheld: false, subject: { lastName: surname(serial) } });
  });

  it('lets a caseworker of a provision the referral is routed to reassess it, and no other', async () => {
    const { referral } = await routed(high);
    const body = { riskAssessment: validRiskAssessment({ answers: answers(11) }) };
    await app.http().post(`/v1/referrals/${referral.referralId}/reassessments`).set(bearer(tokens['victim-support'])).send(body).expect(404);
    // MASH has a case too, but lowering a high risk takes the IDVA and MARAC away: the referrer or the IDVA decide that.
    const lowered = await app.http().post(`/v1/referrals/${referral.referralId}/reassessments`).set(bearer(tokens.mash)).send(body).expect(403);
    expect(lowered.body.message).toMatch(/only the referring agency or the IDVA may lower a high-risk referral/);
    await app.http().post(`/v1/referrals/${referral.referralId}/reassessments`).set(bearer(tokens.idva)).send(body).expect(202);
  });

  it('routes a referral held for consent once the referrer records consent: a workable case opens and the held one is superseded', async () => {
    const { referral, cases } = await routed({ children: [], riskAssessment: validRiskAssessment({ answers: answers(11) }), consent: { given: false, lawfulBasis: 'safeguarding', notes: null } });
    expect(referral).toMatchObject({ status: 'awaiting-consent', routes: [], heldForConsent: [{ provision: 'outreach', ruleIds: ['medium-risk'] }] });
    const before = await queue('outreach').expect(200);
    expect(before.body.items.map((entry: { referralId: string }) => entry.referralId)).not.toContain(referral.referralId);

    await app.http().post(`/v1/referrals/${referral.referralId}/consent`).set(bearer(tokens.idva)).send({ consent: { given: true, lawfulBasis: 'consent', notes: null } }).expect(403);
    await app.http().post(`/v1/referrals/${referral.referralId}/consent`).set(bearer(tokens.police)).send({ consent: { given: false, lawfulBasis: 'consent' } }).expect(400);
    await app.http().post(`/v1/referrals/${referral.referralId}/consent`).set(bearer(tokens.police)).send({ consent: { given: true, lawfulBasis: 'consent', notes: 'spoke to her by phone, safe to proceed' } }).expect(202);

    const after = await eventually(
      () => app.http().get(`/v1/referrals/${referral.referralId}`).set(bearer(tokens.police)),
      (response) => response.body.status === 'routed',
      'the decision after consent',
    );
    const route = after.body.routes.find((entry: { provision: string }) => entry.provision === 'outreach');
    expect(route).toMatchObject({ status: 'routed', dueBy: expect.any(String) });
    expect(route.caseId).not.toBe(cases.outreach);
    const queued = await eventually(() => queue('outreach'), (response) => response.body.items.some((entry: { caseId: string }) => entry.caseId === route.caseId), 'the new case in the queue');
    expect(queued.body.items.find((entry: { caseId: string }) => entry.caseId === route.caseId)).toMatchObject({ status: 'awaiting', routeStatus: 'routed' });
    // The held case was never routed to outreach: it stays out of outreach's sight; the auditor sees it superseded.
    await app.http().get(`/v1/cases/${cases.outreach}`).set(bearer(tokens.outreach)).expect(404);
    const { body: history } = await app.http().get(`/v1/audit/referrals/${referral.referralId}/history`).set(bearer(tokens.auditor)).expect(200);
    expect(history.events.filter((event: { streamId: string }) => event.streamId === `case-${cases.outreach}`).map((event: { type: string }) => event.type)).toEqual(['CaseOpened', 'CaseSuperseded']);
  });

  const withoutConsent = { children: [], consent: { given: false, lawfulBasis: 'public-task', notes: null } };
  const caseEvents = async (referralId: string, caseId: string) => {
    const { body } = await app.http().get(`/v1/audit/referrals/${referralId}/history`).set(bearer(tokens.auditor)).expect(200);
    return (body.events as Array<{ streamId: string; type: string; data: Record<string, unknown> }>).filter((event) => event.streamId === `case-${caseId}`);
  };

  it("does not show a case held for consent to its provision's caseworker, as if it did not exist; the auditor reads it", async () => {
    const { referral, cases } = await routed({ ...withoutConsent, riskAssessment: validRiskAssessment({ answers: answers(11) }) });
    expect(referral).toMatchObject({ status: 'awaiting-consent', routes: [], heldForConsent: [{ provision: 'outreach' }] });
    const read = await app.http().get(`/v1/cases/${cases.outreach}`).set(bearer(tokens.outreach)).expect(404);
    expect(JSON.stringify(read.body)).not.toContain(surname(serial));
    expect(read.body).not.toHaveProperty('risk');
    await act('outreach', cases.outreach, 'contact-attempts', { outcome: 'contacted' }).expect(404);
    await act('outreach', cases.outreach, 'close', { outcome: 'other' }).expect(404);
    // Nor may it reassess the referral, which would route the person on without their consent.
    await app.http().post(`/v1/referrals/${referral.referralId}/reassessments`).set(bearer(tokens.outreach)).send(high).expect(404);
    expect(await caseEvents(referral.referralId, cases.outreach)).toEqual([expect.objectContaining({ type: 'CaseOpened', data: expect.objectContaining({ status: 'held-awaiting-consent' }) })]);
    const { body: after } = await app.http().get(`/v1/referrals/${referral.referralId}`).set(bearer(tokens.police)).expect(200);
    expect(after).toMatchObject({ riskLevel: 'medium', status: 'awaiting-consent' });
  });

  it('does not let a case held for consent be declined or transferred, which would route the person on without it', async () => {
    const medium = await routed({ ...withoutConsent, riskAssessment: validRiskAssessment({ answers: answers(11) }) });
    await act('outreach', medium.cases.outreach, 'transfer', { toProvision: 'victim-support', reason: 'x' }).expect(404);
    await act('outreach', medium.cases.outreach, 'decline', { reason: 'x' }).expect(404);
    await act('outreach', medium.cases.outreach, 'claim').expect(404);

    const standard = await routed(withoutConsent);
    expect(standard.referral).toMatchObject({ riskLevel: 'standard', status: 'awaiting-consent', routes: [], heldForConsent: [{ provision: 'victim-support' }] });
    await act('victim-support', standard.cases['victim-support'], 'decline', { reason: 'x' }).expect(404);

    for (const { referral, cases } of [medium, standard]) {
      const [caseId] = Object.values(cases);
      expect((await caseEvents(referral.referralId, caseId)).map((event) => event.type)).toEqual(['CaseOpened']);
      const after = await app.http().get(`/v1/referrals/${referral.referralId}`).set(bearer(tokens.police)).expect(200);
      expect(after.body).toMatchObject({ status: 'awaiting-consent', routes: [], heldForConsent: [{ caseId }] });
    }
    const { body: outreachQueue } = await queue('outreach').expect(200);
    expect(outreachQueue.items.map((entry: { referralId: string }) => entry.referralId)).not.toContain(standard.referral.referralId);
  });

  it('shows a case superseded by a reassessment its own facts, not the person: the referral left the provision', async () => {
    const { referral, cases } = await routed({ children: [], riskAssessment: validRiskAssessment({ answers: answers(11) }) });
    await app.http().post(`/v1/referrals/${referral.referralId}/reassessments`).set(bearer(tokens.police)).send(high).expect(202);
    const superseded = await eventually(
      () => app.http().get(`/v1/cases/${cases.outreach}`).set(bearer(tokens.outreach)),
      (response) => response.body.status === 'superseded',
      'the outreach case superseded',
    );
    // The level it was routed on, not the one that moved the referral away; and nothing personal any more.
    expect(superseded.body.risk).toEqual({ level: 'medium', dashScore: 11, criteria: ['dash-score>=10'] });
    expect(superseded.body).toMatchObject({ personalDataWithheld: true, personalDataErased: false, referral: null, subject: null });
    expect(JSON.stringify(superseded.body)).not.toContain(surname(serial));

    const after = await app.http().get(`/v1/referrals/${referral.referralId}?waitForRoutes=2000`).set(bearer(tokens.police)).expect(200);
    const idva = after.body.routes.find((route: { provision: string }) => route.provision === 'idva');
    const current = await app.http().get(`/v1/cases/${idva.caseId}`).set(bearer(tokens.idva)).expect(200);
    expect(current.body.risk).toMatchObject({ level: 'high', dashScore: 15 });
  });

  it('shows a closed case the assessment it was worked on, not a reassessment made after it closed', async () => {
    const { referral, cases } = await routed({ ...high, children: [] });
    await act('idva', cases.idva, 'claim').expect(200);
    await act('idva', cases.idva, 'close', { outcome: 'engaged-risk-reduced' }).expect(200);
    await app.http().post(`/v1/referrals/${referral.referralId}/reassessments`).set(bearer(tokens.police)).send({ riskAssessment: validRiskAssessment({ answers: answers(11) }) }).expect(202);
    await eventually(
      () => app.http().get(`/v1/referrals/${referral.referralId}`).set(bearer(tokens.police)),
      (response) => response.body.riskLevel === 'medium',
      'the reassessment',
    );
    const closed = await app.http().get(`/v1/cases/${cases.idva}`).set(bearer(tokens.idva)).expect(200);
    expect(closed.body).toMatchObject({ status: 'closed', risk: { level: 'high', dashScore: 15 } });
  });

  it("records in the access log who saw a case in a queue, who opened it and who acted on it", async () => {
    const { referral, cases } = await routed(high);
    await queue('idva').expect(200);
    await app.http().get(`/v1/cases/${cases.idva}`).set(bearer(tokens.idva)).expect(200);
    await act('idva', cases.idva, 'claim').expect(200);
    await app.http().get(`/v1/cases/${cases.idva}`).set(bearer(tokens.outreach)).expect(404);
    const log = await app.http().get(`/v1/audit/access-log?referralId=${referral.referralId}&limit=500`).set(bearer(tokens.auditor)).expect(200);
    const seen = log.body.items.map((entry: { route: string; outcome: string; actor: { provision?: string } }) => `${entry.route} ${entry.outcome} ${entry.actor?.provision ?? '-'}`);
    expect(seen).toEqual(
      expect.arrayContaining([
        'POST /v1/referrals allowed -',
        'GET /v1/queues/:provision allowed idva',
        'GET /v1/cases/:caseId allowed idva',
        'POST /v1/cases/:caseId/claim allowed idva',
        'GET /v1/cases/:caseId denied outreach',
      ]),
    );
  });

  it('pages a queue with the contract cursor', async () => {
    await routed(high);
    await routed(high);
    const first = await queue('idva', '?limit=1').expect(200);
    expect(first.body.items).toHaveLength(1);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await queue('idva', `?limit=1&cursor=${first.body.nextCursor}`).expect(200);
    expect(second.body.items[0].caseId).not.toBe(first.body.items[0].caseId);
    await queue('idva', '?limit=0&status=done').expect(400);
  });
});

import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EVENT_STORE, type EventStore } from '@spoc/event-store';
import { openReadModelDb } from '@spoc/platform';
import { CODEC, POLICY, ROUTER, VAULT } from '../apps/api/src/infrastructure/tokens';
import { validRiskAssessment, validVictimReferral } from '../apps/api/src/referrals/referral.fixtures';
import { Router } from '../apps/router/src/router';
import { ADMIN_TOKEN, bearer, TestApp } from './support/test-app';

const answers = (yes: number) => Object.fromEntries(Array.from({ length: 24 }, (_, n) => [`Q${n + 1}`, n < yes ? 'yes' : 'no']));

// The person in the referral, as it would be matched again: the same names and date of birth.
const subject = { firstName: 'Erin', lastName: 'Wrongperson', dateOfBirth: '1990-02-03' };

describe('erasure of a referral made in error (data-protection.md: crypto-shredding)', () => {
  let app: TestApp;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    app = await TestApp.start();
    tokens.police = (await app.createPrincipal({ role: 'referrer', name: 'Police desk', agency: 'hampshire-police' })).token;
    tokens.auditor = (await app.createPrincipal({ role: 'auditor', name: 'Board' })).token;
    tokens.idva = (await app.createPrincipal({ role: 'caseworker', name: 'IDVA', provision: 'idva' })).token;
    tokens.mash = (await app.createPrincipal({ role: 'caseworker', name: 'MASH', provision: 'mash' })).token;
    tokens.vs = (await app.createPrincipal({ role: 'caseworker', name: 'Victim Support', provision: 'victim-support' })).token;
    tokens.outreach = (await app.createPrincipal({ role: 'caseworker', name: 'Outreach', provision: 'outreach' })).token;
  });
  let laterRouter: Router | null = null;
  afterAll(async () => {
    await laterRouter?.stop();
    await app.close();
  });

  async function eventually(condition: () => Promise<boolean>, what: string): Promise<void> {
    for (let attempt = 0; attempt < 250; attempt += 1) {
      if (await condition()) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  const erase = (referralId: string, token = ADMIN_TOKEN, body: object = { reason: 'made-in-error' }) =>
    app.http().post(`/v1/admin/referrals/${referralId}/erasure`).set(bearer(token)).send(body);

  async function routed(agencyReference: string) {
    const body = validVictimReferral({ agencyReference, subject, riskAssessment: validRiskAssessment({ answers: answers(15) }) });
    const { body: accepted } = await app.http().post('/v1/referrals').set(bearer(tokens.police)).send(body).expect(202);
    const { body: referral } = await app.http().get(`/v1/referrals/${accepted.referralId}?waitForRoutes=5000`).set(bearer(tokens.police)).expect(200);
    const cases = Object.fromEntries((referral.routes as Array<{ provision: string; caseId: string }>).map((route) => [route.provision, route.caseId]));
    return { referral, cases };
  }

  async function close(provision: 'idva' | 'mash', caseId: string) {
    await app.http().post(`/v1/cases/${caseId}/claim`).set(bearer(tokens[provision])).send({}).expect(200);
    await app.http().post(`/v1/cases/${caseId}/close`).set(bearer(tokens[provision])).send({ outcome: 'other', note: 'referred about the wrong person' }).expect(200);
  }

  it('erases only for an admin, with a reason, once every case has ended; then nothing personal can be read anywhere', async () => {
    const { referral, cases } = await routed('ERASE-1');
    expect(Object.keys(cases).sort()).toEqual(['idva', 'mash']);
    expect(referral.agencyReference).toBe('ERASE-1');
    const caseBefore = await app.http().get(`/v1/cases/${cases.idva}`).set(bearer(tokens.idva)).expect(200);
    expect(JSON.stringify(caseBefore.body)).toContain('Wrongperson');

    // Only an admin; a valid reason; an existing referral.
    for (const token of [tokens.police, tokens.auditor, tokens.idva]) await erase(referral.referralId, token).expect(403);
    const bad = await erase(referral.referralId, ADMIN_TOKEN, { reason: 'because' }).expect(400);
    expect(bad.body.details).toEqual([expect.objectContaining({ field: 'reason' })]);
    await erase('00000000-0000-4000-8000-000000000000').expect(404);

    // A caseworker still working the person would lose the details mid-call.
    const working = await erase(referral.referralId).expect(409);
    expect(working.body.message ?? working.body.detail ?? JSON.stringify(working.body)).toMatch(/still being worked/);
    await close('idva', cases.idva);
    await close('mash', cases.mash);

    const { body: erased } = await erase(referral.referralId).expect(200);
    expect(erased).toEqual({ referralId: referral.referralId, reason: 'made-in-error', erasedAt: expect.any(String) });

    // The facts stay (risk, routes, dates); the person, the children's school and the caseworkers' notes are gone.
    const { body: status } = await app.http().get(`/v1/referrals/${referral.referralId}`).set(bearer(tokens.police)).expect(200);
    expect(status).toMatchObject({ riskLevel: 'high', agencyReference: null, flags: expect.arrayContaining(['personal-data-erased']) });
    expect(status.encompass).toEqual([expect.objectContaining({ school: null })]);
    const { body: caseAfter } = await app.http().get(`/v1/cases/${cases.idva}`).set(bearer(tokens.idva)).expect(200);
    expect(caseAfter).toMatchObject({ personalDataErased: true });
    const { body: history } = await app.http().get(`/v1/audit/referrals/${referral.referralId}/history`).set(bearer(tokens.auditor)).expect(200);
    for (const text of [JSON.stringify(caseAfter), JSON.stringify(history), JSON.stringify(status)]) {
      // The agency's reference too: it points at the agency's own record of the person.
      for (const personal of ['Wrongperson', 'Erin', 'Example Primary School', 'wrong person', '07700 900123', 'ERASE-1']) expect(text).not.toContain(personal);
    }

    // Each case says so on its stream, for the providers' own systems (the Kafka relay carries it).
    const store = app.app.get<EventStore>(EVENT_STORE);
    const caseTypes = async (caseId: string) => {
      const types: string[] = [];
      for await (const event of store.readStream(`case-${caseId}`)) types.push(event.type);
      return types;
    };
    // Sealed in the log from the start, like everything else personal: nowhere in clear.
    for await (const event of store.readAll()) expect(JSON.stringify(event.data).includes('ERASE-1')).toBe(false);
    await eventually(async () => (await caseTypes(cases.idva)).includes('CaseDetailsErased') && (await caseTypes(cases.mash)).includes('CaseDetailsErased'), 'each case told of the erasure');
    expect(await caseTypes(cases.idva)).toEqual(['CaseOpened', 'CaseClaimed', 'CaseClosed', 'CaseDetailsErased']);

    // The erasure is itself on the record: who, when, why, and nothing of what was erased.
    const record = (history.events as Array<{ type: string; actor: { role: string }; data: object }>).find((event) => event.type === 'ReferralErased');
    expect(record).toMatchObject({ actor: { role: 'admin' }, data: { referralId: referral.referralId, reason: 'made-in-error' } });
    expect(history.chainValid).toBe(true);

    // Nothing is left to route on, or to erase.
    await app.http().post(`/v1/referrals/${referral.referralId}/reassessments`).set(bearer(tokens.police)).send({ riskAssessment: validRiskAssessment() }).expect(409);
    await erase(referral.referralId).expect(409);
    // The same body again cannot be told from another referral now: the reference is spent, and the answer says why.
    const again = validVictimReferral({ agencyReference: 'ERASE-1', subject, riskAssessment: validRiskAssessment({ answers: answers(15) }) });
    const spent = await app.http().post('/v1/referrals').set(bearer(tokens.police)).send(again).expect(409);
    expect(spent.body.message).toMatch(/used for a referral since erased: send it with a new reference/);
    // Erased, not lost: its key is known to have been destroyed.
    expect((await app.http().get('/health').expect(200)).body).not.toHaveProperty('personalDataKeysMissing');
  });

  it('takes an erased referral out of repeat matching: the same person referred again is not a repeat of it', async () => {
    const first = await routed('ERASE-REPEAT-1');
    const second = await routed('ERASE-REPEAT-2');
    expect(second.referral.repeat).toMatchObject({ isRepeat: true, previousReferralIds: [first.referral.referralId] });
    // Erasing `first` needs its cases ended; `second` (routed since) keeps its own.
    for (const provision of ['idva', 'mash'] as const) await close(provision, first.cases[provision]);
    await erase(first.referral.referralId).expect(200);

    const third = await routed('ERASE-REPEAT-3');
    expect(third.referral.repeat.previousReferralIds).toEqual([second.referral.referralId]);
    expect(third.referral.repeat.previousReferralIds).not.toContain(first.referral.referralId);
    // Nor does the referral decided before the erasure link it any more, as its agency sees it.
    const { body: again } = await app.http().get(`/v1/referrals/${second.referral.referralId}`).set(bearer(tokens.police)).expect(200);
    expect(again.repeat).toMatchObject({ isRepeat: false, previousReferralIds: [] });
    expect(again.flags).not.toContain('repeat-victim');
  });

  it('records each erasure request in the access log, refused or done', async () => {
    const { referral } = await routed('ERASE-LOG');
    await erase(referral.referralId, tokens.police).expect(403);
    await erase(referral.referralId).expect(409); // its cases are still open
    type Entry = { route: string; statusCode: number };
    const entries = async () =>
      ((await app.http().get(`/v1/audit/access-log?referralId=${referral.referralId}`).set(bearer(tokens.auditor)).expect(200)).body.items as Entry[]).filter((entry) => entry.route.includes('erasure'));
    await eventually(async () => (await entries()).length === 2, 'the erasure requests in the access log');
    expect((await entries()).map((entry) => entry.statusCode).sort()).toEqual([403, 409]);
  });

  // Last: it stops the app's router and carries on with another on the same state file.
  it('refuses an erasure while a declined case is still to be referred on: the router is about to open a case', async () => {
    const body = validVictimReferral({ agencyReference: 'ERASE-DECLINE', subject: { lastName: 'Declineperson' }, children: [] });
    const { body: accepted } = await app.http().post('/v1/referrals').set(bearer(tokens.police)).send(body).expect(202);
    const referralId = accepted.referralId as string;
    const { body: referral } = await app.http().get(`/v1/referrals/${referralId}?waitForRoutes=5000`).set(bearer(tokens.police)).expect(200);
    const declined = (referral.routes as Array<{ provision: string; caseId: string }>).find((route) => route.provision === 'victim-support')!.caseId;

    // The router falls behind (busy, retrying, restarting): the decline waits for it.
    await (app.app.get(ROUTER) as Router).stop();
    await app.http().post(`/v1/cases/${declined}/decline`).set(bearer(tokens.vs)).send({ reason: 'needs more than we offer' }).expect(200);
    const refused = await erase(referralId).expect(409);
    expect(JSON.stringify(refused.body)).toMatch(/referred on or transferred now/);

    const store = app.app.get<EventStore>(EVENT_STORE);
    laterRouter = new Router(store, app.app.get(CODEC), app.app.get(VAULT), app.app.get(POLICY), openReadModelDb(path.join(app.dataDir, 'router-state.sqlite')));
    laterRouter.start();
    expect(await laterRouter.waitFor((await store.headPosition())!, 10_000)).toBe(true);
    // Referred on to outreach (the policy's fallback for Victim Support): that case is worked, so still no erasure.
    await eventually(async () => ((await app.http().get('/v1/queues/outreach').set(bearer(tokens.outreach))).body.items as Array<{ referralId: string }>).some((item) => item.referralId === referralId), 'the case referred on');
    const stillWorked = await erase(referralId).expect(409);
    expect(JSON.stringify(stillWorked.body)).toMatch(/still being worked/);
  });
});

describe('a key file older than the log (restored from an older backup): lost, not erased, and said so', () => {
  it('will not start on it; told to, it starts, shows the referral without what the missing key sealed, and health counts the key', async () => {
    let app = await TestApp.start();
    const { dataDir } = app;
    const police = (await app.createPrincipal({ role: 'referrer', name: 'Police desk', agency: 'hampshire-police' })).token;
    // The backup, taken before the first referral made any key.
    const backup = mkdtempSync(path.join(tmpdir(), 'spoc-key-backup-'));
    await app.close({ keepData: true });
    for (const file of readdirSync(dataDir).filter((name) => name.startsWith('subject-keys.sqlite'))) copyFileSync(path.join(dataDir, file), path.join(backup, file));
    app = await TestApp.start(dataDir);
    const { body: accepted } = await app.http().post('/v1/referrals').set(bearer(police)).send(validVictimReferral({ agencyReference: 'KEYS-RESTORED' })).expect(202);
    await app.close({ keepData: true });
    for (const file of readdirSync(dataDir).filter((name) => name.startsWith('subject-keys.sqlite'))) rmSync(path.join(dataDir, file));
    for (const file of readdirSync(backup)) copyFileSync(path.join(backup, file), path.join(dataDir, file));
    rmSync(backup, { recursive: true, force: true });

    await expect(TestApp.start(dataDir)).rejects.toThrow(/does not hold the key of the newest referral/);
    app = await TestApp.start(dataDir, { SPOC_ALLOW_NEW_KEY_FILE: 'true' });
    try {
      const { body: referral } = await app.http().get(`/v1/referrals/${accepted.referralId}`).set(bearer(police)).expect(200);
      expect(referral.agencyReference).toBeNull();
      expect((await app.http().get('/health').expect(200)).body).toMatchObject({ status: 'ok', personalDataKeysMissing: 1 });
      // Not called an erasure: it was not erased, and whoever reads this must look for the key.
      const refused = await app.http().post(`/v1/referrals/${accepted.referralId}/reassessments`).set(bearer(police)).send({ riskAssessment: validRiskAssessment() }).expect(409);
      expect(refused.body.message).toMatch(/its key is not in the key file/);
    } finally {
      await app.close();
    }
  }, 30_000);
});

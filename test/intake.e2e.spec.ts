import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { EVENT_STORE, type EventStore } from '@spoc/event-store';
import { validPerpetratorReferral, validRiskAssessment, validVictimReferral } from '../apps/api/src/referrals/referral.fixtures';
import { testEvent } from '../libs/event-store/src/testing/events';
import { ADMIN_TOKEN, bearer, TestApp } from './support/test-app';

const highRiskAnswers = () => Object.fromEntries(Array.from({ length: 24 }, (_, n) => [`Q${n + 1}`, n < 15 ? 'yes' : 'no']));

describe('referral intake over HTTP', () => {
  let app: TestApp;
  let police: string;
  let nhs: string;
  let auditor: string;
  let caseworker: string;

  beforeAll(async () => {
    // Intake on its own: routing (and the risk it may raise for a repeat MARAC case) is test/routing.e2e.spec.ts.
    app = await TestApp.start(undefined, { SPOC_RUN_ROUTER: 'false' });
    police = (await app.createPrincipal({ role: 'referrer', name: 'Police referral desk', agency: 'hampshire-police' })).token;
    nhs = (await app.createPrincipal({ role: 'referrer', name: 'GP practice', agency: 'solent-nhs' })).token;
    auditor = (await app.createPrincipal({ role: 'auditor', name: 'Safeguarding board' })).token;
    caseworker = (await app.createPrincipal({ role: 'caseworker', name: 'IDVA', provision: 'idva' })).token;
  });
  afterAll(() => app.close());

  const post = (token: string, body: unknown) => app.http().post('/v1/referrals').set(bearer(token)).send(body as object);

  describe('who may call', () => {
    it('answers 401 without a token or with an unknown one', async () => {
      await app.http().post('/v1/referrals').send(validVictimReferral()).expect(401);
      await app.http().get('/v1/referrals/3f1e6a0c-2b7d-4c55-9d0e-8f6a1b2c3d4e').set(bearer('spoc_not-a-real-token-at-all')).expect(401);
    });

    it('answers 403 to a role the route does not allow', async () => {
      await post(auditor, validVictimReferral({ agencyReference: 'AUD-1' })).expect(403);
      await post(caseworker, validVictimReferral({ agencyReference: 'CW-1' })).expect(403);
      await app.http().post('/v1/admin/principals').set(bearer(police)).send({ role: 'admin', name: 'x' }).expect(403);
    });

    it('stops a revoked token at once', async () => {
      const temporary = await app.createPrincipal({ role: 'referrer', name: 'Temporary', agency: 'portsmouth-housing' });
      await post(temporary.token, validVictimReferral({ agencyReference: 'TMP-1' })).expect(202);

      await app.http().delete(`/v1/admin/principals/${temporary.id}`).set(bearer(ADMIN_TOKEN)).expect(204);

      await post(temporary.token, validVictimReferral({ agencyReference: 'TMP-2' })).expect(401);
      // A retried revocation is answered the same, once in force.
      await app.http().delete(`/v1/admin/principals/${temporary.id}`).set(bearer(ADMIN_TOKEN)).expect(204);
    });

    it('checks the principal it creates: a referrer needs an agency, a caseworker a provision', async () => {
      const response = await app.http().post('/v1/admin/principals').set(bearer(ADMIN_TOKEN)).send({ role: 'caseworker', name: 'x', agency: 'a-b' });
      expect(response.status).toBe(400);
      expect(response.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['agency', 'provision']);
    });
  });

  describe('receiving a referral', () => {
    it('accepts a victim referral, scores it, and shows it to its own agency', async () => {
      const body = validVictimReferral({ agencyReference: 'HC-1', riskAssessment: validRiskAssessment({ answers: highRiskAnswers() }) });

      const response = await post(police, body).expect(202);

      expect(response.body).toEqual({ referralId: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'received' });
      expect(response.headers.location).toBe(`/v1/referrals/${response.body.referralId}`);
      const read = await app.http().get(response.headers.location).set(bearer(police)).expect(200);
      expect(read.body).toMatchObject({
        referralId: response.body.referralId,
        agencyReference: 'HC-1',
        status: 'received',
        riskLevel: 'high',
        riskCriteria: ['dash-score>=14'],
        dashScore: 15,
        routes: [],
        policyVersion: 'portsmouth-2026-1',
      });
    });

    it('hides a referral from another agency (404, existence not revealed) and shows it to an auditor', async () => {
      const { body } = await post(police, validVictimReferral({ agencyReference: 'HC-2' })).expect(202);

      const other = await app.http().get(`/v1/referrals/${body.referralId}`).set(bearer(nhs)).expect(404);
      await app.http().get(`/v1/referrals/3f1e6a0c-2b7d-4c55-9d0e-8f6a1b2c3d4e`).set(bearer(nhs)).expect(404);
      expect(JSON.stringify(other.body)).not.toContain('HC-2');
      await app.http().get(`/v1/referrals/${body.referralId}`).set(bearer(auditor)).expect(200);
      await app.http().get(`/v1/referrals/${body.referralId}`).set(bearer(caseworker)).expect(403);
    });

    it('scores each level from the checklist: standard, medium, and high on call-outs or judgement', async () => {
      const level = async (reference: string, assessment: object) => {
        const { body } = await post(police, validVictimReferral({ agencyReference: reference, riskAssessment: validRiskAssessment(assessment) })).expect(202);
        return (await app.http().get(`/v1/referrals/${body.referralId}`).set(bearer(police))).body;
      };
      const tenYes = Object.fromEntries(Array.from({ length: 24 }, (_, n) => [`Q${n + 1}`, n < 10 ? 'yes' : 'not-known']));

      expect(await level('LV-1', {})).toMatchObject({ riskLevel: 'standard', dashScore: 6 });
      expect(await level('LV-2', { answers: tenYes })).toMatchObject({ riskLevel: 'medium', riskCriteria: ['dash-score>=10'] });
      expect(await level('LV-3', { policeCalloutsLast12Months: 3 })).toMatchObject({ riskLevel: 'high', riskCriteria: ['escalation:callouts>=3'] });
      expect(await level('LV-4', { professionalJudgement: { highRisk: true, rationale: 'threats to kill' } })).toMatchObject({
        riskLevel: 'high',
        riskCriteria: ['professional-judgement'],
      });
    });

    it('accepts a perpetrator referral, which has no risk level', async () => {
      const { body } = await post(police, validPerpetratorReferral({ agencyReference: 'PERP-1' })).expect(202);
      const read = await app.http().get(`/v1/referrals/${body.referralId}`).set(bearer(police)).expect(200);
      expect(read.body).toMatchObject({ referralType: 'perpetrator', riskLevel: null, dashScore: null });
    });

    it('accepts a child-to-parent referral with its checklist', async () => {
      const body = validVictimReferral({
        agencyReference: 'CTP-1',
        referralType: 'child-to-parent',
        otherParty: { firstName: 'Kai', dateOfBirth: '2011-02-03', gender: 'male', relationship: 'child' },
      });
      await post(police, body).expect(202);
    });

    it('rescores a reassessment and keeps the referral', async () => {
      const { body } = await post(police, validVictimReferral({ agencyReference: 'RA-1' })).expect(202);

      await app.http()
        .post(`/v1/referrals/${body.referralId}/reassessments`)
        .set(bearer(police))
        .send({ riskAssessment: validRiskAssessment({ answers: highRiskAnswers() }) })
        .expect(202);

      const read = await app.http().get(`/v1/referrals/${body.referralId}`).set(bearer(police)).expect(200);
      expect(read.body).toMatchObject({ riskLevel: 'high', dashScore: 15 });
      await app.http().post(`/v1/referrals/${body.referralId}/reassessments`).set(bearer(nhs)).send({ riskAssessment: validRiskAssessment() }).expect(404);
      await app.http().post(`/v1/referrals/${body.referralId}/reassessments`).set(bearer(police)).send({ riskAssessment: {} }).expect(400);
    });
  });

  describe('bad input', () => {
    it('lists every problem with its field path, and echoes no submitted value', async () => {
      const body = validVictimReferral({
        agencyReference: 'BAD-1',
        referralType: 'stranger',
        subject: { dateOfBirth: '2099-01-01', lastName: 'Zebedee-Secret-123' },
        children: [{ firstName: 'Jo', dateOfBirth: '2021-02-30', livesInHousehold: true, presentAtIncident: false }],
        riskAssessment: validRiskAssessment({ professionalJudgement: { highRisk: true, rationale: null } }),
        favouriteColour: 'Zebedee-Secret-123',
      });
      delete body.riskAssessment.answers.Q7;
      body.riskAssessment.answers.Q25 = 'yes';

      const response = await post(police, body).expect(400);

      expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      const fields = response.body.details.map((detail: { field: string }) => detail.field);
      expect(fields).toEqual(
        expect.arrayContaining([
          'referralType',
          'subject.dateOfBirth',
          'children[0].dateOfBirth',
          'riskAssessment.answers.Q7',
          'riskAssessment.answers.Q25',
          'riskAssessment.professionalJudgement.rationale',
          'favouriteColour',
        ]),
      );
      expect(JSON.stringify(response.body)).not.toContain('Zebedee');
      expect(JSON.stringify(response.body)).not.toContain('2099');
    });

    it('requires a checklist for victim referrals and a programme answer for perpetrator referrals', async () => {
      const victim = await post(police, validVictimReferral({ agencyReference: 'BAD-2', riskAssessment: undefined })).expect(400);
      expect(victim.body.details).toEqual([expect.objectContaining({ field: 'riskAssessment' })]);
      const perpetrator = await post(police, validPerpetratorReferral({ agencyReference: 'BAD-3', perpetratorProgramme: undefined })).expect(400);
      expect(perpetrator.body.details).toEqual([expect.objectContaining({ field: 'perpetratorProgramme' })]);
    });

    it("requires the referrer's reason when a high-risk referral goes ahead without consent, and stores nothing without it", async () => {
      const riskAssessment = validRiskAssessment({ answers: highRiskAnswers() });
      const withheld = (notes: string | null) => validVictimReferral({ agencyReference: 'NO-CONSENT-1', riskAssessment, consent: { given: false, lawfulBasis: 'vital-interests', notes } });
      const refused = await post(police, withheld(null)).expect(400);
      expect(refused.body.details).toEqual([{ field: 'consent.notes', problem: expect.stringMatching(/required when a high-risk referral goes ahead without consent/) }]);
      const accepted = await post(police, withheld('MARAC must hear it: threats to kill')).expect(202);
      await app.http().get(`/v1/referrals/${accepted.body.referralId}`).set(bearer(police)).expect(200);
    });

    it('answers 400 for malformed JSON, 415 for a body that is not JSON, 413 over 256 KiB', async () => {
      const malformed = await app.http().post('/v1/referrals').set(bearer(police)).set('Content-Type', 'application/json').send('{"agencyReference": "Zebedee"');
      expect(malformed.status).toBe(400);
      expect(JSON.stringify(malformed.body)).not.toContain('Zebedee');
      await app.http().post('/v1/referrals').set(bearer(police)).set('Content-Type', 'text/plain').send('hello').expect(415);
      const huge = validVictimReferral({ agencyReference: 'BIG-1', incident: { policeAttended: false, summary: 'x'.repeat(270 * 1024) } });
      const tooLarge = await post(police, huge);
      expect(tooLarge.status).toBe(413);
      expect(tooLarge.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
    });

    it('answers a body that is not an object with 400', async () => {
      await app.http().post('/v1/referrals').set(bearer(police)).set('Content-Type', 'application/json').send('[1,2]').expect(400);
      await app.http().post('/v1/referrals').set(bearer(police)).set('Content-Type', 'application/json').send('null').expect(400);
    });
  });

  describe('idempotency on the agency reference', () => {
    it('returns the same referral for the same body (200) and refuses a different body (409)', async () => {
      const body = validVictimReferral({ agencyReference: 'IDEM-1' });
      const first = await post(police, body).expect(202);

      const again = await post(police, validVictimReferral({ agencyReference: 'IDEM-1' })).expect(200);
      const changed = await post(police, validVictimReferral({ agencyReference: 'IDEM-1', subject: { postcode: 'PO1 1AA' } })).expect(409);

      expect(again.body.referralId).toBe(first.body.referralId);
      expect(changed.body).toMatchObject({ statusCode: 409, error: 'Conflict' });
    });

    it('keeps references of different agencies apart', async () => {
      const a = await post(police, validVictimReferral({ agencyReference: 'SHARED-1' })).expect(202);
      const b = await post(nhs, validVictimReferral({ agencyReference: 'SHARED-1' })).expect(202);
      expect(a.body.referralId).not.toBe(b.body.referralId);
    });

    it('makes exactly one referral of 20 concurrent posts of one reference', async () => {
      const responses = await Promise.all(Array.from({ length: 20 }, () => post(police, validVictimReferral({ agencyReference: 'RACE-1' }))));

      const statuses = responses.map((response) => response.status).sort();
      expect(statuses).toEqual([200, ...Array(18).fill(200), 202].sort());
      expect(new Set(responses.map((response) => response.body.referralId)).size).toBe(1);
      const events = new Database(path.join(app.dataDir, 'events.sqlite'), { readonly: true });
      const count = events.prepare("SELECT count(*) AS n FROM events WHERE stream_id = ? AND type = 'ReferralReceived'").get(`referral-${responses[0].body.referralId}`) as { n: number };
      events.close();
      expect(count.n).toBe(1);
    });
  });

  describe('keys', () => {
    it('spends no key on a retry: a key file backed up apart does not grow with retried posts', async () => {
      const body = validVictimReferral({ agencyReference: 'RETRY-KEYS' });
      await post(police, body).expect(202);
      const keyRows = () => {
        const keys = new Database(path.join(app.dataDir, 'subject-keys.sqlite'), { readonly: true });
        const { n } = keys.prepare('SELECT count(*) AS n FROM subject_keys').get() as { n: number };
        keys.close();
        return n;
      };
      const before = keyRows();
      // More retries than one batch of keys (500): were each to take a key, the file would grow by a batch.
      for (let round = 0; round < 26; round += 1) await Promise.all(Array.from({ length: 20 }, () => post(police, body).expect(200)));
      // Nor on a referral refused by its rules (high risk without consent needs a reason).
      const refused = validVictimReferral({ agencyReference: 'REFUSED-KEYS', riskAssessment: validRiskAssessment({ answers: highRiskAnswers() }), consent: { given: false, lawfulBasis: 'vital-interests', notes: null } });
      for (let round = 0; round < 26; round += 1) await Promise.all(Array.from({ length: 20 }, () => post(police, refused).expect(400)));
      expect(keyRows()).toBe(before);
    }, 60_000);
  });

  describe('personal data at rest', () => {
    it('stores the referral with its personal data sealed, and the actor and correlation id in the metadata', async () => {
      const { body } = await post(police, validVictimReferral({ agencyReference: 'SEAL-1', subject: { lastName: 'Quimby-Unique' } }))
        .set('x-correlation-id', '0d6f3c1e-7a4b-4c2d-9e8f-1a2b3c4d5e6f')
        .expect(202);

      const raw = readFileSync(path.join(app.dataDir, 'events.sqlite')).toString('latin1') + readFileSync(path.join(app.dataDir, 'events.sqlite-wal')).toString('latin1');
      expect(raw).not.toContain('Quimby-Unique');
      const events = new Database(path.join(app.dataDir, 'events.sqlite'), { readonly: true });
      const rows = events.prepare('SELECT type, metadata, data FROM events WHERE stream_id = ? ORDER BY revision').all(`referral-${body.referralId}`) as Array<{ type: string; metadata: string; data: string }>;
      events.close();
      expect(rows.map((row) => row.type)).toEqual(['ReferralReceived', 'RiskAssessed']);
      expect(JSON.parse(rows[0].metadata)).toMatchObject({
        actor: { role: 'referrer', agency: 'hampshire-police' },
        correlationId: '0d6f3c1e-7a4b-4c2d-9e8f-1a2b3c4d5e6f',
      });
      expect(JSON.parse(rows[0].data).submission).toMatchObject({ sealed: 'aes-256-gcm' });
    });
  });
});

describe('intake across a restart', () => {
  it('keeps every referral and principal when the app is closed and opened on the same directory', async () => {
    const first = await TestApp.start();
    const { token } = await first.createPrincipal({ role: 'referrer', name: 'Desk', agency: 'hampshire-police' });
    const ids: string[] = [];
    for (let n = 0; n < 5; n += 1) {
      const { body } = await first.http().post('/v1/referrals').set(bearer(token)).send(validVictimReferral({ agencyReference: `RS-${n}` })).expect(202);
      ids.push(body.referralId);
    }
    await first.close({ keepData: true });

    const second = await TestApp.start(first.dataDir);
    try {
      for (const id of ids) await second.http().get(`/v1/referrals/${id}`).set(bearer(token)).expect(200);
      const retry = await second.http().post('/v1/referrals').set(bearer(token)).send(validVictimReferral({ agencyReference: 'RS-0' })).expect(200);
      expect(retry.body.referralId).toBe(ids[0]);
    } finally {
      await second.close({ keepData: true });
    }
    // Opened again without its key file (moved, or lost): it refuses to start rather than make a new, empty one.
    for (const suffix of ['', '-wal', '-shm']) rmSync(path.join(first.dataDir, `subject-keys.sqlite${suffix}`), { force: true });
    await expect(TestApp.start(first.dataDir)).rejects.toThrow(/the log holds events but there is no key file/);
    expect(existsSync(path.join(first.dataDir, 'subject-keys.sqlite'))).toBe(false);
    rmSync(first.dataDir, { recursive: true, force: true });
  });
});

describe('tokens, while the read models are stopped', () => {
  it('refuses every token from the list of principals with 503, since one revoked since would still pass', async () => {
    const app = await TestApp.start(undefined, { SPOC_RUN_ROUTER: 'false' });
    try {
      const { id: policeId, token: police } = await app.createPrincipal({ role: 'referrer', name: 'Police referral desk', agency: 'hampshire-police' });
      await app.http().get(`/v1/referrals/${randomUUID()}`).set(bearer(police)).expect(404);
      // A malformed case event in the log: the read models stop at it rather than skip it.
      await app.app.get<EventStore>(EVENT_STORE).append(`case-${randomUUID()}`, [testEvent('CaseOpened', {})], 'no-stream');
      let health = await app.http().get('/health');
      for (const deadline = Date.now() + 10_000; health.status === 200 && Date.now() < deadline; ) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        health = await app.http().get('/health');
      }
      expect(health.status).toBe(503);
      const refused = await app.http().get(`/v1/referrals/${randomUUID()}`).set(bearer(police));
      expect(refused.status).toBe(503);
      expect(refused.body.message).toBe('tokens cannot be checked while the read models are stopped: see /health');
      // Nor is a revocation answered 204 while the token index cannot take it.
      const revoked = await app.http().delete(`/v1/admin/principals/${policeId}`).set(bearer(ADMIN_TOKEN));
      expect(revoked.status).toBe(503);
      expect(revoked.body.message).toMatch(/recorded but not yet in force/);
    } finally {
      await app.close();
    }
  });
});

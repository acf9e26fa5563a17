import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { validRiskAssessment, validVictimReferral } from '../apps/api/src/referrals/referral.fixtures';
import { bearer, TestApp } from './support/test-app';

const answers = (yes: number) => Object.fromEntries(Array.from({ length: 24 }, (_, n) => [`Q${n + 1}`, n < yes ? 'yes' : 'no']));
const ROOT = path.resolve(__dirname, '..');

interface HistoryEvent {
  position: string;
  streamId: string;
  revision: string;
  type: string;
  actor: Record<string, unknown>;
  data: Record<string, any>;
  hash: string;
  previousHash: string | null;
}

interface AccessEntry {
  actor: { id: string; role: string; agency?: string } | null;
  route: string;
  referralIds: string[];
  caseIds: string[];
  outcome: string;
  statusCode: number;
}

describe('the audit over HTTP', () => {
  let app: TestApp;
  let police: { id: string; token: string };
  let nhs: { id: string; token: string };
  let idva: { id: string; token: string };
  let auditor: { id: string; token: string };
  let referral: { referralId: string; routes: Array<{ provision: string; caseId: string; ruleIds: string[] }> };

  /** Posts a referral and waits for its routes and for every case it opened to be in the log. */
  async function routed(agencyReference: string) {
    const body = validVictimReferral({ agencyReference, riskAssessment: validRiskAssessment({ answers: answers(15) }) });
    const { body: accepted } = await app.http().post('/v1/referrals').set(bearer(police.token)).send(body).expect(202);
    const { body: read } = await app.http().get(`/v1/referrals/${accepted.referralId}?waitForRoutes=5000`).set(bearer(police.token)).expect(200);
    if (!read.routedAt) throw new Error('the referral was not routed in time');
    await eventually(async () => {
      const history = await app.http().get(`/v1/audit/referrals/${read.referralId}/history`).set(bearer(auditor.token));
      return history.body.events.filter((event: HistoryEvent) => event.type === 'CaseOpened').length === read.routes.length;
    });
    return read;
  }

  async function eventually(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > until) throw new Error('condition not met in time');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  const accessLog = async (query: string): Promise<{ items: AccessEntry[]; nextCursor: string | null }> =>
    (await app.http().get(`/v1/audit/access-log?${query}`).set(bearer(auditor.token)).expect(200)).body;

  beforeAll(async () => {
    app = await TestApp.start();
    police = await app.createPrincipal({ role: 'referrer', name: 'Police desk', agency: 'hampshire-police' });
    nhs = await app.createPrincipal({ role: 'referrer', name: 'GP practice', agency: 'solent-nhs' });
    idva = await app.createPrincipal({ role: 'caseworker', name: 'IDVA', provision: 'idva' });
    auditor = await app.createPrincipal({ role: 'auditor', name: 'Safeguarding board' });
    referral = await routed('AUD-1');
  });
  afterAll(() => app.close());

  describe('history', () => {
    it('lists the referral and its cases, event by event in log order, with who did what and an intact chain', async () => {
      const { body } = await app.http().get(`/v1/audit/referrals/${referral.referralId}/history`).set(bearer(auditor.token)).expect(200);

      const caseStreams = referral.routes.map((route) => `case-${route.caseId}`).sort();
      expect(referral.routes.map((route) => route.provision).sort()).toEqual(['idva', 'mash']);
      expect(body.events.map((event: HistoryEvent) => event.type)).toEqual(['ReferralReceived', 'RiskAssessed', 'ReferralRouted', 'CaseOpened', 'CaseOpened']);
      expect(body.events.slice(3).map((event: HistoryEvent) => event.streamId).sort()).toEqual(caseStreams);
      const positions = body.events.map((event: HistoryEvent) => BigInt(event.position));
      expect(positions.every((position: bigint, n: number) => n === 0 || position > positions[n - 1])).toBe(true);

      const [received, assessed, decided] = body.events as HistoryEvent[];
      expect(received).toMatchObject({ streamId: `referral-${referral.referralId}`, revision: '0', previousHash: null, actor: { id: police.id, role: 'referrer', agency: 'hampshire-police' } });
      expect(assessed).toMatchObject({ revision: '1', previousHash: received.hash });
      expect(decided).toMatchObject({ revision: '2', previousHash: assessed.hash, actor: { role: 'system' } });
      // The auditor sees what was known: personal data is opened for this read (and the read is logged).
      expect(received.data.submission.subject).toMatchObject({ firstName: 'Sam', lastName: 'Taylor' });
      expect(decided.data.schools).toEqual({ 0: 'Example Primary School' });
      expect(body).toMatchObject({ referralId: referral.referralId, chainValid: true, firstBrokenEvent: null });
    });

    it('answers 404 for a referral that does not exist and for an id that is not one', async () => {
      await app.http().get(`/v1/audit/referrals/${randomUUID()}/history`).set(bearer(auditor.token)).expect(404);
      await app.http().get('/v1/audit/referrals/not-a-uuid/history').set(bearer(auditor.token)).expect(404);
      await app.http().get(`/v1/audit/referrals/${randomUUID()}/decisions`).set(bearer(auditor.token)).expect(404);
    });
  });

  it('is for auditors only: 403 to a referrer, a caseworker and an admin, 401 without a token', async () => {
    const routes = [`/v1/audit/referrals/${referral.referralId}/history`, `/v1/audit/referrals/${referral.referralId}/decisions`, '/v1/audit/access-log'];
    for (const route of routes) {
      await app.http().get(route).set(bearer(police.token)).expect(403);
      await app.http().get(route).set(bearer(idva.token)).expect(403);
      await app.http().get(route).set(bearer('e2e-bootstrap-admin-token-000000')).expect(403);
      await app.http().get(route).expect(401);
    }
  });

  it('shows each routing decision with its policy version, facts and rules fired, and a re-evaluation that agrees', async () => {
    const { body } = await app.http().get(`/v1/audit/referrals/${referral.referralId}/decisions`).set(bearer(auditor.token)).expect(200);

    expect(body.decisions).toHaveLength(1);
    const [decision] = body.decisions;
    expect(decision).toMatchObject({
      decisionNumber: 0,
      policyVersion: 'portsmouth-2026-1',
      facts: { referralId: referral.referralId, riskLevel: 'high', policeAttended: true, children: [expect.objectContaining({ hasSchool: true })] },
      rulesFired: expect.arrayContaining(['high-risk', 'children-in-household', 'encompass']),
      reEvaluation: { policyFound: true, sameRoutes: true, sameRulesFired: true, sameOutcome: true, mismatches: [] },
    });
    expect(decision.routes.map((route: { caseId: string }) => route.caseId).sort()).toEqual(referral.routes.map((route) => route.caseId).sort());
    // The facts carry whether a school was named, never which school.
    expect(JSON.stringify(decision)).not.toContain('Example Primary School');
  });

  it('never lets an auditor write: every POST and DELETE route of the API document answers 403', async () => {
    const { body: document } = await app.http().get('/docs-json').expect(200);
    const writes = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(([route, methods]) =>
      Object.keys(methods)
        .filter((method) => ['post', 'put', 'patch', 'delete'].includes(method))
        .map((method) => ({ method, url: route.replace(/\{[^}]+\}/g, randomUUID()) })),
    );
    expect(writes.length).toBeGreaterThanOrEqual(5);

    const answers: string[] = [];
    for (const { method, url } of writes) {
      const response = await (app.http() as unknown as Record<string, (url: string) => import('supertest').Test>)[method](url).set(bearer(auditor.token)).send({});
      answers.push(`${method.toUpperCase()} ${url.replace(/[0-9a-f-]{36}/g, ':id')} → ${response.status}`);
    }
    expect(answers.filter((answer) => !answer.endsWith('→ 403'))).toEqual([]);
  });

  describe('access log', () => {
    it("records a referrer's read as allowed and another agency's attempt as denied, by route pattern", async () => {
      await app.http().get(`/v1/referrals/${referral.referralId}`).set(bearer(police.token)).expect(200);
      await app.http().get(`/v1/referrals/${referral.referralId}`).set(bearer(nhs.token)).expect(404);
      await app.http().get(`/v1/referrals/${referral.referralId}`).expect(401);

      const { items } = await accessLog(`referralId=${referral.referralId}&limit=500`);

      const reads = items.filter((item) => item.route === 'GET /v1/referrals/:id');
      expect(reads).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ actor: { id: police.id, role: 'referrer', agency: 'hampshire-police' }, outcome: 'allowed', statusCode: 200, referralIds: [referral.referralId] }),
          expect.objectContaining({ actor: { id: nhs.id, role: 'referrer', agency: 'solent-nhs' }, outcome: 'denied', statusCode: 404, referralIds: [referral.referralId] }),
        ]),
      );
      // A request without a valid token consulted nothing and names no one: counted in metrics, not kept in the log.
      expect(reads.filter((item) => item.statusCode === 401)).toEqual([]);
      // Ids and route patterns only: nothing of the referral itself.
      expect(JSON.stringify(items)).not.toMatch(/Taylor|Example Primary|07700/);
    });

    it("records the auditor's own audit reads, with the cases the history showed", async () => {
      await app.http().get(`/v1/audit/referrals/${referral.referralId}/history`).set(bearer(auditor.token)).expect(200);
      await app.http().get(`/v1/audit/referrals/${referral.referralId}/decisions`).set(bearer(auditor.token)).expect(200);
      await accessLog(`referralId=${referral.referralId}`);

      const { items } = await accessLog(`actorId=${auditor.id}&limit=500`);

      const audits = items.filter((item) => item.route.startsWith('GET /v1/audit/'));
      expect(new Set(audits.map((item) => item.route))).toEqual(new Set(['GET /v1/audit/referrals/:id/history', 'GET /v1/audit/referrals/:id/decisions', 'GET /v1/audit/access-log']));
      // The write attempts of the read-only test above are on the record too, each refused.
      const others = items.filter((item) => !item.route.startsWith('GET /v1/audit/'));
      expect(others.map((item) => item.route)).toContain('POST /v1/referrals');
      expect(others.every((item) => item.outcome === 'denied' && item.statusCode === 403)).toBe(true);
      const history = items.filter((item) => item.route === 'GET /v1/audit/referrals/:id/history').pop()!;
      expect(history).toMatchObject({ actor: { id: auditor.id, role: 'auditor' }, outcome: 'allowed', referralIds: [referral.referralId] });
      expect(history.caseIds.sort()).toEqual(referral.routes.map((route) => route.caseId).sort());
      expect(items.find((item) => item.route === 'GET /v1/audit/access-log' && item.referralIds[0] === referral.referralId)).toBeDefined();
    });

    it('filters by referral, actor and time, and pages with the cursor', async () => {
      const since = new Date().toISOString();
      for (let n = 0; n < 3; n += 1) await app.http().get(`/v1/referrals/${referral.referralId}`).set(bearer(police.token)).expect(200);

      const all = await accessLog(`actorId=${police.id}&referralId=${referral.referralId}&from=${since}`);
      expect(all.items).toHaveLength(3);
      expect(all.nextCursor).toBeNull();

      const first = await accessLog(`actorId=${police.id}&from=${since}&limit=2`);
      expect(first.items).toHaveLength(2);
      const second = await accessLog(`actorId=${police.id}&from=${since}&limit=2&cursor=${first.nextCursor}`);
      expect(second).toMatchObject({ items: [expect.objectContaining({ route: 'GET /v1/referrals/:id' })], nextCursor: null });
      expect(new Set([...first.items, ...second.items].map((item) => JSON.stringify(item))).size).toBe(3);

      expect((await accessLog(`actorId=${police.id}&to=2000-01-01`)).items).toEqual([]);
      expect((await accessLog(`from=2999-01-01`)).items).toEqual([]);
      expect((await accessLog(`actorId=${nhs.id}&from=${since}`)).items).toEqual([]);
      expect((await accessLog(`referralId=${randomUUID()}`)).items).toEqual([]);
    });

    it('keeps the records of reads answered just before a clean shutdown', async () => {
      const other = await TestApp.start(undefined, { SPOC_RUN_ROUTER: 'false' });
      const reader = await other.createPrincipal({ role: 'referrer', name: 'Police desk', agency: 'hampshire-police' });
      const ids = Array.from({ length: 5 }, () => randomUUID());
      for (const id of ids) await other.http().get(`/v1/referrals/${id}`).set(bearer(reader.token)).expect(404);
      await other.close({ keepData: true });

      const again = await TestApp.start(other.dataDir, { SPOC_RUN_ROUTER: 'false' });
      try {
        const reviewer = await again.createPrincipal({ role: 'auditor', name: 'Board' });
        const { body } = await again.http().get(`/v1/audit/access-log?actorId=${reader.id}`).set(bearer(reviewer.token)).expect(200);
        expect(body.items.map((item: AccessEntry) => item.referralIds[0])).toEqual(ids);
      } finally {
        await again.close();
      }
    });

    it('lists every problem with the query in one 400', async () => {
      const response = await app.http().get('/v1/audit/access-log?referralId=x&actorId=a%20b&from=2026-02-30&to=soon&limit=501&cursor=nope').set(bearer(auditor.token)).expect(400);
      expect(response.body.details.map((detail: { field: string }) => detail.field).sort()).toEqual(['actorId', 'cursor', 'from', 'limit', 'referralId', 'to']);
      const backwards = await app.http().get('/v1/audit/access-log?from=2026-11-24&to=2026-11-23').set(bearer(auditor.token)).expect(400);
      expect(backwards.body.details).toEqual([{ field: 'to', problem: 'must not be before from' }]);
    });
  });

  // Last: it alters the store behind the app's back.
  it('catches an event altered in the SQLite file, in the history and in npm run audit:verify', async () => {
    const victim = await routed('AUD-TAMPER');
    const streamId = `referral-${victim.referralId}`;
    const file = new Database(path.join(app.dataDir, 'events.sqlite'));
    file.prepare(`UPDATE events SET data = json_set(data, '$.level', 'standard') WHERE stream_id = ? AND revision = 1`).run(streamId);
    const altered = file.prepare('SELECT position, event_id FROM events WHERE stream_id = ? AND revision = 1').get(streamId) as { position: number; event_id: string };
    file.close();

    const { body } = await app.http().get(`/v1/audit/referrals/${victim.referralId}/history`).set(bearer(auditor.token)).expect(200);
    expect(body).toMatchObject({
      chainValid: false,
      firstBrokenEvent: { streamId, revision: '1', position: String(altered.position), eventId: altered.event_id, reason: 'content does not match its hash' },
    });
    const untouched = await app.http().get(`/v1/audit/referrals/${referral.referralId}/history`).set(bearer(auditor.token)).expect(200);
    expect(untouched.body.chainValid).toBe(true);

    const verify = spawnSync(process.execPath, ['-r', path.join(ROOT, 'tools/ts-register.js'), path.join(ROOT, 'apps/api/src/audit/verify-chains.ts')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, SPOC_DATA_DIR: app.dataDir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(verify.status).toBe(1);
    expect(verify.stdout).toContain(`BROKEN ${streamId} at revision 1 (position ${altered.position}, event ${altered.event_id}): content does not match its hash`);
    expect(verify.stdout).toMatch(/: 1 broken\n/);
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EVENT_STORE, type EventStore } from '@spoc/event-store';
import { readTopics, type ReadMessage } from '../libs/kafka-relay/src/testing/topic-reader';
import { testEvent } from '../libs/event-store/src/testing/events';
import { validRiskAssessment, validVictimReferral } from '../apps/api/src/referrals/referral.fixtures';
import { bearer, TestApp } from './support/test-app';

/**
 * The relay wired into the running service. The broker is shared between test runs, so every referral has a
 * reference of its own (hence its own case ids) and a reader keeps only the messages keyed by this run's cases.
 */
const brokerList = process.env.KAFKA_BROKERS ?? '';
const brokers = brokerList.split(',').map((broker) => broker.trim()).filter(Boolean);
const root = path.resolve(__dirname, '..');
const answers = (yes: number) => Object.fromEntries(Array.from({ length: 24 }, (_, n) => [`Q${n + 1}`, n < yes ? 'yes' : 'no']));
const OPENED = 'org.spoc.case.opened.v1';
/** An in-process router that is keeping up: what health shows beside the rest. */
const ROUTER_OK = { checkpoint: expect.stringMatching(/^\d+$/), retrying: 0 };

async function policeToken(app: TestApp): Promise<string> {
  return (await app.createPrincipal({ role: 'referrer', name: 'Police desk', agency: 'hampshire-police' })).token;
}

/** A high-risk victim referral, posted and routed; returns the referral id and its IDVA case id. */
async function routedHighRisk(app: TestApp, token: string): Promise<{ referralId: string; caseId: string }> {
  const body = validVictimReferral({
    agencyReference: `KAFKA-${randomUUID()}`,
    subject: { firstName: 'Kestrel', lastName: 'Brokerfield' },
    riskAssessment: validRiskAssessment({ answers: answers(15) }),
  });
  const { body: accepted } = await app.http().post('/v1/referrals').set(bearer(token)).send(body).expect(202);
  const { body: referral } = await app.http().get(`/v1/referrals/${accepted.referralId}?waitForRoutes=5000`).set(bearer(token)).expect(200);
  const idva = referral.routes?.find((route: { provision: string }) => route.provision === 'idva');
  if (!idva?.caseId) throw new Error('the referral was not routed to the IDVA in time');
  return { referralId: accepted.referralId, caseId: idva.caseId };
}

function readOpened(caseId: string): Promise<ReadMessage[]> {
  return readTopics(brokers, ['spoc.cases.idva'], new Set([caseId]), (messages) => messages.some((message) => message.headers.ce_type === OPENED), { timeoutMs: 30_000 });
}

function expectOpened(messages: ReadMessage[], referralId: string, caseId: string): void {
  const opened = messages.find((message) => message.headers.ce_type === OPENED);
  expect(opened?.headers).toMatchObject({ ce_specversion: '1.0', ce_type: OPENED, ce_subject: caseId, ce_source: '/spoc/cases' });
  expect(JSON.parse(opened!.value)).toMatchObject({ caseId, referralId, provision: 'idva', status: 'awaiting', routeStatus: 'routed', riskLevel: 'high' });
  expect(opened!.value).not.toMatch(/Kestrel|Brokerfield/);
}

(brokers.length > 0 ? describe : describe.skip)('case events reach Kafka from the running service', () => {
  jest.setTimeout(90_000);

  it('embedded: the API that runs the router publishes the IDVA case of a high-risk referral to spoc.cases.idva', async () => {
    const app = await TestApp.start(undefined, { KAFKA_BROKERS: brokerList });
    try {
      const { referralId, caseId } = await routedHighRisk(app, await policeToken(app));
      expectOpened(await readOpened(caseId), referralId, caseId);

      expect(existsSync(path.join(app.dataDir, 'kafka-relay.sqlite'))).toBe(true);
      const health = await app.http().get('/health').expect(200);
      expect(health.body).toEqual({ status: 'ok', router: ROUTER_OK, kafkaRelay: { checkpoint: expect.stringMatching(/^\d+$/), retrying: 0 } });
      const metrics = (await app.http().get('/metrics').expect(200)).text;
      expect(metrics).toMatch(/^spoc_kafka_relay_checkpoint [1-9]\d*$/m);
      expect(metrics).toMatch(/^spoc_kafka_relay_retrying 0$/m);
    } finally {
      await app.close();
    }
  });

  it('production shape: an API with SPOC_RUN_ROUTER=false publishes nothing; the router app beside it runs the relay', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'spoc-e2e-kafka-'));
    const app = await TestApp.start(dataDir, { KAFKA_BROKERS: brokerList, SPOC_RUN_ROUTER: 'false' });
    let router: ChildProcess | null = null;
    try {
      expect((await app.http().get('/health').expect(200)).body).toEqual({ status: 'ok' });
      router = spawn(process.execPath, ['-r', path.join(root, 'tools/ts-register.js'), path.join(root, 'apps/router/src/main.ts')], {
        cwd: root,
        env: { ...process.env, SPOC_DATA_DIR: dataDir, SPOC_KEYS_DIR: dataDir, EVENTSTORE_CONNECTION_STRING: '', KAFKA_BROKERS: brokerList, SPOC_RUN_ROUTER: 'true' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const started = await new Promise<string>((resolve, reject) => {
        let out = '';
        router!.stdout!.on('data', (chunk: Buffer) => ((out += chunk.toString()), out.includes('\n') && resolve(out)));
        router!.once('exit', (code) => reject(new Error(`the router exited with ${code}: ${out}`)));
      });
      expect(started).toContain('Kafka relay to');

      const { referralId, caseId } = await routedHighRisk(app, await policeToken(app));
      expectOpened(await readOpened(caseId), referralId, caseId);
      expect(existsSync(path.join(dataDir, 'kafka-relay.sqlite'))).toBe(true);
      expect((await app.http().get('/metrics').expect(200)).text).not.toContain('spoc_kafka_relay');

      // SIGTERM stops the relay, then the router, and exits cleanly.
      const exited = new Promise<number | null>((resolve) => router!.once('exit', resolve));
      router.kill('SIGTERM');
      expect(await exited).toBe(0);
      router = null;
    } finally {
      router?.kill('SIGKILL');
      await app.close();
    }
  });

  it('reports a relay that stopped on a case event it cannot map as not healthy', async () => {
    const app = await TestApp.start(undefined, { KAFKA_BROKERS: brokerList });
    try {
      const store = app.app.get<EventStore>(EVENT_STORE);
      await store.append(`case-${randomUUID()}`, [testEvent('CaseVanishedWithoutMapping')], 'no-stream');
      let health = await app.http().get('/health');
      for (const deadline = Date.now() + 30_000; health.status === 200 && Date.now() < deadline; ) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        health = await app.http().get('/health');
      }
      expect(health.status).toBe(503);
      expect(health.body.message).toBe('the Kafka relay stopped: see the log');
      expect((await app.http().get('/metrics').expect(200)).text).toMatch(/^spoc_kafka_relay_failed 1$/m);
    } finally {
      await app.close();
    }
  });
});

/** These need no broker: they check where the relay runs and that a broker that is down stops nothing. */
describe('where the Kafka relay runs', () => {
  jest.setTimeout(30_000);

  it('does not run without KAFKA_BROKERS', async () => {
    const app = await TestApp.start();
    try {
      expect((await app.http().get('/health').expect(200)).body).toEqual({ status: 'ok', router: { ...ROUTER_OK, checkpoint: null } });
      expect(existsSync(path.join(app.dataDir, 'kafka-relay.sqlite'))).toBe(false);
    } finally {
      await app.close();
    }
  });

  it('does not run in an API that does not run the router, even with KAFKA_BROKERS', async () => {
    const app = await TestApp.start(undefined, { KAFKA_BROKERS: '127.0.0.1:1', SPOC_RUN_ROUTER: 'false' });
    try {
      expect((await app.http().get('/health').expect(200)).body).toEqual({ status: 'ok' });
      expect(existsSync(path.join(app.dataDir, 'kafka-relay.sqlite'))).toBe(false);
    } finally {
      await app.close();
    }
  });

  it('retries a broker that does not answer while intake and routing go on, and health stays ok with the retry count', async () => {
    const app = await TestApp.start(undefined, { KAFKA_BROKERS: '127.0.0.1:1' });
    try {
      await routedHighRisk(app, await policeToken(app));
      let health = await app.http().get('/health').expect(200);
      for (const deadline = Date.now() + 20_000; health.body.kafkaRelay?.retrying === 0 && Date.now() < deadline; ) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        health = await app.http().get('/health').expect(200);
      }
      expect(health.body).toEqual({ status: 'ok', router: ROUTER_OK, kafkaRelay: { checkpoint: null, retrying: expect.any(Number) } });
      expect(health.body.kafkaRelay.retrying).toBeGreaterThan(0);
      expect((await app.http().get('/metrics').expect(200)).text).toMatch(/^spoc_kafka_relay_retrying [1-9]\d*$/m);
    } finally {
      await app.close();
    }
  });
});

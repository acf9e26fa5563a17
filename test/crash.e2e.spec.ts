import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parsePolicy, PROVISION_IDS, refugeUnits, streams, type RefugeEvent } from '@spoc/domain';
import { SqliteEventStore, type RecordedEvent } from '@spoc/event-store';
import { verifyAllChains } from '../apps/api/src/audit/verify-chains';
import { loadConfig } from '../apps/api/src/config';
import { READ_MODEL_FILE, rebuildReadModels } from '../apps/api/src/rebuild-read-models';
import { distinctSurname, validPerpetratorReferral, validRiskAssessment, validVictimReferral, type ReferralBody } from '../apps/api/src/referrals/referral.fixtures';

/**
 * The whole service (API, read models and router in one process, as `npm start` runs it) killed with SIGKILL while
 * referrals pour in, then started again on the same data directory, several times over. Whatever a client was told
 * (202 or 200) must still be there; whatever was in flight at the kill may or may not be, but a retry of it must
 * never conflict or fail; and once the router catches up every referral is decided once, with one case per route.
 */
const root = path.resolve(__dirname, '..');
const ADMIN = 'crash-e2e-bootstrap-admin-token-0';
const KILLS = 3;
const IN_FLIGHT = 12;
const answers = (yes: number) => Object.fromEntries(Array.from({ length: 24 }, (_, n) => [`Q${n + 1}`, n < yes ? 'yes' : 'no']));
const POLICY_FILE = path.join(root, 'policies/portsmouth-2026-1.json');
const refugeCapacity = parsePolicy(JSON.parse(readFileSync(POLICY_FILE, 'utf8'))).provisions.refuge.capacityUnits ?? 0;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Answer {
  status: number;
  body: any;
}

/** `node apps/api/src/main.ts` on a data directory, as an operator starts it; killed or stopped from outside. */
class Service {
  private stderr = '';
  private readonly exited: Promise<string>;

  private constructor(private readonly child: ChildProcess, readonly port: number) {
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-4000)));
    running.add(this);
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => (running.delete(this), resolve(signal ?? `code ${code}`))));
  }

  static async start(dataDir: string, transpiled: string): Promise<Service> {
    const preload = ['-r', path.join(root, 'tools/ts-register.js'), '-r', path.join(__dirname, 'support/transpile-cache.js')];
    const child = spawn(process.execPath, [...preload, path.join(root, 'apps/api/src/main.ts')], {
      cwd: root,
      env: {
        ...process.env,
        PORT: '0',
        SPOC_DATA_DIR: dataDir,
        SPOC_KEYS_DIR: dataDir,
        SPOC_ERASED_KEYS_DIR: dataDir,
        SPOC_POLICY_FILE: POLICY_FILE,
        SPOC_BOOTSTRAP_ADMIN_TOKEN: ADMIN,
        SPOC_RUN_ROUTER: 'true',
        // As fast as it can, with one token: the rate limit has a test of its own.
        SPOC_RATE_LIMIT: '0',
        EVENTSTORE_CONNECTION_STRING: '',
        KAFKA_BROKERS: '',
        SPOC_TEST_TRANSPILE_CACHE: transpiled,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // The system picks the port; the service says which once it listens.
    let errors = '';
    child.stderr!.on('data', (chunk: Buffer) => (errors = (errors + chunk.toString()).slice(-4000)));
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out = (out + chunk.toString()).slice(-4000);
        const listening = /listening on http:\/\/localhost:(\d+)/.exec(out);
        if (listening) resolve(Number(listening[1]));
      });
      child.once('exit', (code) => reject(new Error(`the service exited with ${code} on start: ${errors}`)));
    });
    child.stdout!.resume();
    const service = new Service(child, port);
    // It listens only once its read models have caught up with the log, so the first 200 means ready.
    for (const deadline = Date.now() + 60_000; ; ) {
      if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode} on start: ${service.stderr}`);
      if (Date.now() > deadline) throw new Error(`the service did not answer /health within 60 s: ${service.stderr}`);
      const health = await service.call('GET', '/health').catch(() => null);
      if (health?.status === 200) return service;
      await sleep(100);
    }
  }

  async call(method: string, url: string, token?: string, body?: object): Promise<Answer> {
    const response = await fetch(`http://127.0.0.1:${this.port}${url}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    return { status: response.status, body: text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
  }

  /** Sent at once, without waiting: whatever the process had not answered by now is lost with it. */
  kill(): Promise<string> {
    this.child.kill('SIGKILL');
    return this.exited;
  }

  /**
   * A clean stop, as an operator's: Nest closes everything on SIGTERM and then raises the signal again, so a clean
   * stop ends by SIGTERM and a failed one with code 1.
   */
  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([this.exited, new Promise<string>((resolve) => (timer = setTimeout(resolve, 30_000, 'no exit within 30 s')))]);
    clearTimeout(timer);
    if (ended !== 'SIGTERM') throw new Error(`the service did not stop cleanly (${ended}): ${this.stderr}`);
  }

  get log(): string {
    return this.stderr;
  }
}

const running = new Set<Service>();

async function inPool<T>(items: T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: size }, async () => {
    while (next < items.length) await work(items[next++]);
  }));
}

/** Kinds that take different paths through the router: standard with a school to notify, high risk (MARAC), perpetrator, refuge. */
function referralBody(n: number): ReferralBody {
  const agencyReference = `CRASH-${n}`;
  const subject = { lastName: distinctSurname('Crash', n) };
  switch (n % 4) {
    case 0:
      return validVictimReferral({ agencyReference, subject });
    case 1:
      return validVictimReferral({ agencyReference, subject, riskAssessment: validRiskAssessment({ answers: answers(15) }) });
    case 2:
      return validPerpetratorReferral({ agencyReference, subject });
    default:
      return validVictimReferral({ agencyReference, subject, children: [], needs: { safeAccommodation: true } });
  }
}

/** Every row of every table in the read-model file, in a stable order (as test/rebuild.e2e.spec.ts compares them). */
function snapshot(dataDir: string): Record<string, string[]> {
  const db = new Database(path.join(dataDir, READ_MODEL_FILE), { readonly: true });
  const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
  const rows = Object.fromEntries(tables.map(({ name }) => [name, db.prepare(`SELECT * FROM "${name}"`).all().map((row) => JSON.stringify(row)).sort()]));
  db.close();
  return rows;
}

describe('the service killed with SIGKILL under load', () => {
  jest.setTimeout(180_000);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'spoc-e2e-crash-'));
  const transpiled = mkdtempSync(path.join(tmpdir(), 'spoc-e2e-crash-js-'));

  afterAll(async () => {
    await Promise.all([...running].map((service) => service.kill()));
    for (const directory of [dataDir, transpiled]) rmSync(directory, { recursive: true, force: true });
  });

  it('loses no acknowledged referral, answers every retry, and routes each referral exactly once', async () => {
    const bodies = new Map<string, ReferralBody>();
    /** Reference → referral id, for every POST the client saw answered 202 or 200. */
    const acknowledged = new Map<string, string>();
    /** In flight at a kill: the client never heard. */
    const unknown = new Set<string>();
    /** Any other answer under load: there should be none. */
    const refused: string[] = [];
    const rounds: string[] = [];
    let sequence = 0;

    let service = await Service.start(dataDir, transpiled);
    const principal = async (body: object) => {
      const created = await service.call('POST', '/v1/admin/principals', ADMIN, body);
      if (created.status !== 201) throw new Error(`could not create a principal: ${created.status}`);
      return created.body.token as string;
    };
    const police = await principal({ role: 'referrer', name: 'Police desk', agency: 'hampshire-police' });
    const workers = Object.fromEntries(await Promise.all(PROVISION_IDS.map(async (provision) => [provision, await principal({ role: 'caseworker', name: provision, provision })])));

    for (let round = 1; round <= KILLS; round += 1) {
      // Soon after a restart the router is still deciding the backlog the last kill left, so kills land in intake
      // commits, routing and the read models alike.
      const killAfter = 300 + Math.floor(Math.random() * 1500);
      let killed = false;
      const before = acknowledged.size;
      const current = service;
      const post = async () => {
        while (!killed) {
          const n = (sequence += 1);
          const reference = `CRASH-${n}`;
          const body = referralBody(n);
          bodies.set(reference, body);
          try {
            const answer = await current.call('POST', '/v1/referrals', police, body);
            if (answer.status === 202 || answer.status === 200) acknowledged.set(reference, answer.body.referralId);
            else refused.push(`${reference}: ${answer.status} ${JSON.stringify(answer.body)}`);
          } catch {
            unknown.add(reference);
          }
        }
      };
      const load = Promise.all(Array.from({ length: IN_FLIGHT }, post));
      await sleep(killAfter);
      killed = true;
      await current.kill();
      await load;
      rounds.push(`round ${round}: killed after ${killAfter} ms, ${acknowledged.size - before} acknowledged, ${unknown.size} unknown so far`);
      service = await Service.start(dataDir, transpiled);
    }
    const context = rounds.join('; ');
    expect({ context, refused }).toEqual({ context, refused: [] });
    expect(acknowledged.size).toBeGreaterThan(KILLS * 10);

    // Nothing acknowledged is lost: the same referral, under the same id, straight after the restart.
    const lost: string[] = [];
    await inPool([...acknowledged], 16, async ([reference, referralId]) => {
      const read = await service.call('GET', `/v1/referrals/${referralId}`, police);
      if (read.status !== 200 || read.body.referralId !== referralId || read.body.agencyReference !== reference) lost.push(`${reference}: ${read.status}`);
    });
    expect({ context, lost }).toEqual({ context, lost: [] });

    // A client retries what it sent: the same id for what it was told, and never a conflict or a failure.
    const referralIds = new Map<string, string>();
    const badRetries: string[] = [];
    await inPool([...bodies.keys()], 16, async (reference) => {
      const retried = await service.call('POST', '/v1/referrals', police, bodies.get(reference));
      const told = acknowledged.get(reference);
      const fine = told ? retried.status === 200 && retried.body.referralId === told : retried.status === 200 || retried.status === 202;
      if (fine) referralIds.set(reference, retried.body.referralId);
      else badRetries.push(`${reference} (${told ? 'acknowledged' : 'unknown'}): ${retried.status} ${JSON.stringify(retried.body)}`);
    });
    expect({ context, badRetries }).toEqual({ context, badRetries: [] });
    expect(new Set(referralIds.values()).size).toBe(bodies.size);

    // The router and the read models catch up with the whole log (the access log keeps it moving for a moment).
    let quiet = 0;
    for (const deadline = Date.now() + 60_000; quiet < 3; ) {
      if (Date.now() > deadline) throw new Error(`the router or the read models did not catch up within 60 s: ${service.log}`);
      const metrics = (await service.call('GET', '/metrics')).body as string;
      const sample = (series: string) => new RegExp(`^${series}(\\{[^}]*\\})? (\\d+)$`, 'm').exec(metrics)?.[2];
      const head = sample('spoc_event_store_head_position');
      quiet = head !== undefined && head === sample('spoc_router_checkpoint') && head === sample('spoc_projection_checkpoint') ? quiet + 1 : 0;
      await sleep(200);
    }
    expect((await service.call('GET', '/health')).body).toEqual({ status: 'ok', router: { checkpoint: expect.any(String), retrying: 0 } });

    // Every referral routed, each route with a case; and each case once in its provision's queue.
    const routedCases = new Map<string, Set<string>>(PROVISION_IDS.map((provision) => [provision, new Set<string>()]));
    const unrouted: string[] = [];
    await inPool([...referralIds.values()], 16, async (referralId) => {
      const read = await service.call('GET', `/v1/referrals/${referralId}?waitForRoutes=5000`, police);
      const routes = (read.body.routes ?? []) as Array<{ provision: string; caseId?: string }>;
      if (read.status !== 200 || read.body.status !== 'routed' || routes.length === 0 || routes.some((route) => !route.caseId)) {
        unrouted.push(`${referralId}: ${read.status} ${read.body.status} ${routes.length} routes`);
      }
      for (const route of routes) routedCases.get(route.provision)!.add(route.caseId!);
    });
    expect({ context, unrouted }).toEqual({ context, unrouted: [] });
    for (const provision of PROVISION_IDS) {
      const queued: Array<{ caseId: string; referralId: string }> = [];
      for (let cursor: string | null = ''; cursor !== null; ) {
        const page = await service.call('GET', `/v1/queues/${provision}?limit=500${cursor ? `&cursor=${cursor}` : ''}`, workers[provision]);
        expect(page.status).toBe(200);
        queued.push(...page.body.items);
        cursor = page.body.nextCursor;
      }
      const referralsQueued = queued.map((item) => item.referralId);
      expect({ provision, duplicates: referralsQueued.filter((id, n) => referralsQueued.indexOf(id) !== n) }).toEqual({ provision, duplicates: [] });
      expect({ provision, cases: queued.map((item) => item.caseId).sort() }).toEqual({ provision, cases: [...routedCases.get(provision)!].sort() });
    }

    await service.stop();
    // Closed, not merely ended: a read-model file still marked open would be one the stop did not close.
    expect(['read-models.sqlite.open', 'router-state.sqlite.open'].filter((marker) => existsSync(path.join(dataDir, marker)))).toEqual([]);

    // The log itself, read with the service stopped: one receipt and one decision per referral, one case opened
    // per route and none besides, the refuge units held by exactly the referrals placed there, every chain intact.
    const store = new SqliteEventStore(path.join(dataDir, 'events.sqlite'), { writer: 'inline' });
    const byReferral = new Map<string, RecordedEvent[]>();
    const opened = new Map<string, RecordedEvent[]>();
    const refuge: RecordedEvent[] = [];
    try {
      for await (const event of store.readAll()) {
        if (event.streamId.startsWith('referral-')) byReferral.set(event.streamId, [...(byReferral.get(event.streamId) ?? []), event]);
        if (event.type === 'CaseOpened') {
          const { referralId, provision } = event.data as { referralId: string; provision: string };
          opened.set(`${referralId} ${provision}`, [...(opened.get(`${referralId} ${provision}`) ?? []), event]);
        }
        if (event.streamId === streams.refuge()) refuge.push(event);
      }
      const chains = await verifyAllChains(store);
      expect(chains.broken).toEqual([]);
      expect(chains.events).toBeGreaterThan(bodies.size * 3);
    } finally {
      await store.close();
    }
    expect([...byReferral.keys()].sort()).toEqual([...referralIds.values()].map(streams.referral).sort());
    const wrong: string[] = [];
    const decided = new Set<string>();
    const refugeRoutes = new Map<string, string>();
    for (const [streamId, events] of byReferral) {
      const referralId = streamId.slice('referral-'.length);
      const count = (type: string) => events.filter((event) => event.type === type).length;
      const decisions = events.filter((event) => event.type === 'ReferralRouted').map((event) => event.data as { cases: Array<{ provision: string; caseId: string; status: string }> });
      if (count('ReferralReceived') !== 1 || decisions.length !== 1 || count('RoutingFailed') !== 0) wrong.push(`${streamId}: ${events.map((event) => event.type).join(', ')}`);
      for (const { provision, caseId, status } of decisions.flatMap((decision) => decision.cases)) {
        const openings = opened.get(`${referralId} ${provision}`) ?? [];
        if (openings.length !== 1 || openings[0].streamId !== streams.case(caseId)) wrong.push(`${streamId}: ${openings.length} cases opened at ${provision}`);
        decided.add(`${referralId} ${provision}`);
        if (provision === 'refuge') refugeRoutes.set(referralId, status);
      }
    }
    expect({ wrong, casesOpenedWithoutADecision: [...opened.keys()].filter((key) => !decided.has(key)) }).toEqual({ wrong: [], casesOpenedWithoutADecision: [] });
    // No stay has ended, so units go to the first requests in the log: a referral routed to the refuge holds one,
    // a waitlisted one waits, and nobody else asked (a request left by a crash would keep a unit from everyone).
    let units = refugeUnits.initialState();
    const requester = new Map<string, string>();
    for (const event of refuge) {
      const refugeEvent = { type: event.type, data: event.data } as RefugeEvent;
      if (refugeEvent.type === 'RefugeUnitRequested') requester.set(refugeEvent.data.requestId, refugeEvent.data.referralId);
      units = refugeUnits.evolve(refugeCapacity)(units, refugeEvent);
    }
    const holders = (ids: string[]) => ids.map((id) => requester.get(id)!).sort();
    expect({ placed: holders(units.placed), waiting: holders(units.waiting), released: units.released }).toEqual({
      placed: [...refugeRoutes].filter(([, status]) => status === 'routed').map(([id]) => id).sort(),
      waiting: [...refugeRoutes].filter(([, status]) => status === 'waitlisted').map(([id]) => id).sort(),
      released: [],
    });

    // The read models the crashes left are the ones the log gives when built afresh.
    const live = snapshot(dataDir);
    await rebuildReadModels(loadConfig({ SPOC_DATA_DIR: dataDir, PORT: '0' }));
    const rebuilt = snapshot(dataDir);
    expect(Object.keys(rebuilt)).toEqual(Object.keys(live));
    for (const table of Object.keys(live)) expect({ table, rows: rebuilt[table] }).toEqual({ table, rows: live[table] });
  });
});

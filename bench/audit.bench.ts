import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildDecision, caseEventsOf, evaluateRouting, parsePolicy, referralDecider, streams, type RoutingPolicy } from '@spoc/domain';
import { SqliteEventStore, type NewEvent } from '@spoc/event-store';
import { EventCodec, nameBasedUuid, openReadModelDb, PersonalDataVault, ProjectionRunner, type CommandContext, type DomainEvent } from '@spoc/platform';
import { QueueProjection } from '../apps/api/src/queues/queue.projection';
import { ReferralHistory } from '../apps/api/src/audit/referral-history';
import type { CreateReferralDto } from '../apps/api/src/referrals/referral.dto';
import { validRiskAssessment, validVictimReferral } from '../apps/api/src/referrals/referral.fixtures';
import { toReferralSubmission } from '../apps/api/src/referrals/referral.mapper';
import { gatherFacts } from '../apps/router/src/gather-facts';
import { testEvent } from '../libs/event-store/src/testing/events';
import { median, percentile, report } from './harness';

const policy: RoutingPolicy = parsePolicy(JSON.parse(readFileSync(path.resolve(__dirname, '../policies/portsmouth-2026-1.json'), 'utf8')));
const ROOT = path.resolve(__dirname, '..');
const context: CommandContext = { actor: { id: 'bench', role: 'system' }, correlationId: 'bench', causationId: null };
const highRisk = Object.fromEntries(Array.from({ length: 24 }, (_, n) => [`Q${n + 1}`, n < 15 ? 'yes' : 'no']));

/**
 * The appends of one realistic referral, to interleave with the filler: received and assessed, routed to IDVA and
 * MASH with a school told, and each case claimed, tried five times and closed. 20 events in 4 streams.
 */
async function measuredReferral(codec: EventCodec, vault: PersonalDataVault): Promise<{ referralId: string; steps: Array<(store: SqliteEventStore) => Promise<unknown>> }> {
  const referralId = nameBasedUuid('bench\naudit-history');
  const subject = await vault.newKey();
  const receivedAt = new Date().toISOString();
  const submission = toReferralSubmission(validVictimReferral({ agencyReference: 'AUDIT-BENCH', riskAssessment: validRiskAssessment({ answers: highRisk }) }) as CreateReferralDto);
  const intake = referralDecider.decide({ type: 'ReceiveReferral', data: { referralId, agency: 'bench', submission, submissionDigest: 'd', receivedAt, policy } }, referralDecider.initialState());
  const assessed = intake[1].type === 'RiskAssessed' ? intake[1].data : null;
  const facts = gatherFacts({ received: intake[0].data as never, assessment: assessed, repeat: { isRepeat: false, previousReferralIds: [], repeatMarac: false, maracReferralIds: [], possibleMatchReferralIds: [] }, refugeUnitsFree: 16, routedAt: receivedAt, policy });
  const decision = buildDecision({ facts, outcome: evaluateRouting(facts, policy), decisionNumber: 0, basedOnRevision: 1n, openCases: [], possibleMatchReferralIds: [], caseIdFor: (p) => nameBasedUuid(`${referralId}${p}`), notificationIdFor: (c) => nameBasedUuid(`${referralId}${c}`), notifySchools: true });
  const { opened } = caseEventsOf(decision.data);
  if (opened.length !== 2 || decision.data.encompass.length !== 1) throw new Error('the bench referral should open two cases and notify one school');
  const encode = (events: DomainEvent[]) => codec.encode(events, context, subject);
  const steps: Array<(store: SqliteEventStore) => Promise<unknown>> = [
    (store) => store.append(streams.referral(referralId), encode(intake), 'no-stream'),
    (store) => store.append(streams.referral(referralId), encode([decision]), 1n),
    ...opened.map((caseOpened) => (store: SqliteEventStore) => store.append(streams.case(caseOpened.data.caseId), encode([caseOpened]), 'no-stream')),
    (store) => store.append(streams.encompass(decision.data.encompass[0].notificationId), encode([{ type: 'EncompassNotificationSent', data: { notificationId: decision.data.encompass[0].notificationId, referralId, sentAt: receivedAt } }]), 'no-stream'),
  ];
  for (const { data: { caseId } } of opened) {
    steps.push((store) => store.append(streams.case(caseId), encode([{ type: 'CaseClaimed', data: { caseId, assignee: 'bench', claimedAt: receivedAt } }]), 0n));
    for (let attempt = 0; attempt < 5; attempt += 1) {
      steps.push((store) => store.append(streams.case(caseId), encode([{ type: 'ContactAttempted', data: { caseId, outcome: 'no-answer', note: 'Tried the safe number after 2pm.', attemptedAt: receivedAt } }]), BigInt(attempt + 1)));
    }
    steps.push((store) => store.append(streams.case(caseId), encode([{ type: 'CaseClosed', data: { caseId, outcome: 'no-contact', note: 'No answer after five attempts.', closedAt: receivedAt } }]), 6n));
  }
  return { referralId, steps };
}

/** Fills the log to `total` events with other streams, in big batches, the measured referral's appends spread through it. */
async function fill(store: SqliteEventStore, total: number, steps: Array<(store: SqliteEventStore) => Promise<unknown>>): Promise<void> {
  const perStream = 20;
  const perRound = 500;
  const payload = { referralId: '6f0c1a52-8a55-4a3e-9d8e-2b2c9f0f1d11', level: 'high', criteria: ['dash-score>=14'], note: 'x'.repeat(300) };
  const rounds = Math.ceil((total - 20) / (perStream * perRound));
  const every = Math.max(1, Math.floor(rounds / steps.length));
  let stream = 0;
  for (let round = 0; round < rounds; round += 1) {
    const appends: Array<Promise<unknown>> = [];
    for (let n = 0; n < perRound; n += 1) {
      const events: NewEvent[] = Array.from({ length: perStream }, () => testEvent('BenchFiller', payload));
      appends.push(store.append(`filler-${(stream += 1)}`, events, 'no-stream'));
    }
    await Promise.all(appends);
    if (round % every === 0 && steps.length > 0) await steps.shift()!(store);
  }
  for (const step of steps) await step(store);
}

function get(agent: Agent, port: number, url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, path: url, method: 'GET', agent, headers: { authorization: `Bearer ${token}` } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/** One request at a time over keep-alive: each latency is the service time of one read, queued work included. */
async function sequentialLatencies(port: number, url: string, token: string, count: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  for (let n = 0; n < count; n += 1) {
    const started = performance.now();
    const status = await get(agent, port, url, token);
    latencies.push(performance.now() - started);
    if (status !== 200) throw new Error(`GET ${url.replace(/[0-9a-f-]{36}/g, ':id')} answered ${status}: the figures would not be honest`);
  }
  agent.destroy();
  return latencies;
}

interface Server {
  port: number;
  token: string;
  referralId: string;
  dataDir: string;
  /** CPU microseconds the server process (all its threads) has used so far. */
  cpu(): Promise<number>;
  stop(): void;
}

function startServer(args: string[]): Promise<Server> {
  const child = spawn(process.execPath, ['-r', path.join(ROOT, 'tools/ts-register.js'), path.join(__dirname, 'audit-server.ts'), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const cpuReaders: Array<(microseconds: number) => void> = [];
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().trim().split('\n')) {
        const [word, port, token, referralId, dataDir] = line.split(' ');
        if (word === 'cpu') cpuReaders.shift()?.(Number(port));
        if (word !== 'ready') continue;
        resolve({
          port: Number(port),
          token,
          referralId,
          dataDir,
          cpu: () => new Promise((read) => { cpuReaders.push(read); child.stdin!.write('cpu\n'); }),
          stop: () => child.kill('SIGKILL'),
        });
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code})`)));
  });
}

/** (a) The history of one referral of 20 events with 1,000,000 events in the store. */
export async function auditHistoryBench(): Promise<void> {
  const total = Number(process.env.SPOC_BENCH_HISTORY_EVENTS ?? 1_000_000);
  const directory = mkdtempSync(path.join(tmpdir(), 'spoc-bench-history-'));
  const store = new SqliteEventStore(path.join(directory, 'events.sqlite'), { writer: 'inline' });
  const vault = new PersonalDataVault(path.join(directory, 'subject-keys.sqlite'));
  const codec = new EventCodec(vault);
  const readDb = openReadModelDb(path.join(directory, 'bench-read-models.sqlite'));
  try {
    const { referralId, steps } = await measuredReferral(codec, vault);
    const filling = performance.now();
    await fill(store, total, steps);
    const head = Number(await store.headPosition());
    process.stderr.write(`history bench: ${head} events stored in ${((performance.now() - filling) / 1000).toFixed(1)} s\n`);
    // The case read model as the API keeps it, fed from the whole log by the real runner.
    const cases = new QueueProjection();
    const runner = new ProjectionRunner('bench', store, readDb, codec, [cases]);
    runner.start();
    await runner.catchUp();
    await runner.stop();
    const history = new ReferralHistory(store, codec, cases);
    const check = (await history.of(referralId))!;
    if (check.events.length !== 20 || !check.chainValid) throw new Error(`the history has ${check.events.length} events, chain valid ${check.chainValid}`);

    const p50: number[] = [];
    const p99: number[] = [];
    for (let n = 0; n < 200; n += 1) await history.of(referralId);
    for (let run = 0; run < 5; run += 1) {
      const latencies: number[] = [];
      for (let n = 0; n < 1000; n += 1) {
        const started = performance.now();
        await history.of(referralId);
        latencies.push(performance.now() - started);
      }
      p50.push(percentile(latencies, 50));
      p99.push(percentile(latencies, 99));
    }
    const note = `one referral of 20 events (4 streams, personal data sealed) among ${head.toLocaleString('en-GB')} stored events; read, chain-checked and opened`;
    report('audit.history.p50.1MEvents', 'ms', p50, undefined, `${note}; the history function, in process`);
    report('audit.history.p99.1MEvents', 'ms', p99, { atMost: 10 }, `${note}; the history function, in process`);
    await store.close();
    vault.close();
    readDb.close();

    // The same over HTTP: the real API started on the filled directory (router off), one request at a time.
    const server = await startServer(['history', directory, referralId]);
    try {
      const url = `/v1/audit/referrals/${referralId}/history`;
      await sequentialLatencies(server.port, url, server.token, 300);
      const httpP50: number[] = [];
      const httpP99: number[] = [];
      for (let run = 0; run < 5; run += 1) {
        const latencies = await sequentialLatencies(server.port, url, server.token, 1000);
        httpP50.push(percentile(latencies, 50));
        httpP99.push(percentile(latencies, 99));
      }
      report('audit.history.http.p50.1MEvents', 'ms', httpP50, undefined, `${note}; GET /v1/audit/referrals/:id/history over loopback HTTP, access log on`);
      report('audit.history.http.p99.1MEvents', 'ms', httpP99, { atMost: 10 }, `${note}; GET /v1/audit/referrals/:id/history over loopback HTTP, access log on`);
    } finally {
      server.stop();
    }
  } finally {
    await store.close().catch(() => undefined);
    rmSync(directory, { recursive: true, force: true });
  }
}

/** (b) What recording every read costs GET /v1/referrals/:id: the same API with the recorder on and off. */
export async function accessLogBench(): Promise<void> {
  const overheads: number[] = [];
  const meanOn: number[] = [];
  const meanOff: number[] = [];
  const throughputCost: number[] = [];
  const cpuCost: number[] = [];
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const autocannon = require('autocannon') as (options: Record<string, unknown>) => Promise<{ requests: { total: number }; non2xx: number; errors: number }>;
  const runs = Number(process.env.SPOC_BENCH_ACCESS_RUNS ?? 5);
  for (let run = 0; run < runs; run += 1) {
    const figures: Record<'on' | 'off', { mean: number; rps: number; cpu: number }> = { on: { mean: 0, rps: 0, cpu: 0 }, off: { mean: 0, rps: 0, cpu: 0 } };
    // Alternated, so that drift of the machine (page cache, thermal) does not favour one side.
    for (const side of run % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
      const server = await startServer(['access-log', side]);
      try {
        const url = `/v1/referrals/${server.referralId}`;
        await sequentialLatencies(server.port, url, server.token, 2000);
        const cpuBefore = await server.cpu();
        figures[side].mean = mean(await sequentialLatencies(server.port, url, server.token, 5000));
        // Read after the last flush of those records has had its 50 ms, so their cost is counted.
        await new Promise((resolve) => setTimeout(resolve, 200));
        figures[side].cpu = (await server.cpu()) - cpuBefore;
        const saturated = await autocannon({ url: `http://127.0.0.1:${server.port}${url}`, headers: { authorization: `Bearer ${server.token}` }, connections: 16, duration: 5 });
        if (saturated.non2xx > 0 || saturated.errors > 0) throw new Error('non-2xx answers under load: the figures would not be honest');
        figures[side].rps = saturated.requests.total / 5;
      } finally {
        server.stop();
        rmSync(server.dataDir, { recursive: true, force: true });
      }
    }
    meanOn.push(figures.on.mean);
    meanOff.push(figures.off.mean);
    overheads.push(((figures.on.mean - figures.off.mean) / figures.off.mean) * 100);
    throughputCost.push((1 - figures.on.rps / figures.off.rps) * 100);
    cpuCost.push(((figures.on.cpu - figures.off.cpu) / figures.off.cpu) * 100);
  }
  report('audit.accessLog.latency.off', 'ms', meanOff, undefined, 'GET /v1/referrals/:id, one request at a time over keep-alive, mean of 5,000; recorder off (bench only)');
  report('audit.accessLog.latency.on', 'ms', meanOn, undefined, 'same, recorder on: buffered, appended every 50 ms or 200 records');
  report('audit.accessLog.overhead.latency', '%', overheads, { atMost: 15 }, 'extra mean latency with the recorder on, per pair of runs');
  report('audit.accessLog.overhead.cpu', '%', cpuCost, undefined, 'extra CPU time of the server process (all threads) for the same 5,000 GETs; less disturbed by other load than latency');
  report('audit.accessLog.overhead.throughput', '%', throughputCost, undefined, `fewer GETs/s at saturation (autocannon, 16 connections, 5 s); median off ${median(meanOff).toFixed(3)} ms`);
}

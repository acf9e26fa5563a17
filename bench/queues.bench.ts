import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildDecision, caseEventsOf, evaluateRouting, parsePolicy, referralDecider, streams, type RoutingPolicy } from '@spoc/domain';
import { SqliteEventStore } from '@spoc/event-store';
import { EventCodec, nameBasedUuid, PersonalDataVault, type DomainEvent } from '@spoc/platform';
import type { CreateReferralDto } from '../apps/api/src/referrals/referral.dto';
import { distinctSurname, validRiskAssessment, validVictimReferral } from '../apps/api/src/referrals/referral.fixtures';
import { toReferralSubmission } from '../apps/api/src/referrals/referral.mapper';
import { gatherFacts } from '../apps/router/src/gather-facts';
import { percentile, report } from './harness';

const policy: RoutingPolicy = parsePolicy(JSON.parse(readFileSync(path.resolve(__dirname, '../policies/portsmouth-2026-1.json'), 'utf8')));
const context = { actor: { id: 'bench', role: 'system' as const }, correlationId: 'bench', causationId: null };
const answers = (yes: number) => Object.fromEntries(Array.from({ length: 24 }, (_, n) => [`Q${n + 1}`, n < yes ? 'yes' : 'no']));

/**
 * Stores `count` referrals as intake and the router would have (received, assessed, decided, cases opened), a
 * third each high, medium and standard risk with a child at home. With `worked`, each case is also claimed, has a
 * contact attempt (a sealed note) and is closed, as a year of casework would leave the log.
 */
export async function seedReferrals(directory: string, count: number, worked: boolean): Promise<number> {
  const store = new SqliteEventStore(path.join(directory, 'events.sqlite'), { writer: 'inline' });
  const vault = new PersonalDataVault(path.join(directory, 'subject-keys.sqlite'));
  const codec = new EventCodec(vault);
  const bands = [15, 11, 6].map((yes) => toReferralSubmission(validVictimReferral({ riskAssessment: validRiskAssessment({ answers: answers(yes) }) }) as CreateReferralDto));
  let cases = 0;
  for (let start = 0; start < count; start += 250) {
    await Promise.all(
      Array.from({ length: Math.min(250, count - start) }, async (_, offset) => {
        const n = start + offset;
        const referralId = nameBasedUuid(`bench-queue\n${n}`);
        const submission = { ...bands[n % 3], agencyReference: `Q-${n}`, subject: { ...bands[n % 3].subject, lastName: distinctSurname('Queue', n) } };
        const at = new Date(Date.now() - (count - n) * 60_000).toISOString();
        const received = referralDecider.decide({ type: 'ReceiveReferral', data: { referralId, agency: 'bench', submission, submissionDigest: 'd', receivedAt: at, policy } }, referralDecider.initialState());
        const assessed = received[1].type === 'RiskAssessed' ? received[1].data : null;
        const facts = gatherFacts({ received: received[0].data as never, assessment: assessed, repeat: { isRepeat: false, previousReferralIds: [], repeatMarac: false, maracReferralIds: [], possibleMatchReferralIds: [] }, refugeUnitsFree: 16, routedAt: at, policy });
        const decision = buildDecision({ facts, outcome: evaluateRouting(facts, policy), decisionNumber: 0, basedOnRevision: 1n, openCases: [], possibleMatchReferralIds: [], caseIdFor: (p) => nameBasedUuid(`${referralId}\n${p}`), notificationIdFor: (c) => nameBasedUuid(`${referralId}\n${c}`), notifySchools: true });
        const subject = await vault.newKey();
        await store.append(streams.referral(referralId), codec.encode([...received, decision], context, subject), 'no-stream');
        for (const opened of caseEventsOf(decision.data).opened) {
          const { caseId } = opened.data;
          const work: DomainEvent[] = worked
            ? [
                { type: 'CaseClaimed', data: { caseId, assignee: 'bench-worker', claimedAt: at } },
                { type: 'ContactAttempted', data: { caseId, outcome: 'contacted', note: 'spoke safely; plan agreed', attemptedAt: at } },
                { type: 'CaseClosed', data: { caseId, outcome: 'engaged-risk-reduced', note: null, closedAt: at } },
              ]
            : [];
          await store.append(streams.case(caseId), codec.encode([opened, ...work], context, subject), 'no-stream');
          cases += 1;
        }
      }),
    );
  }
  await store.close();
  vault.close();
  return cases;
}

function get(agent: Agent, url: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { agent, headers: { authorization: `Bearer ${token}` } }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/** GET /v1/queues/idva over real HTTP from this process to the API in its own, one request at a time. */
async function queueReads(directory: string, requests: number): Promise<number[]> {
  const child = spawn(process.execPath, ['-r', path.resolve(__dirname, '../tools/ts-register.js'), path.join(__dirname, 'intake-server.ts'), 'api'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, SPOC_BENCH_DATA_DIR: directory, SPOC_RUN_ROUTER: 'false', SPOC_BENCH_PRINCIPAL: JSON.stringify({ role: 'caseworker', name: 'Bench IDVA', provision: 'idva' }) },
  });
  const [, port, token] = await new Promise<string[]>((resolve) => child.stdout!.on('data', (chunk: Buffer) => resolve(chunk.toString().trim().split(' '))));
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  try {
    for (let n = 0; n < requests + 200; n += 1) {
      const started = performance.now();
      const page = await get(agent, `http://127.0.0.1:${port}/v1/queues/idva?limit=50`, token);
      if (page.status !== 200 || (JSON.parse(page.body) as { items: unknown[] }).items.length !== 50) throw new Error(`the queue answered ${page.status}`);
      if (n >= 200) latencies.push(performance.now() - started); // the first 200 warm the JIT and the page cache
    }
  } finally {
    agent.destroy();
    child.kill('SIGKILL');
  }
  return latencies;
}

export async function queuesBench(): Promise<void> {
  const directory = mkdtempSync(path.join(tmpdir(), 'spoc-bench-queues-'));
  try {
    const cases = await seedReferrals(directory, 6000, false);
    const p50: number[] = [];
    const p99: number[] = [];
    for (let run = 0; run < 3; run += 1) {
      const latencies = await queueReads(directory, 2000);
      p50.push(percentile(latencies, 50));
      p99.push(percentile(latencies, 99));
    }
    const note = `${cases} open cases across idva, outreach, victim-support and mash; GET /v1/queues/idva?limit=50 over HTTP, one at a time, subject details opened per row`;
    report('queues.read.p50', 'ms', p50, undefined, note);
    report('queues.read.p99', 'ms', p99, { atMost: 10 }, note);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** `npm run projections:rebuild` on the directory, as an operator runs it (its node flags too). */
function rebuildCommand(directory: string): { events: number; seconds: number; peakMiB: number } {
  // The seeded directory's embedded log and keys, whatever this shell points the service at (EventStoreDB, a keys
  // directory, a policy file).
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(SPOC_|EVENTSTORE_|KAFKA_)/.test(name)));
  const run = spawnSync('npm', ['run', '--silent', 'projections:rebuild'], {
    cwd: path.resolve(__dirname, '..'),
    env: { ...inherited, SPOC_DATA_DIR: directory, PORT: '0', SPOC_RATE_LIMIT: '0' },
    encoding: 'utf8',
  });
  if (run.error) throw run.error;
  const printed = /from (\d+) events in [\d.]+ s .*peak memory (\d+) MiB/.exec(run.stdout);
  const timed = /in ([\d.]+) s/.exec(run.stdout);
  if (run.status !== 0 || !printed || !timed) throw new Error(`the rebuild failed: ${run.stderr || run.stdout}`);
  return { events: Number(printed[1]), seconds: Number(timed[1]), peakMiB: Number(printed[2]) };
}

export async function rebuildBench(): Promise<void> {
  const directory = mkdtempSync(path.join(tmpdir(), 'spoc-bench-rebuild-'));
  try {
    // About 9.7 events a referral (3 on the referral, 4 per case, 5 cases per 3 referrals): ~1,000,000 events.
    await seedReferrals(directory, Number(process.env.SPOC_BENCH_REBUILD_REFERRALS ?? 103_000), true);
    const scan: number[] = [];
    const rebuild: number[] = [];
    const rss: number[] = [];
    let events = 0;
    for (let run = 0; run < 3; run += 1) {
      const store = new SqliteEventStore(path.join(directory, 'events.sqlite'), { writer: 'inline' });
      const started = performance.now();
      let seen = 0;
      for await (const _ of store.readAll()) seen += 1;
      scan.push(seen / ((performance.now() - started) / 1000));
      await store.close();
      const result = rebuildCommand(directory);
      events = result.events;
      rebuild.push(result.events / result.seconds);
      rss.push(result.peakMiB);
    }
    report('projections.rebuild', 'events/s', rebuild, { atLeast: 100_000 }, `every API read model dropped and rebuilt from ${events} events (npm run projections:rebuild, its own process)`);
    report('projections.rebuild.scan', 'events/s', scan, undefined, 'readAll of the same log in the same run: the ceiling for a rebuild');
    report('projections.rebuild.rss', 'MiB', rss, undefined, 'peak resident memory of the rebuild process');
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

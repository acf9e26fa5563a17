import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { CreateReferralDto } from '../apps/api/src/referrals/referral.dto';
import { distinctSurname, validVictimReferral } from '../apps/api/src/referrals/referral.fixtures';
import { toReferralSubmission } from '../apps/api/src/referrals/referral.mapper';
import { validateInput } from '../apps/api/src/shared/validation';
import { percentile, report } from './harness';
import { openLoop } from './open-loop';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (options: Record<string, unknown>) => Promise<AutocannonResult>;

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  '2xx': number;
}

const RUNS = 3;

interface Server {
  url: string;
  token: string;
  stop(): void;
}

function startServer(mode: 'api' | 'bare'): Promise<Server> {
  const root = path.resolve(__dirname, '..');
  const child: ChildProcess = spawn(
    process.execPath,
    ['-r', path.join(root, 'tools/ts-register.js'), path.join(__dirname, 'intake-server.ts'), mode],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      const [word, port, token, dataDir] = chunk.toString().trim().split(' ');
      if (word !== 'ready') return;
      resolve({
        url: `http://127.0.0.1:${port}`,
        token,
        stop: () => {
          child.kill('SIGKILL');
          if (dataDir) rmSync(dataDir, { recursive: true, force: true });
        },
      });
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code})`)));
  });
}

let sequence = 0;

// The load generator must not be what is measured: building each body from objects cost it ~150 µs of the two
// cores the server needs. A body is the contract's example with its own reference and surname spliced in.
const [beforeReference, betweenParts, afterSurname] = (() => {
  const marked = JSON.stringify(validVictimReferral({ agencyReference: '\u0001', subject: { lastName: '\u0002' } }));
  const [head, rest] = marked.split('"\\u0001"');
  const [middle, tail] = rest.split('"\\u0002"');
  return [head, middle, tail];
})();

function nextBody(): string {
  sequence += 1;
  return `${beforeReference}"BENCH-${process.pid}-${sequence}"${betweenParts}"${distinctSurname('Bench', sequence)}"${afterSurname}`;
}

/** Distinct, valid referrals: each request gets its own agency reference. */
function load(server: Server, options: Record<string, unknown>): Promise<AutocannonResult> {
  return autocannon({
    url: `${server.url}/v1/referrals`,
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (request: Record<string, unknown>) => ({
          ...request,
          body: nextBody(),
        }),
      },
    ],
    ...options,
  });
}

function checked(result: AutocannonResult, what: string): AutocannonResult {
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${what}: ${result.non2xx} non-2xx answers and ${result.errors} errors: the figures would not be honest`);
  }
  return result;
}

/** Validation and mapping alone, in this process: how many referral bodies one core checks per second. */
function validationAlone(): number {
  const bodies = Array.from({ length: 2000 }, (_, n) => JSON.parse(JSON.stringify(validVictimReferral({ agencyReference: `V-${n}` }))));
  for (const body of bodies.slice(0, 200)) validateInput(CreateReferralDto, body);
  const started = performance.now();
  for (const body of bodies) {
    const result = validateInput(CreateReferralDto, body);
    if (!result.ok) throw new Error('a valid body failed validation');
    toReferralSubmission(result.value);
  }
  return bodies.length / ((performance.now() - started) / 1000);
}

export async function intakeBench(): Promise<void> {
  const validation: number[] = [];
  const framework: number[] = [];
  const saturation: number[] = [];
  const p50: number[] = [];
  const p99: number[] = [];
  const ceiling: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const api = await startServer('api');
    try {
      await load(api, { connections: 16, duration: 2 }); // warm-up: JIT, page cache
      const health = checked(await autocannon({ url: `${api.url}/health`, connections: 32, duration: 4 }), 'framework');
      framework.push(health.requests.total / 4);
      const saturated = checked(await load(api, { connections: 32, pipelining: 1, duration: 8 }), 'saturation');
      saturation.push(saturated.requests.total / 8);
    } finally {
      api.stop();
    }
    // The fixed rate on a server of its own: after the saturation run, the router in the same process still has
    // thousands of referrals to decide, and the fixed-rate figure would measure that backlog draining.
    const steadyServer = await startServer('api');
    try {
      await openLoop({
        url: `${steadyServer.url}/v1/referrals`,
        ratePerSecond: 500,
        durationSeconds: 3,
        headers: { authorization: `Bearer ${steadyServer.token}`, 'content-type': 'application/json' },
        body: nextBody,
      }); // warm-up: JIT, page cache
      const steady = await openLoop({
        url: `${steadyServer.url}/v1/referrals`,
        ratePerSecond: 500,
        durationSeconds: 10,
        headers: { authorization: `Bearer ${steadyServer.token}`, 'content-type': 'application/json' },
        // Distinct people, as a city's referrals are: the router (in the same process) matches each against earlier ones.
        body: nextBody,
      });
      if (steady.failures > 0) throw new Error(`fixed rate: ${steady.failures} failed requests: the figures would not be honest`);
      p50.push(percentile(steady.latenciesMs, 50));
      p99.push(percentile(steady.latenciesMs, 99));
    } finally {
      steadyServer.stop();
    }
    const bare = await startServer('bare');
    try {
      await load(bare, { connections: 16, duration: 1 });
      const result = checked(await load(bare, { connections: 32, duration: 5 }), 'ceiling');
      ceiling.push(result.requests.total / 5);
    } finally {
      bare.stop();
    }
  }
  for (let run = 0; run < 5; run += 1) validation.push(validationAlone());
  report('intake.saturation', 'referrals/s', saturation, { atLeast: 2000 }, 'POST /v1/referrals, 32 connections, durable (synchronous=FULL), distinct valid referrals');
  report('intake.latency.p50.at500rps', 'ms', p50, undefined, 'open loop: a request due every 2 ms for 10 s, latency from when it was due');
  report('intake.latency.p99.at500rps', 'ms', p99, { atMost: 20 }, 'open loop: a request due every 2 ms for 10 s, latency from when it was due');
  report('intake.attribution.validationAlone', 'bodies/s', validation, undefined, 'class-transformer + class-validator + mapping of one referral body, one core, no HTTP');
  report('intake.attribution.frameworkHealth', 'requests/s', framework, undefined, 'GET /health through the same Nest + Fastify app: the framework ceiling for a trivial route');
  report('intake.ceiling.bareNodeHttp', 'requests/s', ceiling, undefined, 'same load generator against a bare Node http server answering a constant');
}

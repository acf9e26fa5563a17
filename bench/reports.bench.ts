import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createApp } from '../apps/api/src/app';
import { loadConfig } from '../apps/api/src/config';
import { generateDemo } from '../tools/demo-year/generate';
import { percentile, report } from './harness';

const BOOTSTRAP = 'bench-bootstrap-admin-token-0000';
const RUNS = 3;
const REQUESTS_PER_RUN = 200;

function get(agent: Agent, port: number, url: string, token: string): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, path: url, agent, headers: { authorization: `Bearer ${token}` } }, (response) => {
      let bytes = 0;
      response.on('data', (chunk: Buffer) => (bytes += chunk.length));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, bytes }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/** Latencies of one report request after another (one in flight), over real HTTP on loopback. */
async function latencies(agent: Agent, port: number, url: string, token: string, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let n = 0; n < count; n += 1) {
    const started = performance.now();
    const { status } = await get(agent, port, url, token);
    if (status !== 200) throw new Error(`${url} answered ${status}`);
    times.push(performance.now() - started);
  }
  return times;
}

/**
 * Report latency over synthetic years written by the demo generator (the real command path, simulated clock):
 * one year (about 1,300 referrals and their case work) and ten. The report reads indexed rows of its read model,
 * never the log, so its cost grows with the referrals in the period, not with the log.
 */
export async function reportsBench(): Promise<void> {
  const thisYear = new Date().getUTCFullYear();
  for (const years of [1, 10]) {
    const dataDir = mkdtempSync(path.join(tmpdir(), `spoc-bench-reports-${years}-`));
    try {
      const from = `${thisYear - years}-01-01`;
      const to = `${thisYear - 1}-12-31`;
      const started = performance.now();
      const ledger = await generateDemo({ seed: 1, years, scale: 1, from, dataDir });
      const seconds = (performance.now() - started) / 1000;
      report(`reports.generate.${years}y`, 'referrals/s', [ledger.referrals.length / seconds], undefined,
        `demo generator through the HTTP API: ${ledger.referrals.length} referrals, ${ledger.cases.length} cases in ${seconds.toFixed(0)} s`);

      const app = await createApp(loadConfig({ SPOC_DATA_DIR: dataDir, SPOC_BOOTSTRAP_ADMIN_TOKEN: BOOTSTRAP, PORT: '0', SPOC_RATE_LIMIT: '0' }), { logger: false });
      await app.listen(0, '127.0.0.1');
      const port = (app.getHttpServer().address() as { port: number }).port;
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const created = await fetch(`http://127.0.0.1:${port}/v1/admin/principals`, {
          method: 'POST',
          headers: { authorization: `Bearer ${BOOTSTRAP}`, 'content-type': 'application/json' },
          body: JSON.stringify({ role: 'auditor', name: 'Bench auditor' }),
        });
        const { token } = (await created.json()) as { token: string };
        const cases: Array<[string, string, number | undefined]> = [
          [`json.${years}y`, `/v1/reports/performance?from=${from}&to=${to}`, years === 10 ? 200 : undefined],
          [`csv.${years}y`, `/v1/reports/performance.csv?from=${from}&to=${to}`, undefined],
          [`html.${years}y`, `/v1/reports/performance.html?from=${from}&to=${to}`, undefined],
          ...(years === 10 ? [[`json.lastYearOf10y`, `/v1/reports/performance?from=${thisYear - 1}-01-01&to=${to}`, undefined] as [string, string, undefined]] : []),
        ];
        for (const [name, url, atMost] of cases) {
          await latencies(agent, port, url, token, 20); // warm: statement caches, JIT
          const p50: number[] = [];
          const p99: number[] = [];
          for (let run = 0; run < RUNS; run += 1) {
            const times = await latencies(agent, port, url, token, REQUESTS_PER_RUN);
            p50.push(percentile(times, 50));
            p99.push(percentile(times, 99));
          }
          const what = `${years} synthetic year(s) in the log (${ledger.referrals.length} referrals), ${REQUESTS_PER_RUN} sequential requests per run over HTTP`;
          report(`reports.${name}.p50`, 'ms', p50, undefined, what);
          report(`reports.${name}.p99`, 'ms', p99, atMost === undefined ? undefined : { atMost }, what);
        }
      } finally {
        agent.destroy();
        await app.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
}

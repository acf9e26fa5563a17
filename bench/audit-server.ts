/**
 * The server side of the audit benches, in its own process: the real API on a data directory.
 *
 *   audit-server.ts access-log <on|off>        fresh directory, one routed referral to read back
 *   audit-server.ts history <dataDir> <referralId>   an existing (pre-filled) directory, router off
 *
 * Prints `ready <port> <token> <referralId> <dataDir>` when it can take load (the token is a referrer's for
 * access-log, an auditor's for history), and `cpu <microseconds>` for each line on stdin.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { validVictimReferral } from '../apps/api/src/referrals/referral.fixtures';

const BOOTSTRAP = 'bench-bootstrap-admin-token-0000';

async function main(): Promise<void> {
  const { createApp } = await import('../apps/api/src/app');
  const { loadConfig } = await import('../apps/api/src/config');
  const [mode, first, second] = process.argv.slice(2);
  const dataDir = mode === 'history' ? first : mkdtempSync(path.join(tmpdir(), 'spoc-bench-audit-'));
  const config = loadConfig({ SPOC_DATA_DIR: dataDir, SPOC_BOOTSTRAP_ADMIN_TOKEN: BOOTSTRAP, PORT: '0', SPOC_RATE_LIMIT: '0', SPOC_RUN_ROUTER: mode === 'history' ? 'false' : 'true' });
  // Off only here, in code, to measure what recording costs; no configuration can turn it off.
  const app = await createApp({ ...config, recordAccess: !(mode === 'access-log' && first === 'off') }, { logger: false });
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  const call = async (method: string, url: string, token: string, body?: unknown) => {
    const response = await fetch(`${base}${url}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
    return (await response.json()) as Record<string, any>;
  };
  const role = mode === 'history' ? { role: 'auditor', name: 'Bench auditor' } : { role: 'referrer', name: 'Bench', agency: 'hampshire-police' };
  const { token } = await call('POST', '/v1/admin/principals', BOOTSTRAP, role);
  let referralId = second;
  if (mode !== 'history') {
    ({ referralId } = await call('POST', '/v1/referrals', token, validVictimReferral({ agencyReference: 'BENCH-READ' })));
    const read = await call('GET', `/v1/referrals/${referralId}?waitForRoutes=5000`, token);
    if (!read.routedAt) throw new Error('the bench referral was not routed');
  }
  // CPU time of every thread of this process, asked for on stdin (signals are Nest's shutdown hooks): less disturbed
  // by other load on the machine than latency.
  process.stdin.on('data', () => {
    const { user, system } = process.cpuUsage();
    process.stdout.write(`cpu ${user + system}\n`);
  });
  process.stdout.write(`ready ${base.split(':')[2]} ${token} ${referralId} ${dataDir}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

/**
 * The server side of the intake bench, in its own process: the real API on a fresh data directory, or (with
 * `bare`) a plain Node http server answering a constant, which is this machine's ceiling for the same load.
 * Prints `ready <port> <referrer token>` when it can take load.
 */
import { createServer } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const BOOTSTRAP = 'bench-bootstrap-admin-token-0000';

async function main(): Promise<void> {
  // A profiled run must exit normally for Node to write its profile.
  if (process.env.SPOC_BENCH_PROFILE) process.prependListener('SIGINT', () => process.exit(0));
  if (process.argv[2] === 'bare') {
    const answer = JSON.stringify({ referralId: '3f1e6a0c-2b7d-4c55-9d0e-8f6a1b2c3d4e', status: 'received' });
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(202, { 'content-type': 'application/json' });
        response.end(answer);
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as { port: number };
      process.stdout.write(`ready ${address.port} none\n`);
    });
    return;
  }
  const { createApp } = await import('../apps/api/src/app');
  const { loadConfig } = await import('../apps/api/src/config');
  // A bench may hand over a data directory it filled itself, and ask for another kind of principal.
  const dataDir = process.env.SPOC_BENCH_DATA_DIR ?? mkdtempSync(path.join(tmpdir(), 'spoc-bench-intake-'));
  const principal = process.env.SPOC_BENCH_PRINCIPAL ? (JSON.parse(process.env.SPOC_BENCH_PRINCIPAL) as object) : { role: 'referrer', name: 'Bench', agency: 'hampshire-police' };
  const app = await createApp(loadConfig({ SPOC_DATA_DIR: dataDir, SPOC_BOOTSTRAP_ADMIN_TOKEN: BOOTSTRAP, PORT: '0', SPOC_RATE_LIMIT: '0', SPOC_RUN_ROUTER: process.env.SPOC_RUN_ROUTER ?? 'true' }), { logger: false });
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as { port: number }).port;
  const response = await fetch(`http://127.0.0.1:${port}/v1/admin/principals`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BOOTSTRAP}`, 'content-type': 'application/json' },
    body: JSON.stringify(principal),
  });
  const { token } = (await response.json()) as { token: string };
  process.stdout.write(`ready ${port} ${token} ${dataDir}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

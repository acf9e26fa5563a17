import { readFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { parsePolicy } from '@spoc/domain';
import { EventCodec, LogAnchors, openReadModelDb } from '@spoc/platform';
import { ConfigError, keyWarnings, loadConfig, logAnchorsFile, openEventStore, openVaultFor } from '../../api/src/config';
import { relayBesideRouter } from './relay';
import { Router } from './router';

/**
 * The router as its own process (production, beside API instances started with SPOC_RUN_ROUTER=false). Several may
 * run at once: a decision is appended at the revision it was made on, so only one lands per referral revision.
 * With KAFKA_BROKERS set the Kafka relay runs beside it; each router's relay keeps its own checkpoint, so with two
 * routers providers get each case event twice, which at-least-once delivery already asks them to drop by `ce_id`.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  mkdirSync(config.dataDir, { recursive: true });
  mkdirSync(config.keysDir, { recursive: true });
  const policy = parsePolicy(JSON.parse(readFileSync(config.policyFile, 'utf8')));
  const store = openEventStore(config);
  const vault = await openVaultFor(config, store);
  const anchors = new LogAnchors(logAnchorsFile(config));
  const router = new Router(store, new EventCodec(vault), vault, policy, openReadModelDb(path.join(config.dataDir, 'router-state.sqlite')), undefined, anchors);
  const relay = relayBesideRouter(store, config);
  router.start();
  relay?.start();
  const kafka = relay ? `; Kafka relay to ${config.kafkaBrokers.join(',')}` : '; no Kafka relay (KAFKA_BROKERS unset)';
  process.stdout.write(`router running with policy ${policy.id}; state in ${config.dataDir}; subject keys in ${config.keysDir}${kafka}\n`);
  for (const warning of keyWarnings(config)) process.stderr.write(`warning: ${warning}\n`);
  const shutdown = async () => {
    await relay?.stop();
    await router.stop();
    await store.close();
    vault.close();
    process.exit(0);
  };
  // Stopped for good (not even a failure could be recorded): exit, so that whatever supervises the process sees it.
  setInterval(() => {
    if (!router.failed && !relay?.failed) return;
    process.stderr.write(`${router.failed ? 'router' : 'Kafka relay'} stopped: exiting\n`);
    process.exit(1);
  }, 1000).unref();
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
}

main().catch((error: unknown) => {
  const known = error instanceof ConfigError || (error as { code?: string }).code === 'invalid-policy';
  process.stderr.write(`${known ? (error as Error).message : `router failed to start: ${(error as Error).name}`}\n`);
  process.exit(1);
});

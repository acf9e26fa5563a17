import { Logger } from '@nestjs/common';
import { createApp } from './app';
import { ConfigError, keyWarnings, loadConfig } from './config';
import { KAFKA_RELAY } from './infrastructure/tokens';
import { PrincipalsProjection } from './principals/principals.projection';
import { AuthGuard, BOOTSTRAP_WINDOW_MINUTES } from './shared/auth/auth.guard';

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createApp(config);
  await app.listen(config.port, '0.0.0.0');
  const logger = new Logger('SPOC');
  const store = config.eventStoreConnectionString ? 'EventStoreDB (EVENTSTORE_CONNECTION_STRING)' : `embedded SQLite in ${config.dataDir}`;
  // The port it got, which PORT=0 leaves to the system.
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.log(`listening on http://localhost:${port} (API document at /docs)`);
  logger.log(`event store: ${store}; read models in ${config.dataDir}; subject keys in ${config.keysDir}`);
  for (const warning of keyWarnings(config)) logger.warn(warning);
  if (app.get(KAFKA_RELAY)) logger.log(`Kafka relay: case events to ${config.kafkaBrokers.join(',')} (checkpoint in kafka-relay.sqlite)`);
  if (config.bootstrapAdminTokenHash) {
    const until = app.get(AuthGuard).bootstrapOpenUntil.toISOString();
    logger.log(
      `SPOC_BOOTSTRAP_ADMIN_TOKEN is set: use it as a bearer token to POST /v1/admin/principals until ${until} (${BOOTSTRAP_WINDOW_MINUTES} minutes ` +
        'from this start), then unset it: any restart opens the window again while it is set',
    );
  } else if (app.get(PrincipalsProjection).activeCount() === 0) {
    logger.warn(
      'no principals yet: restart with SPOC_BOOTSTRAP_ADMIN_TOKEN=<a secret of 16+ characters>, then ' +
        'POST /v1/admin/principals with that token to create the first referrer, caseworker, auditor or admin',
    );
  }
}

main().catch((error: unknown) => {
  // A bad configuration or policy stops the start with its own clear message; anything else by kind only.
  const known = error instanceof ConfigError || (error as { code?: string }).code === 'invalid-policy';
  const where = (error as Error).stack?.split('\n').slice(1, 4).join('\n') ?? '';
  const message = known ? (error as Error).message : `start failed: ${(error as Error).name}\n${where}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});

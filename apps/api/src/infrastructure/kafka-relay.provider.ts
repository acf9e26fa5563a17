import { Logger, type Provider } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@spoc/event-store';
import { relayBesideRouter } from '../../../router/src/relay';
import { APP_CONFIG, type AppConfig } from '../config';
import { KAFKA_RELAY } from './tokens';

/** The relay runs where the router runs: in this process only in the embedded mode, and only with KAFKA_BROKERS. */
export const kafkaRelayProvider: Provider = {
  provide: KAFKA_RELAY,
  inject: [APP_CONFIG, EVENT_STORE],
  useFactory: (config: AppConfig, store: EventStore) => {
    if (!config.runRouter) return null;
    const logger = new Logger('KafkaRelay');
    return relayBesideRouter(store, config, (line) => logger.warn(line));
  },
};

import path from 'node:path';
import type { EventStore } from '@spoc/event-store';
import { KafkaRelay } from '@spoc/kafka-relay';
import type { AppConfig } from '../../api/src/config';

/**
 * The Kafka relay goes wherever the router goes, so that API instances (of which there may be many) never publish:
 * the process that opens the cases is the one that tells the providers. Without KAFKA_BROKERS there is none, and
 * the embedded mode never needs Kafka. Its checkpoint lives in the data dir, beside the router's.
 */
export function relayBesideRouter(store: EventStore, config: Pick<AppConfig, 'dataDir' | 'kafkaBrokers'>, log?: (line: string) => void): KafkaRelay | null {
  if (config.kafkaBrokers.length === 0) return null;
  return new KafkaRelay(store, config.kafkaBrokers, path.join(config.dataDir, 'kafka-relay.sqlite'), { log });
}

import type { CaseMessage } from './cloud-event';

/**
 * Where the relay sends case messages. The only Kafka client code (kafkajs, unmaintained since 2023) sits behind
 * this port in kafkajs-publisher.ts, so another client can replace it without touching the relay.
 */
export interface CasePublisher {
  /** Creates the topics that do not exist yet; resolves once they have leaders. */
  ensureTopics(topics: readonly string[]): Promise<void>;
  /** Resolves only when the broker has acknowledged every message with acks=all; order per key is kept. */
  publish(messages: readonly CaseMessage[]): Promise<void>;
  /** Drops the connection after a failure, so the next call starts afresh. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

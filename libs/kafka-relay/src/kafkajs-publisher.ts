import { Kafka, logLevel, Partitioners, type Admin, type Producer } from 'kafkajs';
import type { CasePublisher } from './case-publisher';
import type { CaseMessage } from './cloud-event';

export interface KafkajsPublisherOptions {
  clientId?: string;
  /** For new topics; -1 (the default) takes the broker's num.partitions and default.replication.factor. */
  partitions?: number;
  replicationFactor?: number;
}

/**
 * The kafkajs adapter: an idempotent producer (acks=all, one request in flight, so a retry can neither duplicate nor
 * reorder within a producer session) and the admin client for topics. Its own retries are short: the relay owns the
 * long wait for a broker that is down, so `stop()` never hangs behind a client retrying for ever.
 */
export class KafkajsPublisher implements CasePublisher {
  private readonly kafka: Kafka;
  private producer: Producer | null = null;
  private admin: Admin | null = null;

  constructor(brokers: readonly string[], private readonly options: KafkajsPublisherOptions = {}) {
    this.kafka = new Kafka({
      clientId: options.clientId ?? 'spoc-kafka-relay',
      brokers: [...brokers],
      connectionTimeout: 3000,
      requestTimeout: 30000,
      retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1000 },
      // Failures surface to the relay, which reports them by kind; kafkajs would log every reconnect attempt.
      logLevel: logLevel.NOTHING,
    });
  }

  async ensureTopics(topics: readonly string[]): Promise<void> {
    const admin = await this.connectedAdmin();
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((topic) => !existing.has(topic));
    if (missing.length === 0) return;
    await admin.createTopics({
      topics: missing.map((topic) => ({ topic, numPartitions: this.options.partitions ?? -1, replicationFactor: this.options.replicationFactor ?? -1 })),
      waitForLeaders: true,
    });
  }

  async publish(messages: readonly CaseMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const producer = await this.connectedProducer();
    const byTopic = new Map<string, Array<{ key: string; value: string; headers: Record<string, string> }>>();
    for (const { topic, key, value, headers } of messages) {
      const list = byTopic.get(topic) ?? [];
      list.push({ key, value, headers });
      byTopic.set(topic, list);
    }
    await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, topicMessages]) => ({ topic, messages: topicMessages })) });
  }

  async reset(): Promise<void> {
    const { producer, admin } = this;
    this.producer = null;
    this.admin = null;
    await Promise.allSettled([producer?.disconnect(), admin?.disconnect()]);
  }

  close(): Promise<void> {
    return this.reset();
  }

  private async connectedProducer(): Promise<Producer> {
    if (this.producer) return this.producer;
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      // Java's murmur2 partitioner: a provider's Java client puts a case id on the same partition as we do.
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1000 },
    });
    try {
      await producer.connect();
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
    this.producer = producer;
    return producer;
  }

  private async connectedAdmin(): Promise<Admin> {
    if (this.admin) return this.admin;
    const admin = this.kafka.admin();
    try {
      await admin.connect();
    } catch (error) {
      await admin.disconnect().catch(() => undefined);
      throw error;
    }
    this.admin = admin;
    return admin;
  }
}

import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';

export interface ReadMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  headers: Record<string, string>;
  value: string;
}

/**
 * Reads the topics from the beginning in a fresh consumer group, keeping the messages whose key is one of `keys`,
 * until `done` holds for what it kept (then it reads on for `settleMs`, to catch any duplicate) or the time runs out.
 */
export async function readTopics(
  brokers: string[],
  topics: string[],
  keys: ReadonlySet<string>,
  done: (messages: ReadMessage[]) => boolean,
  options: { timeoutMs?: number; settleMs?: number } = {},
): Promise<ReadMessage[]> {
  const kafka = new Kafka({ clientId: 'spoc-relay-test', brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `spoc-relay-test-${randomUUID()}`, maxWaitTimeInMs: 200 });
  const messages: ReadMessage[] = [];
  let finished!: () => void;
  const finishedReading = new Promise<void>((resolve) => (finished = resolve));
  try {
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const key = message.key?.toString() ?? '';
        if (!keys.has(key)) return;
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]));
        messages.push({ topic, partition, offset: message.offset, key, headers, value: message.value?.toString() ?? '' });
        if (done(messages)) setTimeout(finished, options.settleMs ?? 500);
      },
    });
    const timer = setTimeout(finished, options.timeoutMs ?? 30_000);
    await finishedReading;
    clearTimeout(timer);
    return messages;
  } finally {
    await consumer.disconnect();
  }
}

/** What a provider keeps: the first copy of each `ce_id`, in the order read. */
export function dropDuplicates(messages: ReadMessage[]): ReadMessage[] {
  const seen = new Set<string>();
  return messages.filter((message) => !seen.has(message.headers.ce_id) && seen.add(message.headers.ce_id));
}

/** Event ids per case (the message key), in the order a consumer read them. */
export function idsByCase(messages: ReadMessage[]): Map<string, string[]> {
  const byCase = new Map<string, string[]>();
  for (const message of messages) byCase.set(message.key, [...(byCase.get(message.key) ?? []), message.headers.ce_id]);
  return byCase;
}

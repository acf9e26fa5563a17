import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { PROVISION_IDS } from '@spoc/domain';
import { SqliteEventStore } from '@spoc/event-store';
import { KafkaRelay, topicFor } from '@spoc/kafka-relay';
import { caseLife } from '../libs/kafka-relay/src/testing/case-events';
import { percentile, report } from './harness';

const RUNS = 3;
const quiet = () => undefined;

async function withRelay<T>(brokers: string[], work: (store: SqliteEventStore, relay: () => KafkaRelay) => Promise<T>): Promise<T> {
  const directory = mkdtempSync(path.join(tmpdir(), 'spoc-bench-kafka-'));
  const store = new SqliteEventStore(path.join(directory, 'events.sqlite'));
  const relays: KafkaRelay[] = [];
  const newRelay = () => {
    relays.push(new KafkaRelay(store, brokers, path.join(directory, 'relay.sqlite'), { log: quiet }));
    return relays[relays.length - 1];
  };
  try {
    return await work(store, newRelay);
  } finally {
    for (const relay of relays) await relay.stop();
    await store.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

/** 20,000 case events already in the log (2,000 cases of 10); the relay starts from nothing and publishes them all. */
async function throughput(brokers: string[]): Promise<number> {
  return withRelay(brokers, async (store, newRelay) => {
    const cases = Array.from({ length: 2000 }, (_, n) => {
      const caseId = randomUUID();
      return { caseId, events: caseLife(caseId, PROVISION_IDS[n % PROVISION_IDS.length], 10) };
    });
    for (let revision = 0; revision < 10; revision += 1) {
      await Promise.all(cases.map(({ caseId, events }) => store.append(`case-${caseId}`, [events[revision]], revision === 0 ? 'no-stream' : BigInt(revision - 1))));
    }
    const head = (await store.headPosition())!;
    const relay = newRelay();
    const started = performance.now();
    relay.start();
    if (!(await relay.waitFor(head, 300_000))) throw new Error('the relay did not catch up');
    return Number(head) / ((performance.now() - started) / 1000);
  });
}

/**
 * Open loop at a steady rate: a case is opened every 1000/rate ms whether or not earlier ones have arrived, and
 * each lag runs from when its append was due to when a consumer of the provision topics received it.
 */
async function lag(brokers: string[], ratePerSecond: number, seconds: number): Promise<number[]> {
  return withRelay(brokers, async (store, newRelay) => {
    const kafka = new Kafka({ clientId: 'spoc-bench', brokers, logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `spoc-bench-${randomUUID()}` });
    const due = new Map<string, number>();
    const lags: number[] = [];
    let warmedUp!: () => void;
    const warm = new Promise<void>((resolve) => (warmedUp = resolve));
    const warmUpCase = randomUUID();
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: PROVISION_IDS.map(topicFor), fromBeginning: false });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const id = message.headers?.ce_id?.toString() ?? '';
          const dueAt = due.get(id);
          if (dueAt !== undefined) {
            lags.push(performance.now() - dueAt);
            due.delete(id);
          } else if (message.key?.toString() === warmUpCase) warmedUp();
        },
      });
      newRelay().start();
      // The consumer has its partitions once a case opened now reaches it.
      for (let attempt = 0; ; attempt += 1) {
        const [opened] = caseLife(warmUpCase, 'idva', 1);
        await store.append(`case-${warmUpCase}`, [opened], 'any');
        const arrived = await Promise.race([warm.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2000))]);
        if (arrived) break;
        if (attempt > 30) throw new Error('the consumer never received the warm-up case');
      }

      const total = ratePerSecond * seconds;
      const intervalMs = 1000 / ratePerSecond;
      const started = performance.now();
      const appends: Array<Promise<unknown>> = [];
      for (let sent = 0; sent < total; ) {
        const dueNow = Math.min(total, Math.floor((performance.now() - started) / intervalMs) + 1);
        while (sent < dueNow) {
          const caseId = randomUUID();
          const [opened] = caseLife(caseId, PROVISION_IDS[sent % PROVISION_IDS.length], 1);
          due.set(opened.id, started + sent * intervalMs);
          appends.push(store.append(`case-${caseId}`, [opened], 'no-stream'));
          sent += 1;
        }
        await new Promise((resolve) => setTimeout(resolve, intervalMs / 2));
      }
      await Promise.all(appends);
      for (const deadline = Date.now() + 30_000; due.size > 0 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 50));
      if (due.size > 0) throw new Error(`${due.size} case events never reached the consumer`);
      return lags;
    } finally {
      await consumer.disconnect();
    }
  });
}

export async function kafkaBench(): Promise<void> {
  const brokers = process.env.KAFKA_BROKERS?.split(',').map((broker) => broker.trim()).filter(Boolean) ?? [];
  if (brokers.length === 0) {
    process.stdout.write('kafka: skipped (KAFKA_BROKERS is unset; `npm run kafka:local` starts a local broker)\n');
    return;
  }
  const rates: number[] = [];
  for (let run = 0; run < RUNS; run += 1) rates.push(await throughput(brokers));
  report('kafka.relay.throughput', 'events/s', rates, { atLeast: 5000 }, '20,000 case events in the log, published by the relay with acks=all (idempotent producer) and checkpointed; one local broker');

  const p50: number[] = [];
  const p99: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const lags = await lag(brokers, 100, 10);
    p50.push(percentile(lags, 50));
    p99.push(percentile(lags, 99));
  }
  report('kafka.lag.p50.at100eps', 'ms', p50, undefined, 'from a case event due to be appended (durable commit) to a kafkajs consumer of the provision topics receiving it; 100 events/s for 10 s, open loop');
  report('kafka.lag.p99.at100eps', 'ms', p99, { atMost: 100 }, 'same runs');
}

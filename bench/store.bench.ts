import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteEventStore } from '@spoc/event-store';
import { testEvent } from '../libs/event-store/src/testing/events';
import { report } from './harness';

const RUNS = 5;

type Writer = 'thread' | 'inline';

async function withStore<T>(work: (store: SqliteEventStore) => Promise<T>, writer: Writer = 'thread'): Promise<T> {
  const directory = mkdtempSync(path.join(tmpdir(), 'spoc-bench-'));
  const store = new SqliteEventStore(path.join(directory, 'events.sqlite'), { writer });
  try {
    // The writer thread starts with the store (from the TypeScript sources here, it first loads the transpiler):
    // one append before the clock starts, so that the figures are appends, not the thread's start.
    await store.append('bench-warm-up', [testEvent('WarmedUp')], 'no-stream');
    return await work(store);
  } finally {
    await store.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

const payload = { referralId: '6f0c1a52-8a55-4a3e-9d8e-2b2c9f0f1d11', level: 'high', criteria: ['dash-score>=14'], note: 'x'.repeat(300) };

/** One writer, each append awaited before the next: every append is its own durable commit. */
async function singleAppends(count: number, writer: Writer): Promise<number> {
  return withStore(async (store) => {
    const started = process.hrtime.bigint();
    for (let n = 0; n < count; n += 1) {
      await store.append(`referral-${n}`, [testEvent('RiskAssessed', payload)], 'no-stream');
    }
    return count / (Number(process.hrtime.bigint() - started) / 1e9);
  }, writer);
}

/** 16 writers appending concurrently: the writer group-commits what arrives together. */
async function concurrentAppends(writers: number, perWriter: number, writer: Writer): Promise<number> {
  return withStore(async (store) => {
    const started = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: writers }, async (_, writer) => {
        for (let n = 0; n < perWriter; n += 1) {
          await store.append(`case-${writer}`, [testEvent('ContactAttempted', payload)], n === 0 ? 'no-stream' : BigInt(n - 1));
        }
      }),
    );
    return (writers * perWriter) / (Number(process.hrtime.bigint() - started) / 1e9);
  }, writer);
}

async function scan(events: number): Promise<number[]> {
  return withStore(async (store) => {
    const batch = 500;
    for (let written = 0; written < events; written += batch) {
      await Promise.all(
        Array.from({ length: batch / 10 }, (_, n) =>
          store.append(`referral-${written + n}`, Array.from({ length: 10 }, () => testEvent('RiskAssessed', payload)), 'no-stream'),
        ),
      );
    }
    const rates: number[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      const started = process.hrtime.bigint();
      let seen = 0;
      for await (const _ of store.readAll()) seen += 1;
      rates.push(seen / (Number(process.hrtime.bigint() - started) / 1e9));
    }
    return rates;
  });
}

export async function storeBench(): Promise<void> {
  for (const writer of ['inline', 'thread'] as const) {
    const single: number[] = [];
    const concurrent: number[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      single.push(await singleAppends(3000, writer));
      concurrent.push(await concurrentAppends(16, 1000, writer));
    }
    report(`store.append.single.${writer}`, 'appends/s', single, { atLeast: 4000 }, `one writer, each append awaited: one durable commit (synchronous=FULL) per append; ${writer} writer`);
    report(`store.append.concurrent16.${writer}`, 'events/s', concurrent, { atLeast: 20000 }, `16 writers, group commit; ${writer} writer`);
  }
  report('store.readAll.scan', 'events/s', await scan(200_000), { atLeast: 150000 }, 'readAll over 200,000 stored events');
}

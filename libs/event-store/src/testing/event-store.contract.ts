import { spawn } from 'node:child_process';
import path from 'node:path';
import type { EventStore, RecordedEvent } from '../event-store.port';
import { DuplicateEventIdError, WrongExpectedVersionError } from '../errors';
import { ChainVerifier, verifyStream } from '../hash-chain';
import { collect, testEvent, uniqueStream } from './events';

export interface ContractTarget {
  store: EventStore;
  cleanup(): Promise<void>;
}

export interface ContractCapabilities {
  /** Alters one stored event's data behind the store's back, as an attacker with the file would. */
  tamper?(target: ContractTarget, streamId: string, revision: bigint): Promise<void>;
  /**
   * For the crash test: a module exporting `openStore(argument)` that a child process can load, the argument
   * that opens this target's store, and how to open it again in this process once the child is dead.
   */
  durability?: { factoryModule: string; argument(): string; reopen(): Promise<ContractTarget> };
}

/**
 * The behaviour every event store adapter must show. Stream ids are unique per test so the suite also runs
 * against a long-lived server.
 */
export function eventStoreContract(
  name: string,
  open: () => Promise<ContractTarget>,
  capabilities: ContractCapabilities = {},
): void {
  describe(`${name} event store contract`, () => {
    let target: ContractTarget;
    let store: EventStore;

    beforeEach(async () => {
      target = await open();
      store = target.store;
    });
    afterEach(async () => {
      await target.cleanup();
    });

    describe('appending and reading a stream', () => {
      it('stores a new stream with revisions from 0 and the full envelope', async () => {
        const streamId = uniqueStream('referral');
        const events = [testEvent('ReferralReceived', { n: 1 }), testEvent('RiskAssessed', { n: 2 })];

        const result = await store.append(streamId, events, 'no-stream');

        expect(result.nextExpectedRevision).toBe(1n);
        const stored = await collect(store.readStream(streamId));
        expect(stored.map((event) => [event.id, event.type, event.revision])).toEqual([
          [events[0].id, 'ReferralReceived', 0n],
          [events[1].id, 'RiskAssessed', 1n],
        ]);
        expect(stored[0]).toMatchObject({
          streamId,
          schemaVersion: 1,
          data: { n: 1 },
          metadata: events[0].metadata,
          previousHash: null,
        });
        expect(stored[1].previousHash).toBe(stored[0].hash);
        expect(stored[1].position).toBe(result.position);
        expect(typeof stored[0].recordedAt).toBe('string');
        expect(await store.streamRevision(streamId)).toBe(1n);
      });

      it('reads backwards, from a revision, and up to a count', async () => {
        const streamId = uniqueStream('case');
        await store.append(streamId, Array.from({ length: 5 }, (_, n) => testEvent('E', { n })), 'no-stream');

        const backwards = await collect(store.readStream(streamId, { direction: 'backwards', maxCount: 2 }));
        const fromTwo = await collect(store.readStream(streamId, { fromRevision: 2n }));
        const middle = await collect(store.readStream(streamId, { fromRevision: 1n, maxCount: 2 }));

        expect(backwards.map((event) => event.revision)).toEqual([4n, 3n]);
        expect(fromTwo.map((event) => event.revision)).toEqual([2n, 3n, 4n]);
        expect(middle.map((event) => event.revision)).toEqual([1n, 2n]);
      });

      it('answers a missing stream with no events and no revision, not an error', async () => {
        const streamId = uniqueStream('missing');
        expect(await collect(store.readStream(streamId))).toEqual([]);
        expect(await store.streamRevision(streamId)).toBeNull();
      });

      it('orders events by revision in a stream and by position in the whole log', async () => {
        const first = uniqueStream('order');
        const second = uniqueStream('order');
        const head = (await store.headPosition()) ?? -1n;
        await store.append(first, [testEvent('A', { n: 0 })], 'no-stream');
        await store.append(second, [testEvent('B', { n: 1 })], 'no-stream');
        await store.append(first, [testEvent('A', { n: 2 })], 0n);

        const all = (await collect(store.readAll({ fromPosition: head + 1n }))).filter((event) =>
          [first, second].includes(event.streamId),
        );

        expect(all.map((event) => event.data)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
        for (let index = 1; index < all.length; index += 1) {
          expect(all[index].position > all[index - 1].position).toBe(true);
        }
      });
    });

    it('reads the log filtered by stream prefix and type, counting only what passes', async () => {
      const prefix = uniqueStream('filtered');
      const head = (await store.headPosition()) ?? -1n;
      await store.append(`${prefix}-a`, [testEvent('Wanted', { n: 1 }), testEvent('Other', { n: 2 }), testEvent('Wanted', { n: 3 })], 'no-stream');
      await store.append(uniqueStream('elsewhere'), [testEvent('Wanted', { n: 4 })], 'no-stream');

      const filtered = await collect(store.readAll({ fromPosition: head + 1n, filter: { streamPrefixes: [prefix], eventTypes: ['Wanted'] } }));
      const firstOnly = await collect(store.readAll({ fromPosition: head + 1n, maxCount: 1, filter: { eventTypes: ['Other'] } }));

      expect(filtered.map((event) => event.data)).toEqual([{ n: 1 }, { n: 3 }]);
      expect(firstOnly.map((event) => event.data)).toEqual([{ n: 2 }]);
    });

    it('reads the log backwards from its end or from a position, filtered and counted as forwards', async () => {
      const prefix = uniqueStream('backwards');
      await store.append(`${prefix}-a`, [testEvent('Wanted', { n: 1 }), testEvent('Other', { n: 2 }), testEvent('Wanted', { n: 3 })], 'no-stream');
      const { position: last } = await store.append(`${prefix}-b`, [testEvent('Wanted', { n: 4 })], 'no-stream');

      const newest = await collect(store.readAll({ direction: 'backwards', maxCount: 2 }));
      const before = await collect(store.readAll({ direction: 'backwards', fromPosition: newest[1].position, maxCount: 2 }));
      const wanted = await collect(store.readAll({ direction: 'backwards', maxCount: 3, filter: { streamPrefixes: [prefix], eventTypes: ['Wanted'] } }));

      expect(newest.map((event) => event.data)).toEqual([{ n: 4 }, { n: 3 }]);
      expect(newest[0].position).toBe(last);
      expect(before.map((event) => event.data)).toEqual([{ n: 3 }, { n: 2 }]);
      expect(wanted.map((event) => event.data)).toEqual([{ n: 4 }, { n: 3 }, { n: 1 }]);
    });

    describe('optimistic concurrency', () => {
      it('refuses an append whose expected revision does not match, saying what was expected and found', async () => {
        const streamId = uniqueStream('referral');
        await store.append(streamId, [testEvent('A')], 'no-stream');

        await expect(store.append(streamId, [testEvent('B')], 'no-stream')).rejects.toMatchObject({
          code: 'wrong-expected-version',
          expected: 'no-stream',
          actual: 0n,
        });
        await expect(store.append(streamId, [testEvent('B')], 5n)).rejects.toBeInstanceOf(WrongExpectedVersionError);
        await expect(store.append(uniqueStream('none'), [testEvent('B')], 'stream-exists')).rejects.toMatchObject({
          actual: 'no-stream',
        });
        await expect(store.append(streamId, [testEvent('C')], 'stream-exists')).resolves.toMatchObject({
          nextExpectedRevision: 1n,
        });
        await expect(store.append(streamId, [testEvent('D')], 'any')).resolves.toMatchObject({ nextExpectedRevision: 2n });
      });

      it('lets exactly one of 20 concurrent appends at the same expected revision win', async () => {
        const streamId = uniqueStream('case');
        await store.append(streamId, [testEvent('CaseOpened')], 'no-stream');

        const outcomes = await Promise.allSettled(
          Array.from({ length: 20 }, (_, n) => store.append(streamId, [testEvent('CaseClaimed', { n })], 0n)),
        );

        expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
        const losers = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
        expect(losers).toHaveLength(19);
        for (const loser of losers) expect(loser.reason).toBeInstanceOf(WrongExpectedVersionError);
        expect(await collect(store.readStream(streamId))).toHaveLength(2);
      });

      it('treats a re-append of already stored events at the same point as success without writing twice', async () => {
        const streamId = uniqueStream('referral');
        const events = [testEvent('ReferralReceived'), testEvent('RiskAssessed')];
        const first = await store.append(streamId, events, 'no-stream');

        const again = await store.append(streamId, events, 'no-stream');

        expect(again).toEqual(first);
        expect(await collect(store.readStream(streamId))).toHaveLength(2);
      });

      it('treats a retried append with expected revision any as already done', async () => {
        const streamId = uniqueStream('referral');
        const events = [testEvent('CaseClaimed')];
        await store.append(streamId, [testEvent('CaseOpened')], 'no-stream');
        const first = await store.append(streamId, events, 'any');

        expect(await store.append(streamId, events, 'any')).toEqual(first);
        expect(await collect(store.readStream(streamId))).toHaveLength(2);
      });

      it('refuses a retry that only partly matches what is stored at that point', async () => {
        const streamId = uniqueStream('referral');
        const [received, assessed] = [testEvent('ReferralReceived'), testEvent('RiskAssessed')];
        await store.append(streamId, [received, assessed], 'no-stream');

        await expect(store.append(streamId, [received, testEvent('Other')], 'no-stream')).rejects.toBeInstanceOf(
          DuplicateEventIdError,
        );
        expect(await collect(store.readStream(streamId))).toHaveLength(2);
      });

      it('keeps each append atomic when appends share a commit', async () => {
        const good = uniqueStream('atomic');
        const bad = uniqueStream('atomic');
        await store.append(bad, [testEvent('A')], 'no-stream');

        const outcomes = await Promise.allSettled([
          store.append(good, [testEvent('A'), testEvent('B'), testEvent('C')], 'no-stream'),
          store.append(bad, [testEvent('B'), testEvent('C')], 'no-stream'),
        ]);

        expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected']);
        expect(await collect(store.readStream(good))).toHaveLength(3);
        expect(await collect(store.readStream(bad))).toHaveLength(1);
      });
    });

    describe('subscriptions', () => {
      it('catches up from a checkpoint, then delivers live events, filtered by stream prefix and type', async () => {
        const prefix = uniqueStream('sub');
        const checkpoint = (await store.headPosition()) ?? undefined;
        await store.append(`${prefix}-a`, [testEvent('Wanted', { n: 1 }), testEvent('Unwanted', { n: 2 })], 'no-stream');
        await store.append(uniqueStream('elsewhere'), [testEvent('Wanted', { n: 99 })], 'no-stream');

        const subscription = store.subscribeToAll({
          fromPosition: checkpoint,
          filter: { streamPrefixes: [prefix], eventTypes: ['Wanted'] },
        });
        const received: RecordedEvent[] = [];
        const done = (async () => {
          for await (const event of subscription) {
            received.push(event);
            if (received.length === 3) break;
          }
        })();
        await waitFor(() => received.length === 1);
        await store.append(`${prefix}-b`, [testEvent('Wanted', { n: 3 })], 'no-stream');
        await store.append(`${prefix}-a`, [testEvent('Wanted', { n: 4 })], 1n);
        await done;
        await subscription.close();

        expect(received.map((event) => event.data)).toEqual([{ n: 1 }, { n: 3 }, { n: 4 }]);
      });

      it('starts after the checkpoint, never at it', async () => {
        const streamId = uniqueStream('checkpoint');
        const first = await store.append(streamId, [testEvent('A', { n: 1 })], 'no-stream');
        await store.append(streamId, [testEvent('A', { n: 2 })], 0n);

        const subscription = store.subscribeToAll({ fromPosition: first.position, filter: { streamPrefixes: [streamId] } });
        const [next] = await collect(subscription, 1);
        await subscription.close();

        expect(next.data).toEqual({ n: 2 });
      });

      it('delivers 8 concurrent writers x 1,000 appends to a subscriber exactly once and in order', async () => {
        const prefix = uniqueStream('load');
        const checkpoint = (await store.headPosition()) ?? undefined;
        const writers = 8;
        const perWriter = 1000;
        const subscription = store.subscribeToAll({ fromPosition: checkpoint, filter: { streamPrefixes: [prefix] } });
        const seen: RecordedEvent[] = [];
        const reading = (async () => {
          for await (const event of subscription) {
            seen.push(event);
            if (seen.length === writers * perWriter) break;
          }
        })();

        await Promise.all(
          Array.from({ length: writers }, async (_, writer) => {
            for (let n = 0; n < perWriter; n += 1) {
              await store.append(`${prefix}-${writer}`, [testEvent('Load', { writer, n })], n === 0 ? 'no-stream' : BigInt(n - 1));
            }
          }),
        );
        await reading;
        await subscription.close();

        expect(new Set(seen.map((event) => event.id)).size).toBe(writers * perWriter);
        for (let index = 1; index < seen.length; index += 1) {
          expect(seen[index].position > seen[index - 1].position).toBe(true);
        }
        for (let writer = 0; writer < writers; writer += 1) {
          const ns = seen.filter((event) => event.streamId === `${prefix}-${writer}`).map((event) => (event.data as { n: number }).n);
          expect(ns).toEqual(Array.from({ length: perWriter }, (_, n) => n));
        }
      }, 120_000);

      it('slows down for a slow consumer instead of dropping or reordering', async () => {
        const streamId = uniqueStream('slow');
        const checkpoint = (await store.headPosition()) ?? undefined;
        await store.append(streamId, Array.from({ length: 50 }, (_, n) => testEvent('E', { n })), 'no-stream');
        const subscription = store.subscribeToAll({ fromPosition: checkpoint, filter: { streamPrefixes: [streamId] } });

        const seen: number[] = [];
        for await (const event of subscription) {
          await new Promise((resolve) => setTimeout(resolve, 2));
          seen.push((event.data as { n: number }).n);
          if (seen.length === 10) await store.append(streamId, [testEvent('E', { n: 50 })], 49n);
          if (seen.length === 51) break;
        }
        await subscription.close();

        expect(seen).toEqual(Array.from({ length: 51 }, (_, n) => n));
      });
    });

    describe('tamper evidence', () => {
      it('chains each event to the previous one of its stream and verifies the chain', async () => {
        const streamId = uniqueStream('chain');
        await store.append(streamId, [testEvent('A'), testEvent('B')], 'no-stream');
        await store.append(streamId, [testEvent('C')], 1n);

        expect(await verifyStream(store.readStream(streamId))).toEqual({ valid: true, checked: 3 });
      });

      it('names the first broken link when an event is altered', async () => {
        const streamId = uniqueStream('chain');
        await store.append(streamId, [testEvent('A', { risk: 'high' }), testEvent('B'), testEvent('C')], 'no-stream');
        const events = await collect(store.readStream(streamId));
        const altered = { ...events[1], data: { risk: 'standard' } };

        const verifier = new ChainVerifier();
        [events[0], altered, events[2]].forEach((event) => verifier.add(event));

        expect(verifier.verdict()).toMatchObject({
          valid: false,
          brokenAt: { streamId, revision: '1', eventId: events[1].id, reason: 'content does not match its hash' },
        });
      });

      if (capabilities.tamper) {
        it('detects a row altered directly in the store at that event', async () => {
          const streamId = uniqueStream('chain');
          await store.append(streamId, [testEvent('A'), testEvent('B', { level: 'high' }), testEvent('C')], 'no-stream');
          const original = await collect(store.readStream(streamId));

          await capabilities.tamper!(target, streamId, 1n);

          expect(await verifyStream(store.readStream(streamId))).toMatchObject({
            valid: false,
            brokenAt: { streamId, revision: '1', eventId: original[1].id },
          });
        });
      }
    });

    if (capabilities.durability) {
      const durability = capabilities.durability;
      it('keeps every acknowledged event after the writer is killed with SIGKILL mid-stream', async () => {
        const prefix = uniqueStream('crash');
        const acks = await runAndKill(durability.factoryModule, durability.argument(), prefix, 300);
        await target.cleanup();
        target = await durability.reopen();
        store = target.store;

        for (const [streamId, revisions] of acks) {
          const stored = await collect(store.readStream(streamId));
          const storedIds = new Map(stored.map((event) => [event.revision.toString(), event.id]));
          for (const [revision, eventId] of revisions) expect(storedIds.get(revision)).toBe(eventId);
          expect((await verifyStream(store.readStream(streamId))).valid).toBe(true);
        }
        expect([...acks.values()].reduce((sum, revisions) => sum + revisions.size, 0)).toBeGreaterThanOrEqual(300);
      }, 60_000);
    }
  });
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Starts the child writer, lets it acknowledge at least `minimumAcks` appends, then kills it without warning. */
function runAndKill(
  factoryModule: string,
  argument: string,
  prefix: string,
  minimumAcks: number,
): Promise<Map<string, Map<string, string>>> {
  const root = path.resolve(__dirname, '../../../..');
  const child = spawn(
    process.execPath,
    ['-r', path.join(root, 'tools/ts-register.js'), path.join(__dirname, 'durability-child.ts'), factoryModule, argument, prefix],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const acks = new Map<string, Map<string, string>>();
  let count = 0;
  let buffered = '';
  let errors = '';
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const [word, streamId, revision, eventId] = line.split(' ');
        if (word !== 'ack') continue;
        if (!acks.has(streamId)) acks.set(streamId, new Map());
        acks.get(streamId)!.set(revision, eventId);
        count += 1;
      }
      if (count >= minimumAcks && !child.killed) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(acks);
      else reject(new Error(`the writer exited before it was killed (code ${code}): ${errors}`));
    });
  });
}

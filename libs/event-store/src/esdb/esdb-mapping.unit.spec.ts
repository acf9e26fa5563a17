import { PassThrough, Readable } from 'node:stream';
import {
  StreamNotFoundError,
  WrongExpectedVersionError as EsdbWrongExpectedVersionError,
  type AllStreamResolvedEvent,
  type AppendResult as EsdbAppendResult,
  type EventData,
  type ResolvedEvent,
  type StreamingRead,
} from '@eventstore/db-client';
import type { NewEvent, RecordedEvent } from '../event-store.port';
import { DuplicateEventIdError, InvalidAppendError, WrongExpectedVersionError } from '../errors';
import { eventHash, verifyStream } from '../hash-chain';
import { collect, testEvent } from '../testing/events';
import {
  EsdbSubscription,
  EventStoreDbEventStore,
  buildEnvelope,
  checkAppend,
  copyInTail,
  exactTypesRegex,
  fromAllStream,
  fromEsdbCurrentRevision,
  fromEsdbWrongExpectedVersion,
  isSystemEvent,
  matchReplay,
  parseEnvelope,
  planAppend,
  replayStart,
  subscriptionPlan,
  toEsdbExpectedRevision,
  toEsdbPosition,
  toRecordedEvent,
  type SubscriptionSource,
} from './esdb-event-store';

/** What the client hands back for one of our events: metadata and data have been through JSON, as on the wire. */
function esdbRecord(
  event: NewEvent,
  at: { streamId: string; revision: bigint; position: bigint; previousHash: string | null; recordedAt?: string },
): AllStreamResolvedEvent {
  const recordedAt = at.recordedAt ?? '2025-01-06T09:00:00.000Z';
  const hash = eventHash(event, { streamId: at.streamId, revision: at.revision, recordedAt, previousHash: at.previousHash });
  return {
    commitPosition: at.position,
    event: {
      streamId: at.streamId,
      id: event.id,
      isJson: true,
      revision: at.revision,
      type: event.type,
      created: new Date(recordedAt),
      data: JSON.parse(JSON.stringify(event.data)),
      metadata: JSON.parse(JSON.stringify(buildEnvelope(event, { recordedAt, hash, previousHash: at.previousHash }))),
      position: toEsdbPosition(at.position),
    },
  };
}

/** A stream of our events as ESDB would return it, chained and with growing positions. */
function storedStream(streamId: string, events: NewEvent[], firstPosition = 1000n): RecordedEvent[] {
  const stored: RecordedEvent[] = [];
  events.forEach((event, index) => {
    const record = esdbRecord(event, {
      streamId,
      revision: BigInt(index),
      position: firstPosition + BigInt(index) * 100n,
      previousHash: stored[index - 1]?.hash ?? null,
    });
    stored.push(toRecordedEvent(record.event!)!);
  });
  return stored;
}

async function* iterate<T>(items: T[]): AsyncIterable<T> {
  yield* items;
}

describe('EventStoreDB adapter mapping', () => {
  describe('expected revisions and errors', () => {
    it('maps the port constants to the client constants and passes exact revisions through', () => {
      expect(toEsdbExpectedRevision('no-stream')).toBe('no_stream');
      expect(toEsdbExpectedRevision('any')).toBe('any');
      expect(toEsdbExpectedRevision('stream-exists')).toBe('stream_exists');
      expect(toEsdbExpectedRevision(7n)).toBe(7n);
    });

    it("reads the client's current revision, where 'no_stream' and -1 both mean no stream", () => {
      expect(fromEsdbCurrentRevision('no_stream')).toBe('no-stream');
      expect(fromEsdbCurrentRevision(-1n)).toBe('no-stream');
      expect(fromEsdbCurrentRevision(0n)).toBe(0n);
      expect(fromEsdbCurrentRevision(41n)).toBe(41n);
    });

    it("turns the client's wrong-expected-version error into ours, keeping the caller's expectation", () => {
      const clientError = new EsdbWrongExpectedVersionError(undefined, {
        streamName: 'case-1',
        expected: 3n,
        current: 5n,
      });
      const error = fromEsdbWrongExpectedVersion(clientError, 'case-1', 'any');

      expect(error).toBeInstanceOf(WrongExpectedVersionError);
      expect(error).toMatchObject({ code: 'wrong-expected-version', streamId: 'case-1', expected: 'any', actual: 5n });
      const missing = new EsdbWrongExpectedVersionError(undefined, { streamName: 'x', expected: 0n, current: 'no_stream' });
      expect(fromEsdbWrongExpectedVersion(missing, 'x', 0n).actual).toBe('no-stream');
    });
  });

  describe('positions', () => {
    it('rebuilds the client position from a commit position (commit and prepare are equal per event)', () => {
      expect(toEsdbPosition(123456n)).toEqual({ commit: 123456n, prepare: 123456n });
    });

    it('uses the commit position as the event position, falling back to the resolved commit position', () => {
      const event = testEvent('ReferralReceived', { n: 1 });
      const record = esdbRecord(event, { streamId: 'referral-1', revision: 0n, position: 4242n, previousHash: null });
      expect(toRecordedEvent(record.event!)!.position).toBe(4242n);

      const withoutPosition = { ...record.event!, position: undefined };
      expect(toRecordedEvent(withoutPosition, 4242n)!.position).toBe(4242n);
      expect(() => toRecordedEvent(withoutPosition)).toThrow(/22\.6/);
    });
  });

  describe('metadata envelope', () => {
    it("carries our metadata, schema version and chain, plus ESDB's $correlationId and $causationId", () => {
      const event = testEvent('RiskAssessed');
      event.metadata.causationId = 'c0ffee00-0000-4000-8000-000000000001';
      const envelope = buildEnvelope(event, { recordedAt: '2025-01-06T09:00:00.000Z', hash: 'h1', previousHash: 'h0' });

      expect(envelope).toEqual({
        schemaVersion: 1,
        metadata: event.metadata,
        recordedAt: '2025-01-06T09:00:00.000Z',
        hash: 'h1',
        previousHash: 'h0',
        $correlationId: event.metadata.correlationId,
        $causationId: 'c0ffee00-0000-4000-8000-000000000001',
      });
      expect(parseEnvelope(JSON.parse(JSON.stringify(envelope)))).toEqual(envelope);
    });

    it('leaves $causationId out when nothing caused the event', () => {
      const envelope = buildEnvelope(testEvent('ReferralReceived'), { recordedAt: 't', hash: 'h', previousHash: null });
      expect('$causationId' in envelope).toBe(false);
      expect(parseEnvelope(envelope)?.previousHash).toBeNull();
    });

    it('recognises metadata that is not our envelope', () => {
      expect(parseEnvelope(undefined)).toBeNull();
      expect(parseEnvelope(new Uint8Array([1, 2]))).toBeNull();
      expect(parseEnvelope({ $correlationId: 'x' })).toBeNull();
      expect(parseEnvelope([1, 2])).toBeNull();
      const event = testEvent('A');
      const { hash: _hash, ...withoutHash } = buildEnvelope(event, { recordedAt: 't', hash: 'h', previousHash: null });
      expect(parseEnvelope(withoutHash)).toBeNull();
    });
  });

  describe('reading events back', () => {
    it('maps a stored event to the port shape with its chain fields', () => {
      const event = testEvent('ReferralReceived', { agency: 'police' });
      const record = esdbRecord(event, { streamId: 'referral-9', revision: 0n, position: 9000n, previousHash: null });

      expect(toRecordedEvent(record.event!)).toEqual({
        id: event.id,
        type: 'ReferralReceived',
        schemaVersion: 1,
        data: { agency: 'police' },
        metadata: event.metadata,
        streamId: 'referral-9',
        revision: 0n,
        position: 9000n,
        recordedAt: '2025-01-06T09:00:00.000Z',
        hash: expect.stringMatching(/^[0-9a-f]{64}$/),
        previousHash: null,
      });
    });

    it('yields events whose hash chain verifies after the JSON round trip', async () => {
      const stored = storedStream('case-7', [testEvent('CaseOpened', { a: [1, { b: 2 }] }), testEvent('CaseClaimed'), testEvent('CaseClosed')]);
      expect(await verifyStream(iterate(stored))).toEqual({ valid: true, checked: 3 });
    });

    it('treats binary events and events without our envelope as not ours', () => {
      const record = esdbRecord(testEvent('A'), { streamId: 's', revision: 0n, position: 1n, previousHash: null });
      expect(toRecordedEvent({ ...record.event!, metadata: { other: 'app' } })).toBeNull();
      expect(
        toRecordedEvent({ ...record.event!, isJson: false, data: new Uint8Array([1]), metadata: undefined }),
      ).toBeNull();
    });

    it('passes over system streams, system event types and unresolved links when reading $all', () => {
      const ours = esdbRecord(testEvent('A'), { streamId: 'referral-1', revision: 0n, position: 10n, previousHash: null });
      const systemStream = esdbRecord(testEvent('A'), { streamId: '$stats-0.0.0.0:2113', revision: 0n, position: 11n, previousHash: null });
      const systemType = esdbRecord(testEvent('$metadata'), { streamId: 'referral-1', revision: 1n, position: 12n, previousHash: null });

      expect(fromAllStream(ours)?.streamId).toBe('referral-1');
      expect(fromAllStream(systemStream)).toBeNull();
      expect(fromAllStream(systemType)).toBeNull();
      expect(fromAllStream({ commitPosition: 13n })).toBeNull();
      expect(isSystemEvent('$>', 'x')).toBe(true);
      expect(isSystemEvent('case-1', '$>')).toBe(true);
      expect(isSystemEvent('case-1', 'CaseClaimed')).toBe(false);
    });
  });

  describe('subscription filters', () => {
    it('filters by stream prefix on the server and by type here when both are given', () => {
      const plan = subscriptionPlan({ streamPrefixes: ['case-', 'referral-'], eventTypes: ['CaseClaimed'] });

      expect(plan.server).toMatchObject({ filterOn: 'streamName', prefixes: ['case-', 'referral-'] });
      expect(plan.accepts({ streamId: 'case-1', type: 'CaseClaimed' })).toBe(true);
      expect(plan.accepts({ streamId: 'case-1', type: 'CaseClaimedAgain' })).toBe(false);
      expect(plan.accepts({ streamId: 'marac-1', type: 'CaseClaimed' })).toBe(false);
    });

    it('filters by exact event type on the server when only types are given', () => {
      const plan = subscriptionPlan({ eventTypes: ['CaseClaimed', 'Case.Closed'] });

      expect(plan.server).toMatchObject({ filterOn: 'eventType', regex: '^(?:CaseClaimed|Case\\.Closed)$' });
      const regex = new RegExp(exactTypesRegex(['CaseClaimed', 'Case.Closed']));
      expect(['CaseClaimed', 'Case.Closed'].every((type) => regex.test(type))).toBe(true);
      expect(['CaseClaimedX', 'CaseXClosed', 'xCaseClaimed'].some((type) => regex.test(type))).toBe(false);
      expect(plan.accepts({ streamId: 'anything', type: 'Case.Closed' })).toBe(true);
    });

    it('excludes system events on the server when there is no filter, and treats empty lists as no filter', () => {
      for (const filter of [undefined, {}, { streamPrefixes: [], eventTypes: [] }]) {
        const plan = subscriptionPlan(filter);
        expect(plan.server).toMatchObject({ filterOn: 'eventType', regex: '^[^$].*' });
        expect(plan.accepts({ streamId: 'case-1', type: 'A' })).toBe(true);
        expect(plan.accepts({ streamId: '$settings', type: 'A' })).toBe(false);
      }
    });
  });

  describe('planning an append', () => {
    const streamId = 'case-42';
    const stored = storedStream(streamId, [testEvent('A'), testEvent('B'), testEvent('C')]);
    const last = stored[2];

    it('appends after the last event, at its exact revision, chained to its hash', () => {
      for (const expected of ['any', 'stream-exists', 2n] as const) {
        expect(planAppend(streamId, expected, last)).toEqual({ expected: 2n, firstRevision: 3n, previousHash: last.hash });
      }
    });

    it('starts a new stream at revision 0 with no previous hash', () => {
      for (const expected of ['any', 'no-stream'] as const) {
        expect(planAppend(streamId, expected, undefined)).toEqual({ expected: 'no_stream', firstRevision: 0n, previousHash: null });
      }
    });

    it('refuses, with what it found, when the expectation already fails', () => {
      expect(() => planAppend(streamId, 'no-stream', last)).toThrow(
        expect.objectContaining({ expected: 'no-stream', actual: 2n }) as unknown as Error,
      );
      expect(() => planAppend(streamId, 'stream-exists', undefined)).toThrow(WrongExpectedVersionError);
      expect(() => planAppend(streamId, 5n, last)).toThrow(WrongExpectedVersionError);
      expect(() => planAppend(streamId, 0n, undefined)).toThrow(
        expect.objectContaining({ actual: 'no-stream' }) as unknown as Error,
      );
    });
  });

  describe('recognising a retried append', () => {
    const streamId = 'referral-5';
    const events = [testEvent('A'), testEvent('B'), testEvent('C'), testEvent('D')];
    const stored = storedStream(streamId, events);
    const tail = [...stored].reverse();

    it('looks right after the expected revision, when that point is inside the stream', () => {
      expect(replayStart('no-stream', 3n)).toBe(0n);
      expect(replayStart(1n, 3n)).toBe(2n);
      expect(replayStart(3n, 3n)).toBeNull();
      expect(replayStart(5n, 3n)).toBeNull();
      expect(replayStart('no-stream', null)).toBeNull();
      expect(replayStart('any', 3n)).toBeNull();
      expect(replayStart('stream-exists', 3n)).toBeNull();
    });

    it('answers a retry with the stored result when the same ids are stored there in order', () => {
      expect(matchReplay(events.slice(0, 2), stored.slice(0, 2))).toEqual({
        nextExpectedRevision: 1n,
        position: stored[1].position,
      });
      expect(matchReplay(events.slice(2), stored.slice(2))).toEqual({ nextExpectedRevision: 3n, position: stored[3].position });
    });

    it('finds no replay where the stored events are other events', () => {
      expect(matchReplay([testEvent('E')], [])).toBeNull();
      expect(matchReplay([testEvent('E')], stored.slice(0, 1))).toBeNull();
    });

    it('refuses a copy that begins the same and then differs or stops short', () => {
      expect(() => matchReplay([events[0], testEvent('X')], stored.slice(0, 2))).toThrow(DuplicateEventIdError);
      expect(() => matchReplay([events[3], testEvent('X')], stored.slice(3))).toThrow(DuplicateEventIdError);
    });

    it("for 'any', finds the copy among the stream's last events", () => {
      expect(copyInTail(events.slice(1, 3), tail).map((event) => event.revision)).toEqual([1n, 2n]);
      expect(copyInTail(events.slice(3), tail).map((event) => event.revision)).toEqual([3n]);
      expect(copyInTail([testEvent('E')], tail)).toEqual([]);
      expect(matchReplay(events.slice(1, 3), copyInTail(events.slice(1, 3), tail))?.nextExpectedRevision).toBe(2n);
    });
  });

  describe('checking an append before it is sent', () => {
    it('needs a stream, at least one event, lower-case UUID ids and no id twice', () => {
      const event = testEvent('A');
      expect(() => checkAppend('s', [event])).not.toThrow();
      expect(() => checkAppend('', [event])).toThrow(InvalidAppendError);
      expect(() => checkAppend('s', [])).toThrow(InvalidAppendError);
      expect(() => checkAppend('s', [{ ...event, id: 'not-a-uuid' }])).toThrow(/not a lower-case UUID/);
      expect(() => checkAppend('s', [{ ...event, id: event.id.toUpperCase() }])).toThrow(InvalidAppendError);
      expect(() => checkAppend('s', [event, event])).toThrow(/twice/);
    });
  });
});

/** A stand-in for the client's subscription: a Node object stream with `unsubscribe`, which is all the adapter uses. */
function fakeSource(endsOnUnsubscribe = true): PassThrough & SubscriptionSource & { unsubscribed: number } {
  const stream = new PassThrough({ objectMode: true, highWaterMark: 2 });
  return Object.assign(stream, {
    unsubscribed: 0,
    async unsubscribe() {
      this.unsubscribed += 1;
      if (endsOnUnsubscribe) stream.end();
    },
  });
}

describe('EventStoreDB subscription wrapper (fake source, no server)', () => {
  const events = [testEvent('Wanted', { n: 1 }), testEvent('Unwanted', { n: 2 }), testEvent('Wanted', { n: 3 })];
  const records = events.map((event, index) =>
    esdbRecord(event, { streamId: 'sub-1', revision: BigInt(index), position: 100n * BigInt(index + 1), previousHash: null }),
  );

  it('delivers accepted events after the checkpoint, never at it, and skips system events', async () => {
    const source = fakeSource();
    const plan = subscriptionPlan({ eventTypes: ['Wanted'] });
    const subscription = new EsdbSubscription(() => source, 100n, plan.accepts);
    const system = esdbRecord(testEvent('$statsCollected'), { streamId: '$stats', revision: 0n, position: 250n, previousHash: null });
    for (const record of [records[0], records[1], system, records[2]]) source.write(record);

    const received = await collect(subscription, 1);

    expect(received.map((event) => event.data)).toEqual([{ n: 3 }]);
    expect(source.unsubscribed).toBe(1);
  });

  it.each([
    ['ends', true],
    ['does not end', false],
  ])('ends a consumer waiting for the next event when closed, without an error (source %s on cancel)', async (_, ends) => {
    const source = fakeSource(ends);
    const subscription = new EsdbSubscription(() => source, null, subscriptionPlan().accepts);
    const seen: unknown[] = [];
    const consuming = (async () => {
      for await (const event of subscription) seen.push(event.data);
    })();
    source.write(records[0]);
    while (seen.length === 0) await new Promise((resolve) => setImmediate(resolve));

    await subscription.close();
    await expect(consuming).resolves.toBeUndefined();
    expect(seen).toEqual([{ n: 1 }]);
    expect(source.unsubscribed).toBeGreaterThanOrEqual(1);
  });

  it('pulls: an idle consumer leaves events in the source, where back-pressure reaches the producer', async () => {
    const source = fakeSource();
    const subscription = new EsdbSubscription(() => source, null, subscriptionPlan().accepts);
    const iterator = subscription[Symbol.asyncIterator]();
    for (const record of records) source.write(record);

    const first = await iterator.next();

    expect(first.value).toMatchObject({ data: { n: 1 } });
    // Nothing is buffered by the wrapper: the rest is still in the source, which reports it is full.
    expect(source.readableLength + source.writableLength).toBeGreaterThanOrEqual(1);
    expect(source.write(records[0])).toBe(false);
    await subscription.close();
  });
});

/** A stand-in for the client's streaming read: a readable of resolved events with `cancel`. */
function fakeRead(items: ResolvedEvent[], error?: Error): StreamingRead<ResolvedEvent> {
  const readable = Readable.from(
    (async function* () {
      yield* items;
      if (error) throw error;
    })(),
  );
  return Object.assign(readable, { cancel: async () => undefined }) as unknown as StreamingRead<ResolvedEvent>;
}

describe('EventStoreDB append orchestration (stubbed client calls, no server)', () => {
  // These check what the adapter sends and how it reads the client's answers; how a real server answers is the
  // contract suite's job (esdb-event-store.int.spec.ts, run against a server).
  let store: EventStoreDbEventStore;
  let client: EventStoreDbEventStore['client'];

  beforeEach(() => {
    store = new EventStoreDbEventStore('esdb://localhost:1?tls=false');
    client = store['client'];
  });
  afterEach(() => store.close());

  /** The client's readStream over `stored`, honouring direction, start and count as the server does. */
  function streamHolds(streamId: string, stored: RecordedEvent[]) {
    return jest.spyOn(client, 'readStream').mockImplementation((_stream, options = {}) => {
      if (stored.length === 0) return fakeRead([], new StreamNotFoundError(undefined, streamId));
      const backwards = options.direction === 'backwards';
      const from = options.fromRevision;
      const selected = (backwards ? [...stored].reverse() : stored)
        .filter((event) => typeof from !== 'bigint' || (backwards ? event.revision <= from : event.revision >= from))
        .slice(0, Number(options.maxCount ?? Number.MAX_SAFE_INTEGER));
      return fakeRead(selected.map((event) => esdbRecord(event, { ...event })) as ResolvedEvent[]);
    });
  }

  it('sends each event with our id, type, JSON data and a chained envelope, at the exact revision', async () => {
    const streamId = 'case-1';
    const stored = storedStream(streamId, [testEvent('CaseOpened')]);
    streamHolds(streamId, stored);
    const sent: EventData[] = [];
    const append = jest.spyOn(client, 'appendToStream').mockImplementation(async (_stream, events) => {
      sent.push(...(Array.isArray(events) ? events : [events]));
      return { success: true, nextExpectedRevision: 2n, position: { commit: 5000n, prepare: 4900n } } satisfies EsdbAppendResult;
    });
    const events = [testEvent('CaseClaimed', { by: 'w1' }), testEvent('ContactAttempted', { n: 1 })];

    const result = await store.append(streamId, events, 'any');

    expect(result).toEqual({ nextExpectedRevision: 2n, position: 5000n });
    expect(append).toHaveBeenCalledWith(streamId, expect.any(Array), { expectedRevision: 0n });
    expect(sent.map((event) => [event.id, event.type, event.contentType, event.data])).toEqual([
      [events[0].id, 'CaseClaimed', 'application/json', { by: 'w1' }],
      [events[1].id, 'ContactAttempted', 'application/json', { n: 1 }],
    ]);
    // As the server would hand them back: the chain continues from the stored event and verifies.
    const readBack = sent.map((event, index) => {
      const envelope = parseEnvelope(JSON.parse(JSON.stringify(event.metadata)))!;
      return { ...events[index], streamId, revision: BigInt(index + 1), position: 0n, ...envelope };
    });
    expect(readBack[0].previousHash).toBe(stored[0].hash);
    expect(readBack[0].$correlationId).toBe(events[0].metadata.correlationId);
    expect(await verifyStream(iterate([stored[0], ...readBack]))).toEqual({ valid: true, checked: 3 });
  });

  it('retries an "any" append that loses a race, but not one at an exact revision', async () => {
    const streamId = 'case-2';
    streamHolds(streamId, storedStream(streamId, [testEvent('CaseOpened')]));
    const lost = new EsdbWrongExpectedVersionError(undefined, { streamName: streamId, expected: 0n, current: 1n });
    const append = jest
      .spyOn(client, 'appendToStream')
      .mockRejectedValueOnce(lost)
      .mockResolvedValueOnce({ success: true, nextExpectedRevision: 1n, position: { commit: 7n, prepare: 7n } });

    await expect(store.append(streamId, [testEvent('A')], 'any')).resolves.toEqual({ nextExpectedRevision: 1n, position: 7n });
    expect(append).toHaveBeenCalledTimes(2);

    append.mockReset().mockRejectedValue(lost);
    await expect(store.append(streamId, [testEvent('B')], 0n)).rejects.toMatchObject({
      code: 'wrong-expected-version',
      expected: 0n,
      actual: 1n,
    });
    expect(append).toHaveBeenCalledTimes(1);
  });

  it('answers a retried append from the stream without writing', async () => {
    const streamId = 'referral-3';
    const events = [testEvent('ReferralReceived'), testEvent('RiskAssessed')];
    const stored = storedStream(streamId, events);
    streamHolds(streamId, stored);
    const append = jest.spyOn(client, 'appendToStream');

    await expect(store.append(streamId, events, 'no-stream')).resolves.toEqual({
      nextExpectedRevision: 1n,
      position: stored[1].position,
    });
    expect(append).not.toHaveBeenCalled();
    await expect(store.append(streamId, [events[0], testEvent('Other')], 'no-stream')).rejects.toBeInstanceOf(
      DuplicateEventIdError,
    );
    await expect(store.append(streamId, [testEvent('Other')], 'no-stream')).rejects.toMatchObject({ actual: 1n });
    expect(append).not.toHaveBeenCalled();
  });

  it("reads one event before an exact append and the stream's last events before an 'any' append", async () => {
    const streamId = 'case-4';
    const read = streamHolds(streamId, storedStream(streamId, [testEvent('CaseOpened')]));
    jest
      .spyOn(client, 'appendToStream')
      .mockResolvedValueOnce({ success: true, nextExpectedRevision: 1n, position: { commit: 9n, prepare: 9n } })
      .mockResolvedValueOnce({ success: true, nextExpectedRevision: 2n, position: { commit: 11n, prepare: 10n } });

    await store.append(streamId, [testEvent('A')], 0n);
    expect(read.mock.calls.map(([, options]) => options)).toEqual([
      { direction: 'backwards', fromRevision: 'end', maxCount: 1 },
    ]);

    read.mockClear();
    await store.append(streamId, [testEvent('B'), testEvent('C')], 'any');
    expect(read.mock.calls.map(([, options]) => options)).toEqual([
      { direction: 'backwards', fromRevision: 'end', maxCount: 2 + 32 },
    ]);
  });

  it('reads a missing stream as empty and refuses once closed', async () => {
    streamHolds('nothing-here', []);
    expect(await collect(store.readStream('nothing-here'))).toEqual([]);
    expect(await store.streamRevision('nothing-here')).toBeNull();

    await store.close();
    await expect(store.append('x', [testEvent('A')], 'any')).rejects.toMatchObject({ code: 'store-closed' });
  });
});

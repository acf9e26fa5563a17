import {
  ANY,
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError as EsdbWrongExpectedVersionError,
  eventTypeFilter,
  excludeSystemEvents,
  jsonEvent,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  type AppendResult as EsdbAppendResult,
  type CurrentRevision,
  type Filter,
  type JSONType,
  type Position,
  type RecordedEvent as EsdbRecordedEvent,
} from '@eventstore/db-client';
import type {
  AppendResult,
  EventMetadata,
  EventStore,
  ExpectedRevision,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
  SubscriptionFilter,
} from '../event-store.port';
import { revisionMatches } from '../event-store.port';
import { DuplicateEventIdError, InvalidAppendError, StoreClosedError, WrongExpectedVersionError } from '../errors';
import { eventHash } from '../hash-chain';

/*
 * The EventStoreDB adapter. EventStoreDB keeps the events, their order and the expected-revision check; this
 * adapter adds what the port promises beyond that: the hash chain (kept in each event's metadata), our typed
 * errors, bigint positions (the commit position in $all) and replay detection for retried appends.
 */

// ---------------------------------------------------------------------------------------------------------------
// Pure mapping between the port and the client (unit-tested without a server).
// ---------------------------------------------------------------------------------------------------------------

/** What an ESDB event's metadata holds: our envelope plus the two keys ESDB's own projections read. */
export interface StoredMetadata {
  schemaVersion: number;
  metadata: EventMetadata;
  recordedAt: string;
  hash: string;
  previousHash: string | null;
  /** Read by the $by_correlation_id system projection. */
  $correlationId: string;
  /** ESDB's name for the causing message; left out when nothing caused the event. */
  $causationId?: string;
}

export function toEsdbExpectedRevision(expected: ExpectedRevision): AppendExpectedRevision {
  switch (expected) {
    case 'no-stream':
      return NO_STREAM;
    case 'any':
      return ANY;
    case 'stream-exists':
      return STREAM_EXISTS;
    default:
      return expected;
  }
}

/** The client says 'no_stream', and a server-side error may carry -1, for a stream that does not exist. */
export function fromEsdbCurrentRevision(current: CurrentRevision): bigint | 'no-stream' {
  return current === NO_STREAM || current < 0n ? 'no-stream' : current;
}

export function fromEsdbWrongExpectedVersion(
  error: EsdbWrongExpectedVersionError,
  streamId: string,
  expected: ExpectedRevision,
): WrongExpectedVersionError {
  // `expected` is the caller's, not the exact revision the adapter sent on its behalf for 'any'/'stream-exists'.
  return new WrongExpectedVersionError(streamId, expected, fromEsdbCurrentRevision(error.actualVersion));
}

/**
 * Our positions are commit positions. Since ESDB 20 every event is its own implicitly committed record, so its
 * commit and prepare positions are the same number and the pair can be rebuilt from the commit position alone.
 */
export function toEsdbPosition(position: bigint): Position {
  return { commit: position, prepare: position };
}

/** ESDB's own events ($stats, $settings, projection links `$>`...) never reach our callers. */
export function isSystemEvent(streamId: string, type: string): boolean {
  return streamId.startsWith('$') || type.startsWith('$');
}

export function buildEnvelope(
  event: NewEvent,
  chain: { recordedAt: string; hash: string; previousHash: string | null },
): StoredMetadata {
  const envelope: StoredMetadata = {
    schemaVersion: event.schemaVersion,
    metadata: event.metadata,
    recordedAt: chain.recordedAt,
    hash: chain.hash,
    previousHash: chain.previousHash,
    $correlationId: event.metadata.correlationId,
  };
  if (event.metadata.causationId !== null) envelope.$causationId = event.metadata.causationId;
  return envelope;
}

/** Null when the metadata is not our envelope, i.e. the event was written by something else. */
export function parseEnvelope(value: unknown): StoredMetadata | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) return null;
  const record = value as Record<string, unknown>;
  const ok =
    typeof record.schemaVersion === 'number' &&
    typeof record.metadata === 'object' &&
    record.metadata !== null &&
    typeof record.recordedAt === 'string' &&
    typeof record.hash === 'string' &&
    (record.previousHash === null || typeof record.previousHash === 'string') &&
    typeof record.$correlationId === 'string';
  return ok ? (record as unknown as StoredMetadata) : null;
}

/**
 * Maps a stored ESDB event to ours, or null when it is not one of ours (binary, or no envelope).
 * `commitPosition` is the resolved event's commit position, used if the record itself carries none.
 */
export function toRecordedEvent(event: EsdbRecordedEvent, commitPosition?: bigint): RecordedEvent | null {
  if (!event.isJson) return null;
  const envelope = parseEnvelope(event.metadata);
  if (!envelope) return null;
  const position = event.position?.commit ?? commitPosition;
  if (position === undefined) {
    // Servers before 22.6 leave positions out of stream reads; the port needs them (checkpoints, audit).
    throw new Error(`EventStoreDB returned no position for event ${event.id}; a server of 22.6 or later is required`);
  }
  return {
    id: event.id,
    type: event.type,
    schemaVersion: envelope.schemaVersion,
    data: event.data,
    metadata: envelope.metadata,
    streamId: event.streamId,
    revision: event.revision,
    position,
    recordedAt: envelope.recordedAt,
    hash: envelope.hash,
    previousHash: envelope.previousHash,
  };
}

/** An event read from $all, or null when callers must not see it (system or foreign). */
export function fromAllStream(resolved: AllStreamResolvedEvent): RecordedEvent | null {
  const event = resolved.event;
  if (!event || isSystemEvent(event.streamId, event.type)) return null;
  return toRecordedEvent(event, resolved.commitPosition);
}

/** A .NET regex (which is what ESDB runs) matching exactly these event types. */
export function exactTypesRegex(types: readonly string[]): string {
  const escaped = types.map((type) => type.replace(/[\\^$.*+?()[\]{}|#\s]/g, (c) => `\\${c}`));
  return `^(?:${escaped.join('|')})$`;
}

export interface SubscriptionPlan {
  /** What ESDB filters on the server: one filter kind per subscription. */
  server: Filter;
  /** The full port filter, applied again on this side (types when prefixes went to the server; system events). */
  accepts(event: { streamId: string; type: string }): boolean;
}

export function subscriptionPlan(filter: SubscriptionFilter = {}): SubscriptionPlan {
  const prefixes = filter.streamPrefixes?.length ? filter.streamPrefixes : null;
  const types = filter.eventTypes?.length ? new Set(filter.eventTypes) : null;
  // Stream prefixes are the narrower cut for our stream-per-entity layout, so they win when both are given.
  const server = prefixes
    ? streamNameFilter({ prefixes })
    : types
      ? eventTypeFilter({ regex: exactTypesRegex([...types]) })
      : excludeSystemEvents();
  return {
    server,
    accepts: ({ streamId, type }) =>
      !isSystemEvent(streamId, type) &&
      (!prefixes || prefixes.some((prefix) => streamId.startsWith(prefix))) &&
      (!types || types.has(type)),
  };
}

/**
 * Replay detection, the embedded store's rule: an append whose events are already stored, in order, right where
 * it expected to put them, is answered with the stored result and nothing is written. For an exact revision (or
 * 'no-stream') the copy can only begin right after that revision; this says where, when it lies inside the stream.
 */
export function replayStart(expected: ExpectedRevision, current: bigint | null): bigint | null {
  if (current === null || expected === 'any' || expected === 'stream-exists') return null;
  const start = expected === 'no-stream' ? 0n : expected + 1n;
  return start <= current ? start : null;
}

/** For 'any'/'stream-exists' there is no such point: the copy is looked for among the stream's last events. */
export function copyInTail(events: readonly NewEvent[], tail: readonly RecordedEvent[]): RecordedEvent[] {
  const ascending = [...tail].reverse();
  const at = ascending.findIndex((event) => event.id === events[0].id);
  return at < 0 ? [] : ascending.slice(at, at + events.length);
}

/**
 * `stored` is what the stream holds where a copy of this append would begin. The append is a replay when it
 * holds exactly these ids in this order; a copy that starts the same and then differs is refused.
 */
export function matchReplay(events: readonly NewEvent[], stored: readonly RecordedEvent[]): AppendResult | null {
  if (stored.length === 0 || stored[0].id !== events[0].id) return null;
  const same = stored.length === events.length && stored.every((event, index) => event.id === events[index].id);
  if (!same) throw new DuplicateEventIdError(events[0].id);
  const last = stored[stored.length - 1];
  return { nextExpectedRevision: last.revision, position: last.position };
}

export interface AppendPlan {
  /** Always exact (or no-stream): the hash chain needs to know the revision each event will get. */
  expected: AppendExpectedRevision;
  firstRevision: bigint;
  previousHash: string | null;
}

/** Decides where the events go, from the stream's last event; throws when the caller's expectation already fails. */
export function planAppend(streamId: string, expected: ExpectedRevision, last: RecordedEvent | undefined): AppendPlan {
  const current = last?.revision ?? null;
  if (!revisionMatches(expected, current)) {
    throw new WrongExpectedVersionError(streamId, expected, current ?? 'no-stream');
  }
  return last
    ? { expected: last.revision, firstRevision: last.revision + 1n, previousHash: last.hash }
    : { expected: NO_STREAM, firstRevision: 0n, previousHash: null };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** ESDB ids are UUIDs and come back lower-case; the hash covers the id, so it must round-trip exactly. */
export function checkAppend(streamId: string, events: readonly NewEvent[]): void {
  if (!streamId) throw new InvalidAppendError('a stream id is required');
  if (events.length === 0) throw new InvalidAppendError('an append needs at least one event');
  const seen = new Set<string>();
  for (const event of events) {
    if (!UUID.test(event.id)) throw new InvalidAppendError(`event id ${event.id} is not a lower-case UUID`);
    if (seen.has(event.id)) throw new InvalidAppendError(`event id ${event.id} appears twice in one append`);
    seen.add(event.id);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The adapter.
// ---------------------------------------------------------------------------------------------------------------

export interface EventStoreDbOptions {
  /** How many events beyond its own an 'any'/'stream-exists' append searches for an earlier copy of itself. */
  replayWindow?: number;
  /** Attempts for an 'any'/'stream-exists' append that loses a race to another writer. */
  maxAttempts?: number;
}

export class EventStoreDbEventStore implements EventStore {
  private readonly client: EventStoreDBClient;
  private readonly replayWindow: number;
  private readonly maxAttempts: number;
  private readonly subscriptions = new Set<EsdbSubscription>();
  private readonly appending = new Set<Promise<unknown>>();
  private closed = false;

  /** e.g. `esdb://localhost:2113?tls=false` */
  constructor(connectionString: string, options: EventStoreDbOptions = {}) {
    this.client = EventStoreDBClient.connectionString(connectionString);
    this.replayWindow = Math.max(0, options.replayWindow ?? 32);
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 10);
  }

  append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new StoreClosedError());
    const work = this.appendWithRetry(streamId, events, expected);
    // close() waits for these: a caller must hear whether its append was stored before the client goes away.
    this.appending.add(work);
    const forget = () => this.appending.delete(work);
    work.then(forget, forget);
    return work;
  }

  private async appendWithRetry(
    streamId: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision,
  ): Promise<AppendResult> {
    checkAppend(streamId, events);
    // Only an 'any'/'stream-exists' caller did not name a revision, so only it may be retried at a newer one.
    const retryable = expected === 'any' || expected === 'stream-exists';
    for (let attempt = 1; ; attempt += 1) {
      const tail = await collectAll(
        this.readStream(streamId, { direction: 'backwards', maxCount: retryable ? events.length + this.replayWindow : 1 }),
      );
      const current = tail[0]?.revision ?? null;
      const start = replayStart(expected, current);
      const stored =
        start !== null
          ? await collectAll(this.readStream(streamId, { fromRevision: start, maxCount: events.length }))
          : retryable
            ? copyInTail(events, tail)
            : [];
      const replay = matchReplay(events, stored);
      if (replay) return replay;
      const plan = planAppend(streamId, expected, tail[0]);
      try {
        return await this.write(streamId, events, expected, plan);
      } catch (error) {
        if (!retryable || !(error instanceof WrongExpectedVersionError) || attempt >= this.maxAttempts) throw error;
        await sleep(Math.random() * 5 * attempt);
      }
    }
  }

  private async write(
    streamId: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision,
    plan: AppendPlan,
  ): Promise<AppendResult> {
    const recordedAt = new Date().toISOString();
    let revision = plan.firstRevision;
    let previousHash = plan.previousHash;
    const proposed = events.map((event) => {
      // The hash covers the JSON text of data and metadata; the client sends JSON.stringify of the same values, and
      // JSON.stringify of what a reader parses gives that text back, so readers can recompute it.
      const hash = eventHash(event, { streamId, revision, recordedAt, previousHash });
      const metadata = buildEnvelope(event, { recordedAt, hash, previousHash });
      revision += 1n;
      previousHash = hash;
      // The client JSON-stringifies `data` whatever its JSON type; its typing only names objects, arrays and strings.
      return jsonEvent({ id: event.id, type: event.type, data: event.data as JSONType, metadata });
    });

    let result: EsdbAppendResult;
    try {
      result = await this.client.appendToStream(streamId, proposed, { expectedRevision: plan.expected });
    } catch (error) {
      if (error instanceof EsdbWrongExpectedVersionError) throw fromEsdbWrongExpectedVersion(error, streamId, expected);
      throw error;
    }
    if (!result.success) {
      // Only with throwOnAppendFailure=false in the connection string; the client's revision is then unreliable.
      throw new WrongExpectedVersionError(streamId, expected, (await this.streamRevision(streamId)) ?? 'no-stream');
    }
    const lastRevision = plan.firstRevision + BigInt(events.length) - 1n;
    // A fresh write reports the commit position of its last event. If ESDB instead recognised a concurrent copy of
    // this append (its own idempotency), the position may be missing, so it is read back from the stream.
    const position =
      result.position && result.nextExpectedRevision === lastRevision
        ? result.position.commit
        : await this.positionOf(streamId, result.nextExpectedRevision);
    return { nextExpectedRevision: result.nextExpectedRevision, position };
  }

  private async positionOf(streamId: string, revision: bigint): Promise<bigint> {
    for await (const event of this.readStream(streamId, { fromRevision: revision, maxCount: 1 })) return event.position;
    throw new Error(`event ${revision} of ${streamId} was acknowledged but cannot be read back`);
  }

  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    this.assertOpen();
    if (options.maxCount !== undefined && options.maxCount <= 0) return;
    const backwards = options.direction === 'backwards';
    const read = this.client.readStream(streamId, {
      direction: backwards ? BACKWARDS : FORWARDS,
      fromRevision: options.fromRevision ?? (backwards ? END : START),
      maxCount: options.maxCount ?? Number.MAX_SAFE_INTEGER,
    });
    let finished = false;
    try {
      for await (const resolved of read) {
        const event = resolved.event && toRecordedEvent(resolved.event, resolved.commitPosition);
        if (!event) throw new Error(`stream ${streamId} holds an event this adapter did not write`);
        yield event;
      }
      finished = true;
    } catch (error) {
      if (!(error instanceof StreamNotFoundError)) throw error;
      finished = true;
    } finally {
      // A consumer that stops early (or a failure here) must also end the gRPC call, not only the local stream.
      if (!finished) await read.cancel();
    }
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    this.assertOpen();
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    if (remaining <= 0) return;
    // maxCount is counted here, not by the server: the server would also count the system events skipped here.
    // $all reads have no server-side filter in this client, so the port's filter is applied on this side.
    const { accepts } = subscriptionPlan(options.filter);
    const events = options.direction === 'backwards' ? this.readAllBackwards(options.fromPosition ?? null) : this.readAllForwards(options.fromPosition ?? 0n);
    for await (const event of events) {
      if (!accepts(event)) continue;
      yield event;
      remaining -= 1;
      if (remaining <= 0) return;
    }
  }

  /**
   * $all forwards from `from` inclusive. ESDB positions are sparse and the server refuses one that is not the
   * start of a record; the usual non-record position is "last position seen + 1" (the embedded store's way of
   * saying "after"), so when the server refuses `from` before sending anything, the read starts again at
   * `from - 1` and drops what lies before `from`.
   */
  private async *readAllForwards(from: bigint): AsyncGenerator<RecordedEvent> {
    const starts = from === 0n ? [null] : [from, from - 1n];
    let firstError: unknown;
    for (const start of starts) {
      const read = this.client.readAll({
        direction: FORWARDS,
        fromPosition: start === null ? START : toEsdbPosition(start),
      });
      let received = false;
      let finished = false;
      try {
        for await (const resolved of read) {
          received = true;
          const event = fromAllStream(resolved);
          if (event && event.position >= from) yield event;
        }
        finished = true;
        return;
      } catch (error) {
        if (received) throw error;
        firstError ??= error;
      } finally {
        if (!finished) await read.cancel();
      }
    }
    throw firstError;
  }

  /**
   * $all backwards from `from` inclusive (or the end). Read from the end and passed over down to `from`: whether
   * the server counts a backwards read's own position in is not something to lean on, and callers read from the
   * end (the newest events), so nothing is skipped in practice.
   */
  private async *readAllBackwards(from: bigint | null): AsyncGenerator<RecordedEvent> {
    const read = this.client.readAll({ direction: BACKWARDS, fromPosition: END });
    let finished = false;
    try {
      for await (const resolved of read) {
        const event = fromAllStream(resolved);
        if (event && (from === null || event.position <= from)) yield event;
      }
      finished = true;
    } finally {
      if (!finished) await read.cancel();
    }
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    this.assertOpen();
    const plan = subscriptionPlan(options.filter);
    const after = options.fromPosition ?? null;
    const subscription = new EsdbSubscription(
      () =>
        this.client.subscribeToAll({
          fromPosition: after === null ? START : toEsdbPosition(after),
          filter: plan.server,
        }),
      after,
      plan.accepts,
      () => this.subscriptions.delete(subscription),
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  async streamRevision(streamId: string): Promise<bigint | null> {
    for await (const event of this.readStream(streamId, { direction: 'backwards', maxCount: 1 })) return event.revision;
    return null;
  }

  async headPosition(): Promise<bigint | null> {
    this.assertOpen();
    // The newest event callers could see: system events written after it (stats, projections) are passed over.
    const read = this.client.readAll({ direction: BACKWARDS, fromPosition: END });
    let finished = false;
    try {
      for await (const resolved of read) {
        const event = fromAllStream(resolved);
        if (event) return event.position;
      }
      finished = true;
      return null;
    } finally {
      if (!finished) await read.cancel();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.appending]);
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
    await this.client.dispose();
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }
}

/** The part of the client's subscription this adapter uses (a Node readable of resolved events). */
export interface SubscriptionSource extends AsyncIterable<AllStreamResolvedEvent> {
  unsubscribe(): Promise<void>;
  destroy(): void;
}

/**
 * The port's pull-based subscription over the client's catch-up subscription. The client's subscription is a
 * Node readable fed by the gRPC stream: iterating it pulls, and while this consumer does not pull, the readable's
 * buffer fills, the gRPC stream is paused and HTTP/2 flow control holds the server back. Nothing is buffered here.
 */
export class EsdbSubscription implements Subscription {
  private readonly sources = new Set<SubscriptionSource>();
  private closed = false;

  constructor(
    private readonly open: () => SubscriptionSource,
    /** Exclusive checkpoint, or null for the start of the log. */
    private readonly after: bigint | null,
    private readonly accepts: (event: { streamId: string; type: string }) => boolean,
    private readonly onClose: () => void = () => undefined,
  ) {}

  async *[Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    if (this.closed) return;
    const source = this.open();
    this.sources.add(source);
    try {
      for await (const resolved of source) {
        if (this.closed) return;
        const event = fromAllStream(resolved);
        if (!event || !this.accepts(event)) continue;
        // ESDB starts after the given position already; this makes "never at the checkpoint" hold regardless.
        if (this.after !== null && event.position <= this.after) continue;
        yield event;
      }
    } catch (error) {
      // close() cancels the call and destroys the readable; the error that follows is ours, not the consumer's.
      if (this.closed) return;
      throw error;
    } finally {
      this.sources.delete(source);
      await source.unsubscribe();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    await Promise.all(
      [...this.sources].map(async (source) => {
        await source.unsubscribe();
        source.destroy();
      }),
    );
  }
}

/** For the contract suite's crash test, which opens the store in a child process from a module and an argument. */
export function openStore(connectionString: string): EventStoreDbEventStore {
  return new EventStoreDbEventStore(connectionString);
}

async function collectAll<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The event store port: the one interface every engine (embedded SQLite, EventStoreDB) implements.
 * No framework and no engine types cross it. Revisions and positions are bigints because EventStoreDB's are
 * 64-bit; they cross JSON as decimal strings.
 */

export type Role = 'referrer' | 'caseworker' | 'auditor' | 'admin' | 'system';

/** Who caused an event. `agency` is set for referrers, `provision` for caseworkers. */
export interface Actor {
  id: string;
  role: Role;
  agency?: string;
  provision?: string;
}

export interface EventMetadata {
  actor: Actor;
  correlationId: string;
  causationId: string | null;
  /** When the fact happened in the world (ISO 8601); recordedAt says when the store took it. */
  occurredAt: string;
}

/** An event as a handler proposes it. `id` is a UUID chosen by the caller: re-appending it is a no-op. */
export interface NewEvent<Data = unknown> {
  id: string;
  type: string;
  schemaVersion: number;
  data: Data;
  metadata: EventMetadata;
}

export interface RecordedEvent<Data = unknown> extends NewEvent<Data> {
  streamId: string;
  /** 0-based place in its stream. */
  revision: bigint;
  /** Place in the whole log; gap-free in the embedded store, the commit position in EventStoreDB. */
  position: bigint;
  recordedAt: string;
  /** SHA-256 over previousHash and the canonical form of this event (see hash-chain.ts). */
  hash: string;
  previousHash: string | null;
}

/** What the caller believes about the stream before this append. */
export type ExpectedRevision = 'no-stream' | 'any' | 'stream-exists' | bigint;

/** Whether a stream whose last revision is `current` (null: no stream) meets an append's expectation. */
export function revisionMatches(expected: ExpectedRevision, current: bigint | null): boolean {
  switch (expected) {
    case 'any':
      return true;
    case 'no-stream':
      return current === null;
    case 'stream-exists':
      return current !== null;
    default:
      return current === expected;
  }
}

export interface AppendResult {
  /** The revision of the last event now in the stream. */
  nextExpectedRevision: bigint;
  /** The global position of the last appended event. */
  position: bigint;
}

export interface ReadStreamOptions {
  /** Inclusive; defaults to the start (forwards) or the end (backwards). */
  fromRevision?: bigint;
  direction?: 'forwards' | 'backwards';
  maxCount?: number;
}

export interface ReadAllOptions {
  /** Inclusive; defaults to the start of the log (forwards) or its end (backwards). */
  fromPosition?: bigint;
  direction?: 'forwards' | 'backwards';
  /** Counts only the events that pass the filter. */
  maxCount?: number;
  /** The same filter as a subscription's: a replay that needs a few event types need not parse the rest. */
  filter?: SubscriptionFilter;
}

export interface SubscriptionFilter {
  /** An event passes when its stream id starts with any of these... */
  streamPrefixes?: string[];
  /** ...and (when given) its type is one of these. */
  eventTypes?: string[];
}

export interface SubscribeOptions {
  /** Exclusive: a checkpoint is the last position handled, so delivery starts after it. Omit to start at the beginning. */
  fromPosition?: bigint;
  filter?: SubscriptionFilter;
}

/**
 * A catch-up subscription: every stored event after the checkpoint, then live events, in global order.
 * It is pulled, so a slow consumer slows it down; nothing is dropped or reordered.
 */
export interface Subscription extends AsyncIterable<RecordedEvent> {
  close(): Promise<void>;
}

export interface EventStore {
  append(streamId: string, events: readonly NewEvent[], expectedRevision: ExpectedRevision): Promise<AppendResult>;
  /** A missing stream yields nothing; use `streamRevision` to tell a missing stream from any other. */
  readStream(streamId: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent>;
  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent>;
  subscribeToAll(options?: SubscribeOptions): Subscription;
  /** The revision of the stream's last event, or null when the stream does not exist. */
  streamRevision(streamId: string): Promise<bigint | null>;
  /** The position of the last event in the log, or null when the log is empty. */
  headPosition(): Promise<bigint | null>;
  close(): Promise<void>;
}

export const EVENT_STORE = Symbol('EventStore');

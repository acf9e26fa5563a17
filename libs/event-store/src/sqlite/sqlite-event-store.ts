import Database from 'better-sqlite3';
import {
  revisionMatches,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
} from '../event-store.port';
import { DuplicateEventIdError, InvalidAppendError, StoreClosedError, WrongExpectedVersionError } from '../errors';
import { eventHash } from '../hash-chain';
import { subscriptionFilterSql, SubscriptionCursor } from './sqlite-subscription';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (
    position       INTEGER PRIMARY KEY,
    stream_id      TEXT    NOT NULL,
    revision       INTEGER NOT NULL,
    event_id       TEXT    NOT NULL,
    type           TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    data           TEXT    NOT NULL,
    metadata       TEXT    NOT NULL,
    recorded_at    TEXT    NOT NULL,
    previous_hash  TEXT,
    hash           TEXT    NOT NULL
  );
  CREATE UNIQUE INDEX IF NOT EXISTS events_stream_revision ON events (stream_id, revision);
`;

export interface EventRow {
  position: number;
  stream_id: string;
  revision: number;
  event_id: string;
  type: string;
  schema_version: number;
  data: string;
  metadata: string;
  recorded_at: string;
  previous_hash: string | null;
  hash: string;
}

export function rowToEvent(row: EventRow): RecordedEvent {
  return {
    id: row.event_id,
    type: row.type,
    schemaVersion: row.schema_version,
    data: JSON.parse(row.data),
    metadata: JSON.parse(row.metadata),
    streamId: row.stream_id,
    revision: BigInt(row.revision),
    position: BigInt(row.position),
    recordedAt: row.recorded_at,
    hash: row.hash,
    previousHash: row.previous_hash,
  };
}

interface PendingAppend {
  streamId: string;
  events: readonly NewEvent[];
  expected: ExpectedRevision;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
}

export interface SqliteEventStoreOptions {
  /** How often a subscriber looks for events written by another process (ms). */
  pollIntervalMs?: number;
  /** Rows fetched per page when reading or catching up. */
  pageSize?: number;
}

/**
 * The embedded event store: one SQLite file in WAL mode with synchronous=FULL, so a commit is on disk before
 * anyone is told. Appends are queued and written by one writer that group-commits everything queued in the same
 * turn of the event loop: each append keeps its own savepoint and expected-revision check, and every caller is
 * answered only after the shared commit returns.
 */
export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  private readonly pollIntervalMs: number;
  private readonly pageSize: number;
  private pending: PendingAppend[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly wakers = new Set<() => void>();
  private readonly statements;

  constructor(readonly file: string, options: SqliteEventStoreOptions = {}) {
    this.pollIntervalMs = options.pollIntervalMs ?? 100;
    this.pageSize = options.pageSize ?? 1000;
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 10000');
    // Measured here: a WAL that is checkpointed and reused every ~500 pages makes each commit's fsync cheaper
    // than a WAL that keeps growing (no file-size change to flush), see docs/benchmarks.md.
    this.db.pragma('wal_autocheckpoint = 500');
    this.db.exec(SCHEMA);
    this.statements = {
      begin: this.db.prepare('BEGIN IMMEDIATE'),
      commit: this.db.prepare('COMMIT'),
      rollback: this.db.prepare('ROLLBACK'),
      last: this.db.prepare<[string], { revision: number; hash: string }>(
        'SELECT revision, hash FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1',
      ),
      idsFrom: this.db.prepare<[string, number, number], { revision: number; event_id: string; position: number }>(
        'SELECT revision, event_id, position FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision ASC LIMIT ?',
      ),
      tail: this.db.prepare<[string, number], { revision: number; event_id: string; position: number }>(
        'SELECT revision, event_id, position FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT ?',
      ),
      insert: this.db.prepare(
        `INSERT INTO events (stream_id, revision, event_id, type, schema_version, data, metadata, recorded_at, previous_hash, hash)
         VALUES (@stream_id, @revision, @event_id, @type, @schema_version, @data, @metadata, @recorded_at, @previous_hash, @hash)`,
      ),
      head: this.db.prepare<[], { position: number | null }>('SELECT max(position) AS position FROM events'),
      streamForwards: this.db.prepare<[string, number, number], EventRow>(
        'SELECT * FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision ASC LIMIT ?',
      ),
      streamBackwards: this.db.prepare<[string, number, number], EventRow>(
        'SELECT * FROM events WHERE stream_id = ? AND revision <= ? ORDER BY revision DESC LIMIT ?',
      ),
      all: this.db.prepare<[number, number], EventRow>(
        'SELECT * FROM events WHERE position >= ? ORDER BY position ASC LIMIT ?',
      ),
    };
  }

  append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new StoreClosedError());
    if (!streamId) return Promise.reject(new InvalidAppendError('a stream id is required'));
    if (events.length === 0) return Promise.reject(new InvalidAppendError('an append needs at least one event'));
    return new Promise<AppendResult>((resolve, reject) => {
      this.pending.push({ streamId, events, expected, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const outcomes: Array<{ ok: AppendResult } | { error: unknown }> = [];
    const recordedAt = new Date().toISOString();
    try {
      this.statements.begin.run();
      // Each append is checked in full before it writes anything, so a refused append leaves no trace and needs
      // no savepoint; only an I/O failure can stop a write half-way, and that rolls back the whole batch below.
      for (const append of batch) outcomes.push(this.writeOne(append, recordedAt));
      this.statements.commit.run();
    } catch (error) {
      // Nothing in the batch is durable, so nobody is told it is.
      if (this.db.inTransaction) this.statements.rollback.run();
      for (const append of batch) append.reject(error);
      return;
    }
    batch.forEach((append, index) => {
      const outcome = outcomes[index];
      if ('ok' in outcome) append.resolve(outcome.ok);
      else append.reject(outcome.error);
    });
    this.wakeSubscribers();
  }

  private writeOne(append: PendingAppend, recordedAt: string): { ok: AppendResult } | { error: unknown } {
    const { streamId, events, expected } = append;
    const last = this.statements.last.get(streamId);
    const current = last ? BigInt(last.revision) : null;

    const replay = this.alreadyStored(append, current);
    if (replay) return replay;
    if (!revisionMatches(expected, current)) {
      return { error: new WrongExpectedVersionError(streamId, expected, current ?? 'no-stream') };
    }
    let revision = current === null ? 0n : current + 1n;
    let previousHash = last?.hash ?? null;
    let position = 0n;
    for (const event of events) {
      const data = JSON.stringify(event.data);
      const metadata = JSON.stringify(event.metadata);
      const hash = eventHash(event, { streamId, revision, recordedAt, previousHash }, data, metadata);
      const info = this.statements.insert.run({
        stream_id: streamId,
        revision: Number(revision),
        event_id: event.id,
        type: event.type,
        schema_version: event.schemaVersion,
        data,
        metadata,
        recorded_at: recordedAt,
        previous_hash: previousHash,
        hash,
      });
      position = BigInt(info.lastInsertRowid);
      previousHash = hash;
      revision += 1n;
    }
    return { ok: { nextExpectedRevision: revision - 1n, position } };
  }

  /**
   * EventStoreDB's idempotency: an append whose events are already stored, in order, right where this append
   * expected to put them, succeeds again without writing. It is looked for where a retry would find it: after
   * the expected revision, or (for 'any') among the stream's last events. Stored ids at another point are refused.
   */
  private alreadyStored(append: PendingAppend, current: bigint | null): { ok: AppendResult } | { error: unknown } | null {
    const { streamId, events, expected } = append;
    if (current === null) return null;
    let stored: Array<{ revision: number; event_id: string; position: number }>;
    if (typeof expected === 'bigint' || expected === 'no-stream') {
      const start = expected === 'no-stream' ? 0n : expected + 1n;
      if (start > current) return null;
      stored = this.statements.idsFrom.all(streamId, Number(start), events.length);
    } else {
      const tail = this.statements.tail.all(streamId, events.length + 32).reverse();
      const at = tail.findIndex((row) => row.event_id === events[0].id);
      if (at < 0) return null;
      stored = tail.slice(at, at + events.length);
    }
    if (stored.length === 0 || stored[0].event_id !== events[0].id) return null;
    const matches = stored.length === events.length && stored.every((row, index) => row.event_id === events[index].id);
    if (!matches) return { error: new DuplicateEventIdError(events[0].id) };
    const lastStored = stored[stored.length - 1];
    return { ok: { nextExpectedRevision: BigInt(lastStored.revision), position: BigInt(lastStored.position) } };
  }

  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    const backwards = options.direction === 'backwards';
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    let from = options.fromRevision ?? (backwards ? BigInt(Number.MAX_SAFE_INTEGER) : 0n);
    const statement = backwards ? this.statements.streamBackwards : this.statements.streamForwards;
    while (remaining > 0) {
      this.assertOpen();
      const rows = statement.all(streamId, Number(from), Math.min(this.pageSize, remaining));
      for (const row of rows) yield rowToEvent(row);
      if (rows.length < this.pageSize) return;
      remaining -= rows.length;
      const lastRevision = BigInt(rows[rows.length - 1].revision);
      from = backwards ? lastRevision - 1n : lastRevision + 1n;
      if (from < 0n) return;
    }
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    let from = options.fromPosition ?? 0n;
    while (remaining > 0) {
      this.assertOpen();
      const rows = this.statements.all.all(Number(from), Math.min(this.pageSize, remaining));
      for (const row of rows) yield rowToEvent(row);
      if (rows.length < this.pageSize) return;
      remaining -= rows.length;
      from = BigInt(rows[rows.length - 1].position) + 1n;
    }
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    const filter = subscriptionFilterSql(options.filter);
    const page = this.db.prepare<unknown[], EventRow>(
      `SELECT * FROM events WHERE position > ? ${filter.where} ORDER BY position ASC LIMIT ?`,
    );
    return new SubscriptionCursor({
      from: options.fromPosition ?? 0n,
      fetch: (after) => {
        this.assertOpen();
        return page.all(Number(after), ...filter.params, this.pageSize).map(rowToEvent);
      },
      isClosed: () => this.closed,
      waitForEvents: (signal) => this.waitForEvents(signal),
    });
  }

  async streamRevision(streamId: string): Promise<bigint | null> {
    this.assertOpen();
    const last = this.statements.last.get(streamId);
    return last ? BigInt(last.revision) : null;
  }

  async headPosition(): Promise<bigint | null> {
    this.assertOpen();
    const { position } = this.statements.head.get()!;
    return position === null ? null : BigInt(position);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Let queued appends finish before the file is closed: a caller who was not told "stored" must not be lost.
    while (this.pending.length > 0 || this.flushScheduled) await new Promise((resolve) => setImmediate(resolve));
    this.closed = true;
    this.wakeSubscribers();
    this.db.close();
  }

  /** Resolves when this process commits, or after the poll interval (to see other processes' writes). */
  private waitForEvents(signal: { cancelled: boolean }): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, this.pollIntervalMs);
      this.wakers.add(wake);
      if (signal.cancelled || this.closed) wake();
    });
  }

  private wakeSubscribers(): void {
    for (const wake of [...this.wakers]) wake();
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }
}

import type Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type {
  AppendResult,
  EventStore,
  ExpectedRevision,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
} from '../event-store.port';
import { EventStoreError, InvalidAppendError, StoreClosedError } from '../errors';
import { BatchWriter, toError, type AppendOutcome, type AppendRequest } from './sqlite-batch-writer';
import { EVENT_COLUMNS, openEventsDb, rowToEvent, type EventRow } from './sqlite-schema';
import { subscriptionFilterSql, SubscriptionCursor } from './sqlite-subscription';
import type { WriterReply, WriterRequest } from './sqlite-writer.worker';

export { rowToEvent, type EventRow } from './sqlite-schema';

interface PendingAppend extends AppendRequest {
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
}

export interface SqliteEventStoreOptions {
  /** How often a subscriber looks for events written by another process (ms). */
  pollIntervalMs?: number;
  /** Rows fetched per page when reading or catching up. */
  pageSize?: number;
  /**
   * 'thread' (default): a writer thread owns the write connection, so the durable commit never blocks request
   * handling, and whatever queues up meanwhile goes into the next commit. 'inline': the commit runs on the
   * caller's thread: the lowest latency for one lone writer, but every fsync stalls the event loop.
   */
  writer?: 'thread' | 'inline';
}

export class WriterFailedError extends EventStoreError {
  readonly code = 'writer-failed';
  constructor(kind: string) {
    super(`the event store could not commit (${kind}); nothing in that batch was stored`);
    this.name = 'WriterFailedError';
  }
}

/**
 * The embedded event store: one SQLite file in WAL mode with synchronous=FULL, so a commit is on disk before
 * anyone is told. Appends are group-committed: everything queued while the previous commit was in progress (or,
 * inline, in the same turn of the event loop) shares one transaction, each append keeping its own checks.
 */
export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  private readonly pollIntervalMs: number;
  private readonly pageSize: number;
  private readonly inline: BatchWriter | null;
  private readonly worker: Worker | null;
  private pending: PendingAppend[] = [];
  private inFlight: { id: number; batch: PendingAppend[] } | null = null;
  private nextBatchId = 0;
  private dispatchScheduled = false;
  private closed = false;
  private readonly idle = new Set<() => void>();
  private readonly wakers = new Set<() => void>();
  private readonly statements;
  private workerExited: Promise<unknown> = Promise.resolve();

  constructor(readonly file: string, options: SqliteEventStoreOptions = {}) {
    this.pollIntervalMs = options.pollIntervalMs ?? 100;
    this.pageSize = options.pageSize ?? 1000;
    this.db = openEventsDb(file);
    if (options.writer === 'inline') {
      this.inline = new BatchWriter(this.db);
      this.worker = null;
    } else {
      this.inline = null;
      this.worker = startWriterThread(file);
      this.worker.on('message', (reply: WriterReply) => this.onWriterReply(reply));
      this.worker.on('error', (error) => this.onWriterDeath(error));
      this.workerExited = new Promise((resolve) =>
        this.worker!.once('exit', (code) => {
          // Out of the blue (killed, out of memory): nothing queued may wait for an answer that cannot come.
          if (!this.closed) this.onWriterDeath(new Error(`writer thread exited (${code})`));
          resolve(code);
        }),
      );
    }
    this.statements = {
      last: this.db.prepare<[string], { revision: number }>('SELECT revision FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1'),
      head: this.db.prepare<[], { position: number | null }>('SELECT max(position) AS position FROM events'),
      streamForwards: this.db
        .prepare<[string, number, number], EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision ASC LIMIT ?`)
        .raw(true),
      streamBackwards: this.db
        .prepare<[string, number, number], EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? AND revision <= ? ORDER BY revision DESC LIMIT ?`)
        .raw(true),
      all: this.db.prepare<unknown[], EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE position >= ? ORDER BY position ASC LIMIT ?`).raw(true),
      allBackwards: this.db.prepare<unknown[], EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE position <= ? ORDER BY position DESC LIMIT ?`).raw(true),
    };
  }

  append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new StoreClosedError());
    if (!streamId) return Promise.reject(new InvalidAppendError('a stream id is required'));
    if (events.length === 0) return Promise.reject(new InvalidAppendError('an append needs at least one event'));
    return new Promise<AppendResult>((resolve, reject) => {
      this.pending.push({ streamId, events, expected, resolve, reject });
      this.scheduleDispatch();
    });
  }

  private scheduleDispatch(): void {
    if (this.dispatchScheduled || this.inFlight) return;
    this.dispatchScheduled = true;
    setImmediate(() => this.dispatch());
  }

  private dispatch(): void {
    this.dispatchScheduled = false;
    if (this.inFlight || this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const requests = batch.map(({ streamId, events, expected }) => ({ streamId, events, expected }));
    if (this.worker) {
      this.inFlight = { id: (this.nextBatchId += 1), batch };
      this.worker.postMessage({ type: 'batch', id: this.inFlight.id, appends: requests } satisfies WriterRequest);
      return;
    }
    let outcomes: AppendOutcome[];
    try {
      outcomes = this.inline!.write(requests);
    } catch (error) {
      batch.forEach((append) => append.reject(error));
      this.settled();
      return;
    }
    this.deliver(batch, outcomes);
  }

  private onWriterReply(reply: WriterReply): void {
    const flight = this.inFlight;
    if (!flight || flight.id !== reply.id) return;
    this.inFlight = null;
    if (reply.type === 'failed') {
      flight.batch.forEach((append) => append.reject(new WriterFailedError(reply.name)));
      this.settled();
    } else {
      this.deliver(flight.batch, reply.outcomes);
    }
    // What queued up during that commit goes in the next one, at once.
    if (this.pending.length > 0) this.dispatch();
  }

  private onWriterDeath(error: unknown): void {
    const failed = new WriterFailedError(error instanceof Error ? error.name : 'writer thread died');
    for (const append of [...(this.inFlight?.batch ?? []), ...this.pending]) append.reject(failed);
    this.inFlight = null;
    this.pending = [];
    this.closed = true;
    this.settled();
  }

  private deliver(batch: PendingAppend[], outcomes: AppendOutcome[]): void {
    batch.forEach((append, index) => {
      const outcome = outcomes[index];
      if ('ok' in outcome) append.resolve(outcome.ok);
      else append.reject(toError(outcome.refused));
    });
    for (const wake of [...this.wakers]) wake();
    this.settled();
  }

  private settled(): void {
    if (this.pending.length === 0 && !this.inFlight && !this.dispatchScheduled) for (const done of [...this.idle]) done();
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
      const lastRevision = BigInt(rows[rows.length - 1][2]);
      from = backwards ? lastRevision - 1n : lastRevision + 1n;
      if (from < 0n) return;
    }
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    const backwards = options.direction === 'backwards';
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    let from = options.fromPosition ?? (backwards ? BigInt(Number.MAX_SAFE_INTEGER) : 0n);
    const filter = options.filter ? subscriptionFilterSql(options.filter) : null;
    const page = filter
      ? this.db
          .prepare<unknown[], EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE position ${backwards ? '<=' : '>='} ? ${filter.where} ORDER BY position ${backwards ? 'DESC' : 'ASC'} LIMIT ?`)
          .raw(true)
      : backwards
        ? this.statements.allBackwards
        : this.statements.all;
    while (remaining > 0 && from >= 0n) {
      this.assertOpen();
      const limit = Math.min(this.pageSize, remaining);
      const rows = page.all(Number(from), ...(filter?.params ?? []), limit);
      for (const row of rows) yield rowToEvent(row);
      if (rows.length < this.pageSize) return;
      remaining -= rows.length;
      const last = BigInt(rows[rows.length - 1][0]);
      from = backwards ? last - 1n : last + 1n;
    }
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    const filter = subscriptionFilterSql(options.filter);
    const page = this.db.prepare<unknown[], EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE position > ? ${filter.where} ORDER BY position ASC LIMIT ?`).raw(true);
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
    if (this.closed && !this.db.open) return;
    // Queued appends finish first: a caller who was not told "stored" must not be lost either.
    if (this.pending.length > 0 || this.inFlight || this.dispatchScheduled) {
      await new Promise<void>((resolve) => this.idle.add(resolve));
    }
    this.closed = true;
    for (const wake of [...this.wakers]) wake();
    if (this.worker) {
      // A thread that already died has exited: waiting for a new 'exit' would wait for ever.
      this.worker.postMessage({ type: 'close' } satisfies WriterRequest);
      await this.workerExited;
    }
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

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }
}

/**
 * Starts the writer thread from the compiled .js (npm start) or, when running from the TypeScript sources (Jest,
 * scripts), through the project's transpile-on-require hook.
 */
function startWriterThread(file: string): Worker {
  const compiled = path.join(__dirname, 'sqlite-writer.worker.js');
  if (existsSync(compiled)) return new Worker(compiled, { workerData: { file } });
  let root = __dirname;
  while (!existsSync(path.join(root, 'tools', 'ts-register.js')) && path.dirname(root) !== root) root = path.dirname(root);
  const bootstrap = `require(${JSON.stringify(path.join(root, 'tools', 'ts-register.js'))}); require(${JSON.stringify(path.join(__dirname, 'sqlite-writer.worker.ts'))});`;
  return new Worker(bootstrap, { eval: true, workerData: { file } });
}

import type Database from 'better-sqlite3';
import { logReplaced, StoreClosedError, type EventStore, type RecordedEvent, type Subscription } from '@spoc/event-store';
import type { DecodedEvent, EventCodec } from './event-codec';
import { flushRowTables, rowTablesOf } from './row-table';

/** A read model fed by the log. `apply` runs inside the runner's transaction and must only touch its own tables. */
export interface Projection {
  readonly name: string;
  /** Bump when the tables or what they hold change: the runner then rebuilds its read models from the log. */
  readonly version: number;
  /** CREATE TABLE statements; dropped tables are recreated from these on a rebuild. */
  readonly tables: Record<string, string>;
  /**
   * CREATE INDEX IF NOT EXISTS statements for indexes only queries read (`apply` never looks a row up through
   * them). Read models rebuilt from the log get them once caught up, built in one pass over the finished table,
   * instead of keeping them up event by event. An index `apply` reads through belongs in `prepare`.
   */
  readonly indexes?: readonly string[];
  readonly eventTypes: readonly string[];
  /** Set only by a read model that shows personal data (its `apply` gets a `DecodedEvent`): the others get the events with it still sealed. */
  readonly needsPersonalData?: boolean;
  /**
   * Set by a read model a caller reads right after its own write (a referral's status after the 202, a principal
   * after it is created): it is applied at once, each batch, and `waitFor(…, 'read-your-writes')` waits for it alone.
   * The others are applied a few milliseconds later in larger batches, so that their work does not sit in front of
   * every answer.
   */
  readonly readYourWrites?: boolean;
  prepare?(db: Database.Database): void;
  apply(event: RecordedEvent, db: Database.Database): void;
}

/** What a caller waits for: every read model, or only those marked `readYourWrites`. */
export type WaitScope = 'all' | 'read-your-writes';

/** A group of read models applied together, in one transaction per batch with its own checkpoint. */
interface Lane {
  checkpointName: string;
  byType: Map<string, Projection[]>;
  position: bigint;
  /** The id of the event at `position`: null before the first, or in a file saved before ids were kept. */
  eventId: string | null;
  apply: (events: RecordedEvent[]) => void;
}

/** How long the other read models wait to gather a batch behind the read-your-writes ones (live only). */
const DEFER_MS = 2;
/** Catching up, large batches write each read-model page once for many events (1,000 → 10,000 doubled the rebuild). */
const MAX_BATCH = 10_000;
/** Filling read models from the start of the log, larger still: each row is folded in memory over more events. */
const FILL_BATCH = 50_000;

/**
 * Feeds projections from a catch-up subscription, in two lanes: the read-your-writes read models at once, the
 * others a few milliseconds behind. Each lane applies a batch in one transaction together with its own
 * checkpoint, so a crash never leaves a read model ahead of or behind its checkpoint; on restart each lane skips
 * what it already has.
 */
export class ProjectionRunner {
  private subscription: Subscription | null = null;
  private running: Promise<void> | null = null;
  private buffer: RecordedEvent[] = [];
  private deferred: RecordedEvent[] = [];
  private flushScheduled = false;
  private deferredTimer: NodeJS.Timeout | null = null;
  private waiters: Array<{ position: bigint; scope: WaitScope; resolve: () => void; give: () => void }> = [];
  /** Waiters on a read model, keyed by the referral they wait on: a batch wakes only those its events concern. */
  private flushListeners = new Map<string, Set<(stopped?: boolean) => void>>();
  private failure: unknown = null;
  private stopped = false;
  private readingAgain = false;
  private wake: (() => void) | null = null;
  private aligned: Promise<void> = Promise.resolve();
  /** Read models being built from the start of the log get their query indexes once they reach this position. */
  private indexesDue: { at: bigint | null } | null = null;
  private readonly first: Lane;
  private readonly second: Lane;

  constructor(
    readonly name: string,
    private readonly store: EventStore,
    private readonly db: Database.Database,
    private readonly codec: EventCodec,
    private readonly projections: Projection[],
  ) {
    this.rebuildIfChanged(db, projections);
    this.createReadModels(db, projections);
    const saveCheckpoint = db.prepare(
      'INSERT INTO checkpoints (name, position, event_id) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position, event_id = excluded.event_id',
    );
    const stored = db.prepare<[string], { position: number; event_id: string | null }>('SELECT position, event_id FROM checkpoints WHERE name = ?');
    const lane = (checkpointName: string, members: Projection[], fallback?: Lane): Lane => {
      const byType = new Map<string, Projection[]>();
      for (const projection of members) for (const type of projection.eventTypes) byType.set(type, [...(byType.get(type) ?? []), projection]);
      const row = stored.get(checkpointName);
      const apply = db.transaction((events: RecordedEvent[]) => {
        for (const event of events) {
          const handlers = byType.get(event.type);
          if (!handlers) continue;
          let decoded: DecodedEvent | null = null;
          for (const projection of handlers) {
            // Opening sealed data costs a decryption; most read models hold no personal data and skip it.
            projection.apply(projection.needsPersonalData ? (decoded ??= this.codec.decode(event)) : event, db);
          }
        }
        flushRowTables(db);
        const last = events[events.length - 1];
        saveCheckpoint.run(checkpointName, Number(last.position), last.id);
      });
      return { checkpointName, byType, position: row ? BigInt(row.position) : (fallback?.position ?? 0n), eventId: row ? row.event_id : (fallback?.eventId ?? null), apply };
    };
    this.first = lane(name, projections.filter((projection) => projection.readYourWrites));
    // A file written before there were two lanes has one checkpoint, which covered every read model. The later
    // lane's row is written at once, so that from now on a missing row can only mean such a file.
    const deferred = `${name}/deferred`;
    const migrating = stored.get(deferred) === undefined;
    this.second = lane(deferred, projections.filter((projection) => !projection.readYourWrites), this.first);
    if (migrating) saveCheckpoint.run(deferred, Number(this.second.position), this.second.eventId);
    // Empty read models are about to be filled from the whole log, and get their indexes at the end; so do read
    // models whose filling was cut short (the file says so). Others keep them up as they go, built here if missing.
    db.exec('CREATE TABLE IF NOT EXISTS pending_indexes (runner TEXT PRIMARY KEY) WITHOUT ROWID');
    const cutShort = db.prepare('SELECT 1 FROM pending_indexes WHERE runner = ?').get(name) !== undefined;
    if ((this.first.position === 0n && this.second.position === 0n) || cutShort) this.deferIndexes();
    else {
      // An index added since (or dropped): built here; a failure stops the runner, which health reports.
      try {
        this.buildIndexes();
      } catch (error) {
        this.fail(error);
      }
    }
  }

  /** Recorded in the file, so that a filling cut short (a crash, a stop) still builds them once, at the end. */
  private deferIndexes(): void {
    this.db.prepare('INSERT OR IGNORE INTO pending_indexes (runner) VALUES (?)').run(this.name);
    this.indexesDue = { at: null };
    for (const table of rowTablesOf(this.db)) table.beginFill();
  }

  /** A read model whose shape changed is dropped with the runner's checkpoint, so it is rebuilt from the log. */
  private rebuildIfChanged(db: Database.Database, projections: Projection[]): void {
    db.exec('CREATE TABLE IF NOT EXISTS projection_versions (runner TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (runner, name)) WITHOUT ROWID');
    const stored = new Map(
      db.prepare<[string], { name: string; version: number }>('SELECT name, version FROM projection_versions WHERE runner = ?').all(this.name).map((row) => [row.name, row.version]),
    );
    const changed = projections.some((projection) => stored.get(projection.name) !== projection.version);
    if (!changed) return;
    db.transaction(() => {
      this.dropReadModels(db, projections);
      db.prepare('DELETE FROM projection_versions WHERE runner = ?').run(this.name);
      const save = db.prepare('INSERT INTO projection_versions (runner, name, version) VALUES (?, ?, ?)');
      for (const projection of projections) save.run(this.name, projection.name, projection.version);
    })();
  }

  /** Every read model's tables and checkpoints, gone: what is left is rebuilt from the log. */
  private dropReadModels(db: Database.Database, projections: Projection[]): void {
    for (const projection of projections) for (const table of Object.keys(projection.tables)) db.exec(`DROP TABLE IF EXISTS ${table}`);
    db.prepare('UPDATE checkpoints SET position = 0, event_id = NULL WHERE name = ? OR name = ?').run(this.name, `${this.name}/deferred`);
  }

  /**
   * Read models being filled get their query indexes when they reach the head of the log as it is now: at once if
   * they are there already (the log is empty, or a filling was cut short after its last batch).
   */
  private async scheduleIndexes(): Promise<void> {
    if (!this.indexesDue) return;
    const at = await this.store.headPosition();
    this.indexesDue.at = at;
    if (at !== null && this.checkpoint < at) return;
    // As when it is built later: a failure stops the runner (health reports it) rather than the start.
    try {
      this.buildIndexes();
    } catch (error) {
      this.fail(error);
    }
  }

  private buildIndexes(): void {
    this.db.transaction(() => {
      for (const projection of this.projections) for (const statement of projection.indexes ?? []) this.db.exec(statement);
      this.db.prepare('DELETE FROM pending_indexes WHERE runner = ?').run(this.name);
    })();
    this.indexesDue = null;
    for (const table of rowTablesOf(this.db)) table.endFill();
  }

  private createReadModels(db: Database.Database, projections: Projection[]): void {
    for (const projection of projections) {
      for (const statement of Object.values(projection.tables)) db.exec(statement);
      projection.prepare?.(db);
    }
  }

  /** Where every read model has got to. */
  get checkpoint(): bigint {
    return this.reached('all');
  }

  private reached(scope: WaitScope): bigint {
    return scope === 'read-your-writes' ? this.first.position : this.first.position < this.second.position ? this.first.position : this.second.position;
  }

  start(): void {
    if (this.running) return;
    this.stopped = false;
    this.aligned = this.alignWithLog().then(() => this.scheduleIndexes());
    this.running = (async () => {
      await this.aligned;
      for (let attempt = 1; !this.stopped && !this.failure; attempt += 1) {
        try {
          if (this.readingAgain && !(await this.stillTheSameLog())) break;
          if (this.stopped) break; // stop() closes only a subscription it can see
          // Unfiltered on purpose: the checkpoint must move past events no projection handles, or a caller waiting
          // for the head of the log would wait for ever.
          const from = this.checkpoint;
          const subscription = this.store.subscribeToAll({ fromPosition: from === 0n ? undefined : from });
          this.subscription = subscription;
          for await (const event of subscription) {
            if (this.failure) break;
            attempt = 0;
            this.readingAgain = false;
            this.buffer.push(event);
            // Live, a batch is whatever arrived in one turn of the event loop; catching up, large batches.
            if (this.buffer.length >= (this.indexesDue ? FILL_BATCH : MAX_BATCH)) this.flush();
            else if (!this.flushScheduled) {
              this.flushScheduled = true;
              setImmediate(() => this.flush());
            }
          }
        } catch (error) {
          if (this.stopped) break;
          if (attempt <= 1) process.stderr.write(`projection runner ${this.name}: reading the log failed: ${error instanceof Error ? error.name : 'error'}\n`);
        }
        this.flush();
        this.flushDeferred();
        if (this.stopped || this.failure) break;
        // Ended or broke without being stopped (a dropped connection to the server, a leader change): read again from
        // the checkpoint after a pause, for as long as it lasts; health reports it meanwhile.
        if (attempt <= 1) process.stderr.write(`projection runner ${this.name}: the subscription to the log ended at position ${this.checkpoint}; reading again\n`);
        this.readingAgain = true;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(5000, 25 * 2 ** Math.min(attempt, 8))).unref();
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    })().catch((error: unknown) => this.fail(error));
  }

  /**
   * Before reading the log again: a store closed for good, or a log replaced meanwhile (restored from a backup while
   * the service ran), stops the runner (a restart rebuilds the read models before serving) rather than read on from
   * an old checkpoint. Otherwise true, and `reconnecting` ends once the read models are at the head again.
   */
  private async stillTheSameLog(): Promise<boolean> {
    const checkpointOf = (lane: Lane) => (lane.position === 0n ? null : { position: lane.position, eventId: lane.eventId });
    let replaced: string | null;
    let head: bigint | null;
    try {
      replaced = (await logReplaced(this.store, checkpointOf(this.first))) ?? (await logReplaced(this.store, checkpointOf(this.second)));
      head = await this.store.headPosition();
    } catch (error) {
      if (error instanceof StoreClosedError) this.fail(error);
      throw error;
    }
    if (replaced !== null) {
      this.fail(new Error(`the log was replaced while the read models followed it: ${replaced}`));
      return false;
    }
    if (head === null || this.checkpoint >= head) this.readingAgain = false;
    return true;
  }

  /** Reading the log again after the subscription to it ended: the read models may be behind meanwhile. */
  get reconnecting(): boolean {
    return this.readingAgain;
  }

  /** Resolves once every event up to `position` is in the read models (read-your-writes for the caller). */
  waitFor(position: bigint, timeoutMs = 5000, scope: WaitScope = 'all'): Promise<boolean> {
    if (this.reached(scope) >= position) return Promise.resolve(true);
    if (this.failure) return Promise.resolve(false);
    return new Promise((resolve) => {
      // Cleared once answered: a timer per request left to run its two seconds kept every waiter alive that long.
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((other) => other !== waiter);
        resolve(false);
      }, timeoutMs).unref();
      const waiter = {
        position,
        scope,
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
        // The runner stopped: it will not get there.
        give: () => {
          clearTimeout(timer);
          resolve(false);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /**
   * Resolves when `condition` holds, checked after each batch that holds an event about `referralId` (its own
   * stream's or a case's, by `data.referralId`); false on timeout. For callers that wait on a read model (e.g. for
   * the router's decision) without polling over HTTP; keyed, so hundreds of waiters cost nothing per batch.
   */
  until(referralId: string, condition: () => boolean, timeoutMs: number): Promise<boolean> {
    if (condition()) return Promise.resolve(true);
    if (this.failure) return Promise.resolve(false);
    return new Promise((resolve) => {
      const listeners = this.flushListeners.get(referralId) ?? new Set<(stopped?: boolean) => void>();
      this.flushListeners.set(referralId, listeners);
      const finish = (result: boolean) => {
        clearTimeout(timer);
        listeners.delete(check);
        if (listeners.size === 0 && this.flushListeners.get(referralId) === listeners) this.flushListeners.delete(referralId);
        resolve(result);
      };
      // After a batch, or when the runner stopped (nothing will change any more).
      const check = (stopped = false) => {
        if (condition()) finish(true);
        else if (stopped) finish(false);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      listeners.add(check);
    });
  }

  /**
   * A log that is not the one these read models were built from (restored from a backup: shorter than a checkpoint,
   * or grown again with other events at its positions): they may show events that no longer exist, and events
   * appended from now on would be skipped up to the old checkpoint. They are dropped and rebuilt from this log.
   */
  private async alignWithLog(): Promise<void> {
    const checkpointOf = (lane: Lane) => (lane.position === 0n ? null : { position: lane.position, eventId: lane.eventId });
    const replaced = (await logReplaced(this.store, checkpointOf(this.first))) ?? (await logReplaced(this.store, checkpointOf(this.second)));
    if (replaced === null) return;
    process.stderr.write(`projection runner ${this.name}: ${replaced} (was the log restored?); rebuilding its read models from the log\n`);
    this.db.transaction(() => {
      this.dropReadModels(this.db, this.projections);
      this.createReadModels(this.db, this.projections);
      this.deferIndexes();
    })();
    for (const lane of [this.first, this.second]) {
      lane.position = 0n;
      lane.eventId = null;
    }
  }

  /** Applies everything already in the log, however long it takes; for startup, tests and the rebuild command. */
  async catchUp(): Promise<void> {
    await this.aligned;
    const head = await this.store.headPosition();
    // A long log (a rebuild after a machine crash) takes minutes: an API served before then would show partial
    // queues and refuse tokens it issued. A failed read model ends the wait; health reports it.
    while (head !== null && this.checkpoint < head && !this.failure) await this.waitFor(head, 60_000);
  }

  get failed(): unknown {
    return this.failure;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.aligned.catch(() => undefined);
    await this.subscription?.close();
    await this.running;
    this.running = null;
  }

  /**
   * Stop rather than skip: a read model that silently missed an event would show a wrong queue. The failed batch
   * was rolled back with its checkpoint, so a restart retries it; health reports the stop. Logged by kind and place
   * only, since an error's message may quote event data.
   */
  private fail(error: unknown): void {
    if (this.failure) return;
    this.failure = error;
    this.buffer = [];
    this.deferred = [];
    if (this.deferredTimer) clearTimeout(this.deferredTimer);
    void this.subscription?.close();
    for (const waiter of this.waiters.splice(0)) waiter.give();
    for (const listeners of [...this.flushListeners.values()]) for (const listener of [...listeners]) listener(true);
    // Stopped part way through filling the read models: queries still get their indexes (health reports the stop).
    if (this.indexesDue) {
      try {
        this.buildIndexes();
      } catch {
        // the failure above is the one to report
      }
    }
    const where = error instanceof Error ? (error.stack ?? '').split('\n')[1]?.trim() : '';
    process.stderr.write(`projection runner ${this.name} stopped after position ${this.checkpoint}: ${error instanceof Error ? error.name : 'error'} ${where}\n`);
  }

  private flush(): void {
    this.flushScheduled = false;
    const events = this.buffer;
    this.buffer = [];
    if (events.length === 0 || this.failure) return;
    this.applyTo(this.first, events);
    for (const event of events) this.deferred.push(event);
    if (this.deferred.length >= (this.indexesDue ? FILL_BATCH : MAX_BATCH)) this.flushDeferred();
    else this.deferredTimer ??= setTimeout(() => this.flushDeferred(), DEFER_MS);
  }

  private flushDeferred(): void {
    if (this.deferredTimer) clearTimeout(this.deferredTimer);
    this.deferredTimer = null;
    const events = this.deferred;
    this.deferred = [];
    if (events.length > 0 && !this.failure) this.applyTo(this.second, events);
  }

  private applyTo(lane: Lane, all: RecordedEvent[]): void {
    // After a restart the lanes may stand at different places: each skips what it already has.
    const events = all[0].position > lane.position ? all : all.filter((event) => event.position > lane.position);
    if (events.length === 0) return;
    try {
      lane.apply(events);
    } catch (error) {
      // Rolled back with the batch: rows it folded are not the table's.
      for (const table of rowTablesOf(this.db)) table.discard();
      this.fail(error);
      return;
    }
    lane.position = events[events.length - 1].position;
    lane.eventId = events[events.length - 1].id;
    if (this.indexesDue?.at != null && this.checkpoint >= this.indexesDue.at) {
      try {
        this.buildIndexes();
      } catch (error) {
        this.fail(error);
        return;
      }
    }
    if (this.flushListeners.size > 0) {
      const touched = new Set<string>();
      for (const event of events) {
        const referralId = (event.data as { referralId?: unknown } | null)?.referralId;
        if (typeof referralId === 'string') touched.add(referralId);
      }
      for (const referralId of touched) for (const listener of [...(this.flushListeners.get(referralId) ?? [])]) listener();
    }
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((waiter) => waiter.position <= this.reached(waiter.scope));
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((waiter) => waiter.position > this.reached(waiter.scope));
    ready.forEach((waiter) => waiter.resolve());
  }
}

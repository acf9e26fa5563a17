import { Logger, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { streams } from '@spoc/domain';
import { EVENT_STORE, StoreClosedError, type Actor, type EventStore, type NewEvent } from '@spoc/event-store';
import type { EventCodec } from '@spoc/platform';
import { CODEC } from '../infrastructure/tokens';

/** One access: who, by which route, which referrals and cases, and whether it was let through. Ids only. */
export interface AccessRecord {
  /** null when no valid token was presented (401). */
  actor: Actor | null;
  method: string;
  /** Method and route pattern, e.g. `GET /v1/referrals/:id`: never the raw URL. */
  route: string;
  referralIds: string[];
  caseIds: string[];
  outcome: 'allowed' | 'denied';
  statusCode: number;
  at: string;
  correlationId: string;
}

/**
 * The accesses of one flush, in the order they were answered. One event per flush rather than per access: every
 * event in the log is read by each subscriber (the read models, the router), so an event per read cost a third
 * of a GET's throughput where this costs a few per cent (docs/decisions/0006-access-log-batching.md).
 */
export interface AccessRecorded {
  type: 'AccessRecorded';
  data: { entries: AccessRecord[] };
}

export interface AccessLogOptions {
  flushIntervalMs: number;
  batchSize: number;
  /** Entries kept for a retry while the store refuses them; beyond this the oldest are dropped (and counted). */
  maxPending: number;
}

const DEFAULTS: AccessLogOptions = { flushIntervalMs: 50, batchSize: 200, maxPending: 20_000 };

/** The recorder is the system; the principal who read is in the record itself (and may be nobody, on a 401). */
const RECORDER: Actor = { id: 'access-log', role: 'system' };

/**
 * Buffers access records and appends them, one event per batch, to one stream per day, so a read never waits
 * for a durable commit of its own record. The price is a loss window: a crash (not a clean shutdown) loses what
 * is buffered, at most one flush interval of reads, see docs/decisions/0006-access-log-batching.md.
 */
export class AccessLog implements OnApplicationShutdown {
  private buffer: AccessRecord[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private lastPosition: bigint | null = null;
  private dropped = 0;
  private readonly logger = new Logger('AccessLog');
  private readonly options: AccessLogOptions;

  constructor(
    private readonly store: EventStore,
    private readonly codec: EventCodec,
    options: Partial<AccessLogOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  record(entry: AccessRecord): void {
    this.buffer.push(entry);
    if (this.buffer.length >= this.options.batchSize) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.options.flushIntervalMs);
      this.timer.unref();
    }
  }

  /** Appends what is buffered and waits for every append in flight; the position of the last one stored. */
  async flushed(): Promise<bigint | null> {
    this.flush();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    return this.lastPosition;
  }

  /** Runs before the store closes (the infrastructure module shuts down after this one), after HTTP has stopped. */
  async onApplicationShutdown(): Promise<void> {
    await this.flushed();
    if (this.buffer.length > 0 || this.dropped > 0) {
      this.logger.error(`${this.buffer.length + this.dropped} access records could not be stored before shutdown`);
    }
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const entries = this.buffer;
    this.buffer = [];
    const byDay = new Map<string, AccessRecord[]>();
    for (const entry of entries) {
      const day = entry.at.slice(0, 10);
      const records = byDay.get(day);
      if (records) records.push(entry);
      else byDay.set(day, [entry]);
    }
    for (const [day, records] of byDay) {
      const events: NewEvent[] = [];
      // Each request keeps its own correlation id in its entry; the event's is the flush's own.
      for (let start = 0; start < records.length; start += this.options.batchSize) {
        const recorded: AccessRecorded = { type: 'AccessRecorded', data: { entries: records.slice(start, start + this.options.batchSize) } };
        events.push(...this.codec.encode([recorded], { actor: RECORDER, correlationId: randomUUID(), causationId: null }));
      }
      const append = this.append(streams.access(day), events, records).finally(() => this.inFlight.delete(append));
      this.inFlight.add(append);
    }
  }

  private async append(streamId: string, events: NewEvent[], records: AccessRecord[]): Promise<void> {
    try {
      const { position } = await this.store.append(streamId, events, 'any');
      if (this.lastPosition === null || position > this.lastPosition) this.lastPosition = position;
    } catch (error) {
      // Kept for the next flush unless the store is gone for good; logged by kind and count only.
      const kind = error instanceof Error ? error.name : 'error';
      if (error instanceof StoreClosedError) {
        this.dropped += records.length;
        this.logger.error(`${records.length} access records lost: ${kind}`);
        return;
      }
      this.logger.error(`${records.length} access records not stored yet, retrying: ${kind}`);
      this.buffer = [...records, ...this.buffer];
      const excess = this.buffer.length - this.options.maxPending;
      if (excess > 0) {
        this.buffer = this.buffer.slice(excess);
        this.dropped += excess;
      }
      if (!this.timer) {
        this.timer = setTimeout(() => this.flush(), this.options.flushIntervalMs * 10);
        this.timer.unref();
      }
    }
  }
}

export const accessLogProvider: Provider = {
  provide: AccessLog,
  inject: [EVENT_STORE, CODEC],
  useFactory: (store: EventStore, codec: EventCodec) => new AccessLog(store, codec),
};

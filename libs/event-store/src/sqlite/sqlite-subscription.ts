import type { RecordedEvent, Subscription, SubscriptionFilter } from '../event-store.port';

/** Builds the WHERE fragment for a filter; prefixes match literally (LIKE wildcards are escaped). */
export function subscriptionFilterSql(filter: SubscriptionFilter = {}): { where: string; params: string[] } {
  const clauses: string[] = [];
  const params: string[] = [];
  if (filter.streamPrefixes?.length) {
    clauses.push(`(${filter.streamPrefixes.map(() => "stream_id LIKE ? ESCAPE '\\'").join(' OR ')})`);
    params.push(...filter.streamPrefixes.map((prefix) => `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`));
  }
  if (filter.eventTypes?.length) {
    clauses.push(`type IN (${filter.eventTypes.map(() => '?').join(', ')})`);
    params.push(...filter.eventTypes);
  }
  return { where: clauses.map((clause) => `AND ${clause}`).join(' '), params };
}

interface CursorSource {
  from: bigint;
  fetch(after: bigint): RecordedEvent[];
  isClosed(): boolean;
  waitForEvents(signal: { cancelled: boolean }): Promise<void>;
}

/**
 * Pull-based catch-up subscription: reads a page after its cursor, hands the events out one by one as the consumer
 * asks, and when it has caught up waits to be woken by a local commit or by the poll timer.
 */
export class SubscriptionCursor implements Subscription {
  private cancelled = { cancelled: false };

  constructor(private readonly source: CursorSource) {}

  async *[Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    let after = this.source.from;
    while (!this.cancelled.cancelled && !this.source.isClosed()) {
      const page = this.source.fetch(after);
      if (page.length === 0) {
        await this.source.waitForEvents(this.cancelled);
        continue;
      }
      for (const event of page) {
        if (this.cancelled.cancelled) return;
        yield event;
        after = event.position;
      }
    }
  }

  async close(): Promise<void> {
    this.cancelled.cancelled = true;
  }
}

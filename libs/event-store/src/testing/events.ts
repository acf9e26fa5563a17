import { randomUUID } from 'node:crypto';
import type { NewEvent } from '../event-store.port';

/** A test event with plausible metadata; `data` is whatever the test needs to recognise it by. */
export function testEvent(type: string, data: Record<string, unknown> = {}, id: string = randomUUID()): NewEvent {
  return {
    id,
    type,
    schemaVersion: 1,
    data,
    metadata: {
      actor: { id: 'contract-test', role: 'system' },
      correlationId: randomUUID(),
      causationId: null,
      occurredAt: new Date().toISOString(),
    },
  };
}

export async function collect<T>(iterable: AsyncIterable<T>, limit = Number.POSITIVE_INFINITY): Promise<T[]> {
  const items: T[] = [];
  if (limit <= 0) return items;
  for await (const item of iterable) {
    items.push(item);
    if (items.length >= limit) break;
  }
  return items;
}

export function uniqueStream(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

import type { EventStore, RecordedEvent } from './event-store.port';

/** Where a reader of the log got to: the position of the last event it read, and that event's id. */
export interface LogCheckpoint {
  position: bigint;
  /** Null for a checkpoint saved before ids were kept beside it: then only the log's length can be checked. */
  eventId: string | null;
}

export function checkpointAt(event: Pick<RecordedEvent, 'position' | 'id'>): LogCheckpoint {
  return { position: event.position, eventId: event.id };
}

/**
 * Why the log is not the one a reader's state was built from, or null if it is. A log restored from a backup is
 * shorter than the reader's checkpoint or, once appended to again, holds other events at the same positions;
 * either way the state knows events that no longer exist and would skip new ones up to the old checkpoint.
 * Said in words for the reader's log line (it names no event data).
 */
export async function logReplaced(store: EventStore, checkpoint: LogCheckpoint | null): Promise<string | null> {
  if (checkpoint === null) return null;
  const head = (await store.headPosition()) ?? -1n;
  if (checkpoint.position > head) return `its checkpoint ${checkpoint.position} is past the end of the log`;
  if (checkpoint.eventId === null) return null;
  for await (const event of store.readAll({ fromPosition: checkpoint.position, maxCount: 1 })) {
    return event.position === checkpoint.position && event.id === checkpoint.eventId ? null : `the log holds another event at its checkpoint ${checkpoint.position}`;
  }
  return `the log holds no event at its checkpoint ${checkpoint.position}`;
}

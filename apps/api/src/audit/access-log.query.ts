import type { EventStore } from '@spoc/event-store';
import type { AccessRecord, AccessRecorded } from './access-log';
import type { AccessBatch, AccessLogQuery } from './access-log.projection';

export interface AccessLogEntry extends AccessRecord {
  /** The event that holds the entry, and the entry's place in it: together, its place in the log. */
  position: string;
  entry: number;
}

/**
 * Reads the candidate batches from the log and returns the page of entries that match, in log order: `offset`
 * matching entries skipped, at most `limit` returned.
 */
export async function accessEntries(
  store: EventStore,
  batches: AccessBatch[],
  query: AccessLogQuery & { limit: number; offset: number },
): Promise<AccessLogEntry[]> {
  const subjects = query.subjectIds ? new Set(query.subjectIds) : null;
  const matches = (record: AccessRecord) =>
    (!subjects || record.referralIds.some((id) => subjects.has(id)) || record.caseIds.some((id) => subjects.has(id))) &&
    (query.actorId === undefined || record.actor?.id === query.actorId) &&
    (query.from === undefined || record.at >= query.from) &&
    (query.before === undefined || record.at < query.before);
  const found: AccessLogEntry[] = [];
  let skipped = 0;
  for (const batch of batches) {
    for await (const event of store.readStream(batch.stream_id, { fromRevision: BigInt(batch.revision), maxCount: 1 })) {
      const { entries } = event.data as AccessRecorded['data'];
      for (let entry = 0; entry < entries.length; entry += 1) {
        if (!matches(entries[entry])) continue;
        if (skipped < query.offset) skipped += 1;
        else found.push({ ...entries[entry], position: event.position.toString(), entry });
        if (found.length === query.limit) return found;
      }
    }
  }
  return found;
}

import { createHash } from 'node:crypto';
import type { RecordedEvent } from './event-store.port';

/** The digest of an empty log. */
export const EMPTY_LOG_DIGEST = '0'.repeat(64);

/**
 * The whole log folded in position order: each event's position and stored hash into the digest before it. A
 * stream's own chain cannot show an event deleted at a stream's end, a whole stream deleted, events moved between
 * positions, or a stream rewritten with its hashes recomputed; this digest changes with each of them. Kept apart
 * from the log at intervals (the router's anchors), it shows the log differs from the one anchored.
 */
export function foldIntoLogDigest(digest: string, event: Pick<RecordedEvent, 'position' | 'hash'>): string {
  return createHash('sha256').update(`${digest}\n${event.position}\n${event.hash}`).digest('hex');
}

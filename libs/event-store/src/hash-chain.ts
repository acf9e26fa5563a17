import { createHash } from 'node:crypto';
import type { NewEvent, RecordedEvent } from './event-store.port';

/** The fields a hash covers. The global position is left out: EventStoreDB assigns it after the hash is made. */
export interface HashedFields {
  streamId: string;
  revision: bigint;
  recordedAt: string;
  previousHash: string | null;
}

/**
 * SHA-256 over the previous event's hash and this event's fields, with data and metadata as the JSON text that is
 * stored. JSON.stringify of parsed JSON gives back the same text (key order survives a round trip), so a reader
 * can recompute the hash from what it reads; it is also several times faster than a sorted-key form.
 */
export function eventHash(event: NewEvent, at: HashedFields, dataJson?: string, metadataJson?: string): string {
  const envelope = JSON.stringify([at.streamId, at.revision.toString(), event.id, event.type, event.schemaVersion, at.recordedAt]);
  return createHash('sha256')
    .update(`${at.previousHash ?? ''}\n${envelope}\n${dataJson ?? JSON.stringify(event.data)}\n`)
    .update(metadataJson ?? JSON.stringify(event.metadata))
    .digest('hex');
}

export type ChainVerdict =
  | { valid: true; checked: number }
  | {
      valid: false;
      checked: number;
      brokenAt: { streamId: string; revision: string; eventId: string; position: string; reason: string };
    };

/**
 * Checks one stream's events, in revision order from revision 0 (or from a trusted earlier hash):
 * each event's hash must match its content and link to the previous event's hash.
 */
export class ChainVerifier {
  private lastHash: string | null;
  private expectedRevision: bigint;
  private checked = 0;
  private broken: ChainVerdict | null = null;

  constructor(start: { previousHash: string | null; revision: bigint } = { previousHash: null, revision: 0n }) {
    this.lastHash = start.previousHash;
    this.expectedRevision = start.revision;
  }

  /** Returns false once the chain is broken; later events are not checked. */
  add(event: RecordedEvent): boolean {
    if (this.broken) return false;
    this.checked += 1;
    const reason = this.problemWith(event);
    if (reason) {
      this.broken = {
        valid: false,
        checked: this.checked,
        brokenAt: {
          streamId: event.streamId,
          revision: event.revision.toString(),
          eventId: event.id,
          position: event.position.toString(),
          reason,
        },
      };
      return false;
    }
    this.lastHash = event.hash;
    this.expectedRevision = event.revision + 1n;
    return true;
  }

  verdict(): ChainVerdict {
    return this.broken ?? { valid: true, checked: this.checked };
  }

  private problemWith(event: RecordedEvent): string | null {
    if (event.revision !== this.expectedRevision) return `revision ${event.revision} where ${this.expectedRevision} was expected`;
    if (event.previousHash !== this.lastHash) return 'previous hash does not match the previous event';
    const recomputed = eventHash(event, {
      streamId: event.streamId,
      revision: event.revision,
      recordedAt: event.recordedAt,
      previousHash: event.previousHash,
    });
    if (recomputed !== event.hash) return 'content does not match its hash';
    return null;
  }
}

export async function verifyStream(events: AsyncIterable<RecordedEvent>): Promise<ChainVerdict> {
  const verifier = new ChainVerifier();
  for await (const event of events) {
    if (!verifier.add(event)) break;
  }
  return verifier.verdict();
}

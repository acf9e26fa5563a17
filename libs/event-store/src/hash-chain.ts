import { createHash } from 'node:crypto';
import type { NewEvent, RecordedEvent } from './event-store.port';

/**
 * JSON with object keys sorted at every depth and no white space, so a hash does not depend on key order
 * or on the engine that stored the event. Values are plain JSON (no bigint, no undefined in arrays).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    return text === undefined ? 'null' : text;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
}

/** The fields a hash covers. The global position is left out: EventStoreDB assigns it after the hash is made. */
export interface HashedFields {
  streamId: string;
  revision: bigint;
  recordedAt: string;
  previousHash: string | null;
}

export function eventHash(event: NewEvent, at: HashedFields): string {
  const canonical = canonicalJson({
    streamId: at.streamId,
    revision: at.revision.toString(),
    id: event.id,
    type: event.type,
    schemaVersion: event.schemaVersion,
    data: event.data,
    metadata: event.metadata,
    recordedAt: at.recordedAt,
  });
  return createHash('sha256')
    .update(at.previousHash ?? '')
    .update('\n')
    .update(canonical)
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

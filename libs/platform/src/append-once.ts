import { WrongExpectedVersionError, type EventStore } from '@spoc/event-store';
import type { CommandContext, DomainEvent, EventCodec } from './event-codec';
import { nameBasedUuid } from './ids';

/**
 * Appends one event whose id is derived from `idName`, so whoever appends it first (a handler, a router healing
 * after a crash, a second router) writes it and everyone else finds it stored. Returns the log position it was
 * written at, or null when it was already there (or the stream had moved on, for `no-stream`).
 */
export async function appendOnce(
  store: EventStore,
  codec: EventCodec,
  target: { streamId: string; expected: 'no-stream' | 'any'; idName: string },
  event: DomainEvent,
  context: CommandContext,
  subject?: { keyId: string; key: Buffer },
): Promise<bigint | null> {
  const [encoded] = codec.encode([event], context, subject);
  encoded.id = nameBasedUuid(target.idName);
  try {
    return (await store.append(target.streamId, [encoded], target.expected)).position;
  } catch (error) {
    if (error instanceof WrongExpectedVersionError) return null;
    throw error;
  }
}

import type { EventStore } from '@spoc/event-store';
import type { EventCodec } from '@spoc/platform';

/** Reads a stream as domain events plus the revision they were read at (the expected revision of the next append). */
export async function loadStream<Event extends { type: string; data: unknown }>(
  store: EventStore,
  codec: EventCodec,
  streamId: string,
): Promise<{ events: Event[]; revision: bigint | null }> {
  const events: Event[] = [];
  let revision: bigint | null = null;
  for await (const recorded of store.readStream(streamId)) {
    const decoded = codec.decode(recorded);
    events.push({ type: decoded.type, data: decoded.data } as Event);
    revision = recorded.revision;
  }
  return { events, revision };
}

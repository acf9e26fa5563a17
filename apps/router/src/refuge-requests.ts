import { refugeUnits, streams, type RefugeEvent, type RefugeState } from '@spoc/domain';
import type { EventStore } from '@spoc/event-store';
import { nameBasedUuid } from '@spoc/platform';

/** The refuge stream folded, as the router needs it for one referral. */
export interface RefugeRequests {
  state: RefugeState;
  /** Whose each request is. */
  referralOf: Map<string, string>;
  /**
   * The referral's request that holds or waits for a unit, if any: where in the log it was made (a stay's end or a
   * decision releases only a request made before it), how many units were free then, and the event whose handling
   * asked for it (its causation; null in logs from before it was recorded).
   */
  live: { requestId: string; position: bigint; unitsFreeBefore: number; askedOn: string | null } | null;
  /** The id the referral's next request takes: one per stay, so a person who needs the refuge again asks anew. */
  nextRequestId: string;
}

export async function refugeRequestsOf(store: EventStore, capacity: number, referralId: string): Promise<RefugeRequests> {
  const evolve = refugeUnits.evolve(capacity);
  let state = refugeUnits.initialState();
  const referralOf = new Map<string, string>();
  const freeBefore = new Map<string, number>();
  const madeAt = new Map<string, bigint>();
  const askedOn = new Map<string, string | null>();
  let count = 0;
  for await (const event of store.readStream(streams.refuge())) {
    const refugeEvent = { type: event.type, data: event.data } as RefugeEvent;
    if (refugeEvent.type === 'RefugeUnitRequested' && !referralOf.has(refugeEvent.data.requestId)) {
      referralOf.set(refugeEvent.data.requestId, refugeEvent.data.referralId);
      freeBefore.set(refugeEvent.data.requestId, refugeUnits.unitsFree(state, capacity));
      madeAt.set(refugeEvent.data.requestId, event.position);
      askedOn.set(refugeEvent.data.requestId, event.metadata.causationId ?? null);
      if (refugeEvent.data.referralId === referralId) count += 1;
    }
    state = evolve(state, refugeEvent);
  }
  const liveId = [...state.placed, ...state.waiting].find((requestId) => referralOf.get(requestId) === referralId) ?? null;
  return {
    state,
    referralOf,
    live: liveId ? { requestId: liveId, position: madeAt.get(liveId)!, unitsFreeBefore: freeBefore.get(liveId) ?? 0, askedOn: askedOn.get(liveId) ?? null } : null,
    // The first keeps the id requests had when there was one per referral, so older logs fold the same.
    nextRequestId: nameBasedUuid(count === 0 ? `refuge\n${referralId}` : `refuge\n${referralId}\n${count}`),
  };
}

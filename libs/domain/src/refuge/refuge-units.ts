import { assertNever } from '../shared/domain-error';

/**
 * Refuge places as one stream of requests and releases. Who holds a unit is a pure function of that stream's
 * order, so any number of routers reading it agree: the first `capacity` requests are placed, later ones wait in
 * order, and each release places the longest-waiting request.
 */
export type RefugeEvent =
  | { type: 'RefugeUnitRequested'; data: { requestId: string; referralId: string; requestedAt: string } }
  | { type: 'RefugeUnitReleased'; data: { requestId: string; releasedAt: string } };

export interface RefugeState {
  placed: string[];
  waiting: string[];
  released: string[];
}

export const refugeUnits = {
  initialState: (): RefugeState => ({ placed: [], waiting: [], released: [] }),

  evolve(capacity: number) {
    return (state: RefugeState, event: RefugeEvent): RefugeState => {
      switch (event.type) {
        case 'RefugeUnitRequested': {
          const { requestId } = event.data;
          if (state.placed.includes(requestId) || state.waiting.includes(requestId) || state.released.includes(requestId)) return state;
          return state.placed.length < capacity
            ? { ...state, placed: [...state.placed, requestId] }
            : { ...state, waiting: [...state.waiting, requestId] };
        }
        case 'RefugeUnitReleased': {
          const { requestId } = event.data;
          if (!state.placed.includes(requestId)) return { ...state, waiting: state.waiting.filter((id) => id !== requestId) };
          const [next, ...waiting] = state.waiting;
          const placed = state.placed.filter((id) => id !== requestId);
          return { placed: next ? [...placed, next] : placed, waiting, released: [...state.released, requestId] };
        }
        default:
          return assertNever(event);
      }
    };
  },

  unitsFree(state: RefugeState, capacity: number): number {
    return Math.max(0, capacity - state.placed.length);
  },

  statusOf(state: RefugeState, requestId: string): 'placed' | 'waiting' | 'unknown' {
    if (state.placed.includes(requestId)) return 'placed';
    if (state.waiting.includes(requestId)) return 'waiting';
    return 'unknown';
  },
};

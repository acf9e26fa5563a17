import { refugeUnits, type RefugeEvent } from './refuge-units';

const request = (n: number): RefugeEvent => ({ type: 'RefugeUnitRequested', data: { requestId: `q-${n}`, referralId: `r-${n}`, requestedAt: '2026-11-23T10:00:00Z' } });
const release = (n: number): RefugeEvent => ({ type: 'RefugeUnitReleased', data: { requestId: `q-${n}`, releasedAt: '2026-11-24T10:00:00Z' } });
const fold = (events: RefugeEvent[], capacity = 16) => events.reduce(refugeUnits.evolve(capacity), refugeUnits.initialState());

describe('refuge units', () => {
  it('places the first 16 requests and waitlists the rest in the order they came', () => {
    const state = fold(Array.from({ length: 100 }, (_, n) => request(n)));
    expect(state.placed).toEqual(Array.from({ length: 16 }, (_, n) => `q-${n}`));
    expect(state.waiting).toEqual(Array.from({ length: 84 }, (_, n) => `q-${n + 16}`));
    expect(refugeUnits.unitsFree(state, 16)).toBe(0);
  });

  it('gives a released unit to the longest-waiting request', () => {
    const state = fold([request(1), request(2), request(3), release(1)], 2);
    expect(state.placed).toEqual(['q-2', 'q-3']);
    expect(refugeUnits.statusOf(state, 'q-3')).toBe('placed');
    expect(refugeUnits.statusOf(state, 'q-1')).toBe('unknown');
  });

  it('counts a repeated request once, so a retried append cannot take two units', () => {
    const state = fold([request(1), request(1), request(2)], 2);
    expect(state.placed).toEqual(['q-1', 'q-2']);
  });

  it('takes a waiting request off the list when it is withdrawn', () => {
    const state = fold([request(1), request(2), release(2)], 1);
    expect(state).toEqual({ placed: ['q-1'], waiting: [], released: [] });
  });
});

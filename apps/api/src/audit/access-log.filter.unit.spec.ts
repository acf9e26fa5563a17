import { ValidationFailed } from '../shared/http/problem.filter';
import { readAccessLogFilter } from './access-log.filter';

const LONDON = 'Europe/London';

function problemsOf(query: Record<string, unknown>): Array<{ field: string; problem: string }> {
  try {
    readAccessLogFilter(query, LONDON);
  } catch (error) {
    if (error instanceof ValidationFailed) return error.details;
    throw error;
  }
  return [];
}

describe('the access log filter', () => {
  it('takes a date as the whole local day, `to` included', () => {
    // 1 July is in British Summer Time: the day starts at 23:00 UTC the evening before.
    expect(readAccessLogFilter({ from: '2026-07-01', to: '2026-07-01' }, LONDON)).toMatchObject({
      from: '2026-06-30T23:00:00.000Z',
      before: '2026-07-01T23:00:00.000Z',
    });
  });

  it('takes instants with an offset, `to` inclusive to the millisecond', () => {
    expect(readAccessLogFilter({ from: '2026-11-23T10:00:00+01:00', to: '2026-11-23T12:00:00Z' }, LONDON)).toMatchObject({
      from: '2026-11-23T09:00:00.000Z',
      before: '2026-11-23T12:00:00.001Z',
    });
  });

  it('defaults to the first page of 50 with no filters', () => {
    expect(readAccessLogFilter({}, LONDON)).toEqual({ page: { limit: 50, offset: 0 }, from: undefined, before: undefined });
  });

  it('lists every problem at once', () => {
    expect(problemsOf({ referralId: 'nope', actorId: 'x y', from: '2026-02-30', to: 'yesterday', limit: '0', cursor: '!' })).toEqual([
      { field: 'limit', problem: 'must be a whole number from 1 to 500' },
      { field: 'cursor', problem: 'is not a cursor this service gave out' },
      { field: 'referralId', problem: 'must be a UUID' },
      { field: 'actorId', problem: 'must be a principal id' },
      { field: 'from', problem: 'must be a date YYYY-MM-DD or an ISO 8601 instant with offset' },
      { field: 'to', problem: 'must be a date YYYY-MM-DD or an ISO 8601 instant with offset' },
    ]);
  });

  it('refuses an instant without an offset, which names no single moment', () => {
    expect(problemsOf({ from: '2026-11-23T10:00:00' })).toEqual([{ field: 'from', problem: 'must be a date YYYY-MM-DD or an ISO 8601 instant with offset' }]);
  });

  it('refuses dates and instants outside the years 1900 to 2999 on their field, where the calendar does not reach', () => {
    expect(problemsOf({ to: '9999-12-31' })).toEqual([{ field: 'to', problem: 'must not be after 2999-12-31' }]);
    expect(problemsOf({ from: '9999-12-31' })).toEqual([{ field: 'from', problem: 'must not be after 2999-12-31' }]);
    expect(problemsOf({ to: '9999-12-31T23:59:59.999-14:00' })).toEqual([{ field: 'to', problem: 'must not be after 2999-12-31' }]);
    expect(problemsOf({ from: '1899-12-31' })).toEqual([{ field: 'from', problem: 'must not be before 1900-01-01' }]);
    expect(problemsOf({ from: '1900-01-01', to: '2999-12-31' })).toEqual([]);
  });

  it('refuses an instant that is not on the calendar', () => {
    expect(problemsOf({ from: '2026-02-30T00:00:00Z' })).toEqual([{ field: 'from', problem: 'must be a date YYYY-MM-DD or an ISO 8601 instant with offset' }]);
  });

  it('refuses a range that ends before it starts', () => {
    expect(problemsOf({ from: '2026-11-24', to: '2026-11-23' })).toEqual([{ field: 'to', problem: 'must not be before from' }]);
  });
});

import { dateProblem, instantQueryProblem, readDate, readPage } from './paging';
import type { FieldProblem } from './validation';

describe("a query's dates and instants", () => {
  it('reads a real date in the years 1900 to 2999', () => {
    const problems: FieldProblem[] = [];
    expect(readDate({ from: '2026-02-28' }, 'from', problems)).toBe('2026-02-28');
    expect(readDate({}, 'from', problems)).toBeUndefined();
    expect(problems).toEqual([]);
  });

  it('puts a date outside those years on its field, as the calendar arithmetic after it would fail', () => {
    const problems: FieldProblem[] = [];
    expect(readDate({ to: '9999-12-31' }, 'to', problems)).toBeUndefined();
    readDate({ from: '1899-12-31' }, 'from', problems);
    expect(problems).toEqual([
      { field: 'to', problem: 'must not be after 2999-12-31' },
      { field: 'from', problem: 'must not be before 1900-01-01' },
    ]);
    expect(dateProblem('3000-01-01')).toBe('must not be after 2999-12-31');
    expect(dateProblem('2999-12-31')).toBeNull();
  });

  it('refuses a date that is not on the calendar or not a date at all', () => {
    for (const value of ['2026-02-30', '2026-2-3', '', 'today', ['2026-01-01']]) expect(dateProblem(value)).toBe('must be a date YYYY-MM-DD');
  });

  it('takes an instant only as a real calendar date-time with an explicit offset, in those years', () => {
    expect(instantQueryProblem('2026-11-23T10:00:00Z')).toBeNull();
    expect(instantQueryProblem('2026-11-23T10:00:00.123+01:00')).toBeNull();
    for (const value of ['2026-02-30T00:00:00Z', '2026-11-23T24:00:00Z', '2026-11-23T10:00:00', '2026-11-23', 'now', 1]) {
      expect(instantQueryProblem(value)).toBe('must be an ISO 8601 instant with offset, e.g. 2026-11-21T01:00:00Z');
    }
    expect(instantQueryProblem('9999-12-31T23:59:59Z')).toBe('must not be after 2999-12-31');
    expect(instantQueryProblem('1899-12-31T23:59:59Z')).toBe('must not be before 1900-01-01');
  });
});

describe('a page of a list', () => {
  const limitOf = (limit: unknown) => {
    const problems: FieldProblem[] = [];
    const page = readPage({ limit }, problems);
    return problems.length > 0 ? problems : page.limit;
  };

  it('takes a limit of plain digits from 1 to 500, and 50 when none is given', () => {
    expect(readPage({}, [])).toEqual({ limit: 50, offset: 0 });
    expect([limitOf('1'), limitOf('500'), limitOf('050')]).toEqual([1, 500, 50]);
  });

  it('refuses any other limit on its field, forms Number() would take as numbers included', () => {
    for (const limit of ['', '0', '501', '0x10', '1e2', '2.0', ' 5', '-1', ['5', '6']]) {
      expect(limitOf(limit)).toEqual([{ field: 'limit', problem: 'must be a whole number from 1 to 500' }]);
    }
  });
});

import { testCalendar as calendar } from './calendar.fixture';
import { isSchoolDay, nextSchoolDayStart } from './school-days';

describe('school days', () => {
  it('are working days outside the school holidays', () => {
    expect(isSchoolDay('2026-11-23', calendar)).toBe(true);
    expect(isSchoolDay('2026-11-21', calendar)).toBe(false);
    expect(isSchoolDay('2026-05-04', calendar)).toBe(false);
    expect(isSchoolDay('2026-10-27', calendar)).toBe(false);
    expect(isSchoolDay('2026-10-30', calendar)).toBe(false);
    expect(isSchoolDay('2026-11-02', calendar)).toBe(true);
  });
});

describe('the start of the next school day', () => {
  it('given Monday 07:00, then it is Monday 08:30, before the child arrives', () => {
    expect(nextSchoolDayStart('2026-11-23T07:00:00Z', calendar, '08:30')).toBe('2026-11-23T08:30:00.000Z');
  });

  it('given Monday 08:30 exactly or later, then it is Tuesday 08:30', () => {
    expect(nextSchoolDayStart('2026-11-23T08:30:00Z', calendar, '08:30')).toBe('2026-11-24T08:30:00.000Z');
    expect(nextSchoolDayStart('2026-11-23T14:00:00Z', calendar, '08:30')).toBe('2026-11-24T08:30:00.000Z');
  });

  it('given Friday evening or Saturday, then it is Monday 08:30', () => {
    expect(nextSchoolDayStart('2026-11-20T20:00:00Z', calendar, '08:30')).toBe('2026-11-23T08:30:00.000Z');
    expect(nextSchoolDayStart('2026-11-21T10:00:00Z', calendar, '08:30')).toBe('2026-11-23T08:30:00.000Z');
  });

  it('given the Friday before a bank holiday and half term, then it is the Monday after half term, 08:30 BST', () => {
    expect(nextSchoolDayStart('2026-05-22T17:00:00Z', calendar, '08:30')).toBe('2026-06-01T07:30:00.000Z');
  });

  it('given the Friday before October half term in BST, then it is 08:30 GMT on the Monday after', () => {
    expect(nextSchoolDayStart('2026-10-23T15:00:00Z', calendar, '08:30')).toBe('2026-11-02T08:30:00.000Z');
  });

  it('given the Friday before the clocks go forward, then it is 08:30 BST once Easter is over', () => {
    expect(nextSchoolDayStart('2026-03-27T18:00:00Z', calendar, '08:30')).toBe('2026-04-13T07:30:00.000Z');
  });

  it('given a summer night after midnight in London, then it is that same morning', () => {
    expect(nextSchoolDayStart('2026-06-09T23:30:00Z', calendar, '08:30')).toBe('2026-06-10T07:30:00.000Z');
  });

  it('gives up with a clear error when the calendar has no school day at all', () => {
    const closed = { ...calendar, schoolHolidays: [{ name: 'closed', from: '2026-01-01', to: '2030-12-31' }] };
    expect(() => nextSchoolDayStart('2026-11-23T07:00:00Z', closed, '08:30')).toThrow(/no school day/);
  });
});

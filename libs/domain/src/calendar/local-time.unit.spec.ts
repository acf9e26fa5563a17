import { addDays, daysBetween, instantAt, localDateOf, localDateTimeOf, weekdayOf } from './local-time';

const london = 'Europe/London';

describe('local time in Europe/London', () => {
  it('reads GMT in winter and BST in summer', () => {
    expect(localDateTimeOf('2026-01-15T12:00:00Z', london)).toEqual({ date: '2026-01-15', hour: 12, minute: 0, second: 0, millisecond: 0 });
    expect(localDateTimeOf('2026-07-15T12:00:00.250Z', london)).toEqual({ date: '2026-07-15', hour: 13, minute: 0, second: 0, millisecond: 250 });
  });

  it('moves to BST at 01:00 UTC on 29 March 2026', () => {
    expect(localDateTimeOf('2026-03-29T00:59:59Z', london)).toMatchObject({ hour: 0, minute: 59, second: 59 });
    expect(localDateTimeOf('2026-03-29T01:00:00Z', london)).toMatchObject({ hour: 2, minute: 0 });
  });

  it('moves back to GMT at 01:00 UTC on 25 October 2026, so 01:xx happens twice', () => {
    expect(localDateTimeOf('2026-10-25T00:30:00Z', london)).toMatchObject({ hour: 1, minute: 30 });
    expect(localDateTimeOf('2026-10-25T01:30:00Z', london)).toMatchObject({ hour: 1, minute: 30 });
  });

  it('takes the local date, not the UTC one, near midnight in summer', () => {
    expect(localDateOf('2026-06-05T23:30:00Z', london)).toBe('2026-06-06');
    expect(localDateOf('2026-12-05T23:30:00Z', london)).toBe('2026-12-05');
  });

  it('accepts instants written with an offset and as Dates', () => {
    expect(localDateOf('2026-06-06T00:30:00+01:00', london)).toBe('2026-06-06');
    expect(localDateOf(new Date('2026-06-05T23:30:00Z'), london)).toBe('2026-06-06');
  });

  it('refuses something that is not an instant', () => {
    expect(() => localDateOf('next Tuesday', london)).toThrow(RangeError);
  });

  it('finds the instant of a local clock time either side of the changes', () => {
    expect(instantAt('2026-03-27', '09:00', london).toISOString()).toBe('2026-03-27T09:00:00.000Z');
    expect(instantAt('2026-03-30', '09:00', london).toISOString()).toBe('2026-03-30T08:00:00.000Z');
    expect(instantAt('2026-10-23', '09:00', london).toISOString()).toBe('2026-10-23T08:00:00.000Z');
    expect(instantAt('2026-10-26', '09:00', london).toISOString()).toBe('2026-10-26T09:00:00.000Z');
  });

  it('puts a clock time the spring change skips just after the gap, and a repeated autumn time at its first showing', () => {
    expect(instantAt('2026-03-29', '01:30', london).toISOString()).toBe('2026-03-29T01:30:00.000Z');
    expect(localDateTimeOf('2026-03-29T01:30:00Z', london)).toMatchObject({ hour: 2, minute: 30 });
    expect(instantAt('2026-10-25', '01:30', london).toISOString()).toBe('2026-10-25T00:30:00.000Z');
  });

  it('counts calendar days and weekdays on plain dates', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-03-28', 2)).toBe('2026-03-30');
    expect(daysBetween('2026-01-08', '2026-11-26')).toBe(322);
    expect(weekdayOf('2026-01-08')).toBe('thursday');
  });
});

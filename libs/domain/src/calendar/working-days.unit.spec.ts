import { testCalendar as calendar } from './calendar.fixture';
import { addDays, instantAt, localDateTimeOf } from './local-time';
import { addWorkingDays, firstWorkingDayAfter, isWorkingDay, nextWorkingDay } from './working-days';

describe('working days', () => {
  it('are Monday to Friday except bank holidays', () => {
    expect(isWorkingDay('2026-11-20', calendar)).toBe(true);
    expect(isWorkingDay('2026-11-21', calendar)).toBe(false);
    expect(isWorkingDay('2026-11-22', calendar)).toBe(false);
    expect(isWorkingDay('2026-05-25', calendar)).toBe(false);
  });

  it('do not care about school holidays', () => {
    expect(isWorkingDay('2026-10-27', calendar)).toBe(true);
  });

  it('follow each other over weekends and bank holidays', () => {
    expect(nextWorkingDay('2026-04-02', calendar)).toBe('2026-04-07');
    expect(nextWorkingDay('2026-12-24', calendar)).toBe('2026-12-29');
  });
});

describe('adding working days to an instant', () => {
  it('given Friday 15:00, when one working day is added, then it is Monday 15:00', () => {
    expect(addWorkingDays('2026-11-20T15:00:00Z', 1, calendar)).toBe('2026-11-23T15:00:00.000Z');
  });

  it('given Friday 15:00 before a bank holiday Monday, when one is added, then it is Tuesday 15:00', () => {
    expect(addWorkingDays('2026-05-22T14:00:00Z', 1, calendar)).toBe('2026-05-26T14:00:00.000Z');
  });

  it('given the Thursday before Easter, when one is added, then it skips Good Friday, the weekend and Easter Monday', () => {
    expect(addWorkingDays('2026-04-02T14:00:00Z', 1, calendar)).toBe('2026-04-07T14:00:00.000Z');
  });

  it('given Wednesday, when five are added, then it is the next Wednesday at the same time', () => {
    expect(addWorkingDays('2026-11-18T10:00:00Z', 5, calendar)).toBe('2026-11-25T10:00:00.000Z');
  });

  it('given a Saturday, when one is added, then the clock starts Monday 09:00 and ends Tuesday 09:00', () => {
    expect(addWorkingDays('2026-11-21T10:00:00Z', 1, calendar)).toBe('2026-11-24T09:00:00.000Z');
    expect(addWorkingDays('2026-11-21T10:00:00Z', 0, calendar)).toBe('2026-11-23T09:00:00.000Z');
  });

  it('given a bank holiday Monday, when one is added, then the clock starts Tuesday 09:00 and ends Wednesday 09:00 BST', () => {
    expect(addWorkingDays('2026-05-25T10:00:00Z', 1, calendar)).toBe('2026-05-27T08:00:00.000Z');
  });

  it('given a working day, when zero are added, then it is the same instant', () => {
    expect(addWorkingDays('2026-11-20T15:00:00Z', 0, calendar)).toBe('2026-11-20T15:00:00.000Z');
  });

  it('keeps the local clock time across the change to BST (Friday 27 March 2026)', () => {
    expect(addWorkingDays('2026-03-27T15:00:00Z', 1, calendar)).toBe('2026-03-30T14:00:00.000Z');
  });

  it('keeps the local clock time across the change to GMT (Friday 23 October 2026)', () => {
    expect(addWorkingDays('2026-10-23T14:00:00Z', 1, calendar)).toBe('2026-10-26T15:00:00.000Z');
  });

  it('given Sunday 29 March, the day the clocks go forward, when one is added, then it is Tuesday 09:00 BST', () => {
    expect(addWorkingDays('2026-03-29T11:00:00Z', 1, calendar)).toBe('2026-03-31T08:00:00.000Z');
  });

  it('reads the day in London: 23:30 UTC on a summer Friday is already Saturday', () => {
    expect(addWorkingDays('2026-06-05T23:30:00Z', 1, calendar)).toBe('2026-06-09T08:00:00.000Z');
  });

  it('keeps seconds and milliseconds', () => {
    expect(addWorkingDays('2026-11-20T15:00:27.123Z', 1, calendar)).toBe('2026-11-23T15:00:27.123Z');
  });

  it('refuses a negative or fractional number of days', () => {
    expect(() => addWorkingDays('2026-11-20T15:00:00Z', -1, calendar)).toThrow(RangeError);
    expect(() => addWorkingDays('2026-11-20T15:00:00Z', 1.5, calendar)).toThrow(RangeError);
  });
});

describe('working days, cached, against walking afresh', () => {
  const dates: string[] = [];
  for (let date = '2025-12-01'; date <= '2028-01-31'; date = addDays(date, 1)) dates.push(date);

  it('give the same next working day for every date over two years, weekends, bank holidays and year ends included', () => {
    for (const pass of ['first', 'again']) {
      const mismatches = dates.filter((date) => nextWorkingDay(date, calendar) !== firstWorkingDayAfter(date, calendar));
      expect({ pass, mismatches }).toEqual({ pass, mismatches: [] });
    }
  });

  it('add working days as stepping day by day does, every few hours across the clock changes', () => {
    const stepping = (at: string, days: number): string => {
      const local = localDateTimeOf(at, calendar.timeZone);
      const startsOnWorkingDay = isWorkingDay(local.date, calendar);
      let day = startsOnWorkingDay ? local.date : firstWorkingDayAfter(local.date, calendar);
      for (let counted = 0; counted < days; counted += 1) day = firstWorkingDayAfter(day, calendar);
      return instantAt(day, startsOnWorkingDay ? local : calendar.workingDayStart, calendar.timeZone).toISOString();
    };
    const mismatches: string[] = [];
    for (let at = Date.UTC(2025, 11, 1); at < Date.UTC(2028, 0, 31); at += 5 * 3_600_000 + 7_777) {
      const instant = new Date(at).toISOString();
      for (const days of [0, 1, 5]) {
        if (addWorkingDays(instant, days, calendar) !== stepping(instant, days)) mismatches.push(`${instant} + ${days}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('follow the bank holidays as they are now, whether the calendar is copied or changed in place', () => {
    const changing = { ...calendar, bankHolidays: [...calendar.bankHolidays] };
    expect(nextWorkingDay('2026-12-24', changing)).toBe('2026-12-29');
    changing.bankHolidays[changing.bankHolidays.indexOf('2026-12-25')] = '2026-12-29';
    expect(nextWorkingDay('2026-12-24', changing)).toBe('2026-12-25');
    expect(nextWorkingDay('2026-12-24', calendar)).toBe('2026-12-29');
    changing.bankHolidays.push('2026-12-25');
    expect(nextWorkingDay('2026-12-24', changing)).toBe('2026-12-30');
    changing.bankHolidays.splice(0, changing.bankHolidays.length);
    expect(nextWorkingDay('2026-12-24', changing)).toBe('2026-12-25');
    expect(addWorkingDays('2026-12-24T10:00:00Z', 1, { ...calendar, bankHolidays: ['2026-12-25', '2026-12-28', '2026-12-29'] })).toBe('2026-12-30T10:00:00.000Z');
    expect(addWorkingDays('2026-12-24T10:00:00Z', 1, calendar)).toBe('2026-12-29T10:00:00.000Z');
  });
});

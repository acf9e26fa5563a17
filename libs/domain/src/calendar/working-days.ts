import type { Calendar } from '../policy/policy';
import { addDays, instantAt, localDateTimeOf, weekdayOf, type Instant, type LocalDate } from './local-time';

/** Monday to Friday, less England's bank holidays as the calendar lists them. */
export function isWorkingDay(date: LocalDate, calendar: Pick<Calendar, 'bankHolidays'>): boolean {
  const weekday = weekdayOf(date);
  return weekday !== 'saturday' && weekday !== 'sunday' && !calendar.bankHolidays.includes(date);
}

/** The first working day strictly after a date. */
export function nextWorkingDay(date: LocalDate, calendar: Pick<Calendar, 'bankHolidays'>): LocalDate {
  let day = addDays(date, 1);
  while (!isWorkingDay(day, calendar)) day = addDays(day, 1);
  return day;
}

/** The date itself when it is a working day, else the next one (a meeting that falls on a bank holiday moves on). */
export function workingDayOnOrAfter(date: LocalDate, calendar: Pick<Calendar, 'bankHolidays'>): LocalDate {
  return isWorkingDay(date, calendar) ? date : nextWorkingDay(date, calendar);
}

/**
 * The same local clock time `days` working days later: Friday 15:00 plus one is Monday 15:00, Tuesday over a bank
 * holiday. An instant on a day that is not a working day starts its clock at the next working day's
 * `workingDayStart` (Saturday plus one is Tuesday 09:00), so nobody is due on a day nobody works. Zero days gives
 * that starting point. Returns an ISO instant in UTC.
 */
export function addWorkingDays(instant: Instant, days: number, calendar: Calendar): string {
  if (!Number.isInteger(days) || days < 0) throw new RangeError(`working days must be a whole number >= 0, not ${days}`);
  const local = localDateTimeOf(instant, calendar.timeZone);
  const startsOnWorkingDay = isWorkingDay(local.date, calendar);
  let day = startsOnWorkingDay ? local.date : nextWorkingDay(local.date, calendar);
  for (let counted = 0; counted < days; counted += 1) day = nextWorkingDay(day, calendar);
  return instantAt(day, startsOnWorkingDay ? local : calendar.workingDayStart, calendar.timeZone).toISOString();
}

import type { Calendar } from '../policy/policy';
import { addDays, instantAt, localDateOf, toDate, type Instant, type LocalDate } from './local-time';
import { isWorkingDay } from './working-days';

/** A working day outside the school holidays the partnership lists (schools close on bank holidays too). */
export function isSchoolDay(date: LocalDate, calendar: Calendar): boolean {
  return isWorkingDay(date, calendar) && !calendar.schoolHolidays.some((holiday) => holiday.from <= date && date <= holiday.to);
}

// Longer than any school holiday; reaching it means the calendar has no school days at all.
const SEARCH_LIMIT_DAYS = 400;

/**
 * The start of the next school day strictly after an instant: Monday 07:00 gives Monday 08:30 (the school hears
 * before the child arrives), Monday 08:30 or later gives Tuesday's, and weekends, bank holidays and school holidays
 * roll on. Returns an ISO instant in UTC.
 */
export function nextSchoolDayStart(instant: Instant, calendar: Calendar, schoolDayStart: string): string {
  const at = toDate(instant);
  let day = localDateOf(at, calendar.timeZone);
  for (let searched = 0; searched < SEARCH_LIMIT_DAYS; searched += 1, day = addDays(day, 1)) {
    if (!isSchoolDay(day, calendar)) continue;
    const start = instantAt(day, schoolDayStart, calendar.timeZone);
    if (start.getTime() > at.getTime()) return start.toISOString();
  }
  throw new RangeError(`the calendar has no school day within ${SEARCH_LIMIT_DAYS} days of ${at.toISOString()}`);
}

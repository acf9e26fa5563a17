import type { Calendar } from '../policy/policy';
import { addDays, instantAt, localDateTimeOf, weekdayOf, type Instant, type LocalDate } from './local-time';

/** Monday to Friday, less England's bank holidays as the calendar lists them. */
export function isWorkingDay(date: LocalDate, calendar: Pick<Calendar, 'bankHolidays'>): boolean {
  const weekday = weekdayOf(date);
  return weekday !== 'saturday' && weekday !== 'sunday' && !calendar.bankHolidays.includes(date);
}

/** The first working day strictly after a date. */
export function nextWorkingDay(date: LocalDate, calendar: Pick<Calendar, 'bankHolidays'>): LocalDate {
  if (!sameDates(calendar.bankHolidays, walked.bankHolidays)) walked = { bankHolidays: [...calendar.bankHolidays], next: new Map() };
  let next = walked.next.get(date);
  if (next === undefined) {
    next = firstWorkingDayAfter(date, calendar);
    if (walked.next.size > 50_000) walked.next.clear();
    walked.next.set(date, next);
  }
  return next;
}

/**
 * Every referral routed on a date walks to the same working days. The walks are kept for the bank holidays last
 * asked about, matched by content rather than by object, since a policy's calendar may be copied or changed in
 * place between calls.
 */
let walked = { bankHolidays: [] as string[], next: new Map<LocalDate, LocalDate>() };

function sameDates(dates: readonly string[], known: readonly string[]): boolean {
  if (dates.length !== known.length) return false;
  for (let index = 0; index < dates.length; index += 1) if (dates[index] !== known[index]) return false;
  return true;
}

/** `nextWorkingDay` worked out afresh, stepping day by day. */
export function firstWorkingDayAfter(date: LocalDate, calendar: Pick<Calendar, 'bankHolidays'>): LocalDate {
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

import { localDateOf, type Instant, type LocalDate } from './local-time';

/**
 * Whether `earlier` falls within the `months` calendar months that end at `later`, by local dates and inclusive:
 * with 12 months, 21 Nov 2025 is within reach of 21 Nov 2026 and 20 Nov 2025 is not. The repeat-victim and
 * repeat-MARAC windows are counted this way.
 */
export function isWithinMonths(earlier: Instant, later: Instant, months: number, timeZone: string): boolean {
  const end = localDateOf(later, timeZone);
  const date = localDateOf(earlier, timeZone);
  return monthsBefore(end, months) <= date && date <= end;
}

/** A month-end that the earlier month lacks clamps to its last day (31 May less 3 months is 28 or 29 Feb). */
function monthsBefore(date: LocalDate, months: number): LocalDate {
  const [year, month, day] = date.split('-').map(Number);
  const monthIndex = year * 12 + (month - 1) - months;
  const targetYear = Math.floor(monthIndex / 12);
  const targetMonth = monthIndex - targetYear * 12;
  const lastDay = new Date(Date.UTC(targetYear, targetMonth + 1, 0)).getUTCDate();
  return `${String(targetYear).padStart(4, '0')}-${String(targetMonth + 1).padStart(2, '0')}-${String(Math.min(day, lastDay)).padStart(2, '0')}`;
}

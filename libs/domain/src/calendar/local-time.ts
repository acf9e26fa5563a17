/**
 * Local dates and clock times in a named time zone, without a date library: Intl reads the local parts of an
 * instant, and the offset is the difference between those parts read as UTC and the instant itself.
 */

/** An instant as the core receives it: an ISO 8601 string with an offset or Z, or a Date. */
export type Instant = string | Date;

/** A calendar date with no time zone, "YYYY-MM-DD". */
export type LocalDate = string;

export interface LocalDateTime {
  date: LocalDate;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

const DAY = 86_400_000;
const WEEKDAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;

export function toDate(instant: Instant): Date {
  const date = instant instanceof Date ? new Date(instant.getTime()) : new Date(instant);
  if (Number.isNaN(date.getTime())) throw new RangeError(`not an instant: ${String(instant)}`);
  return date;
}

export function toIsoInstant(instant: Instant): string {
  return toDate(instant).toISOString();
}

/** The local date and clock time of an instant in a time zone. */
export function localDateTimeOf(instant: Instant, timeZone: string): LocalDateTime {
  const date = toDate(instant);
  const parts = wallClock(date.getTime(), timeZone);
  return { ...parts, millisecond: date.getUTCMilliseconds() };
}

export function localDateOf(instant: Instant, timeZone: string): LocalDate {
  return localDateTimeOf(instant, timeZone).date;
}

/**
 * The instant at which a local date shows a clock time. A time that the clocks skip (spring forward) lands as far
 * after the gap as it was into it; a time that happens twice (fall back) is the first. Working days never meet
 * either in the UK (clocks change on Sundays at 01:00 UTC), but the function is total.
 */
export function instantAt(date: LocalDate, clockTime: string | Omit<LocalDateTime, 'date'>, timeZone: string): Date {
  const time = typeof clockTime === 'string' ? parseClockTime(clockTime) : clockTime;
  const wall = Date.UTC(...dateParts(date), time.hour, time.minute, time.second) + time.millisecond;
  // Transitions are months apart, so the offsets a day either side are the only two that can apply.
  const before = offsetAt(wall - DAY, timeZone);
  const after = offsetAt(wall + DAY, timeZone);
  const candidates = [wall - before, wall - after].filter((candidate) => wallTime(candidate, timeZone) === wall);
  return new Date(candidates.length > 0 ? Math.min(...candidates) : wall - before);
}

export function addDays(date: LocalDate, days: number): LocalDate {
  return new Date(Date.UTC(...dateParts(date)) + days * DAY).toISOString().slice(0, 10);
}

export function daysBetween(from: LocalDate, to: LocalDate): number {
  return Math.round((Date.UTC(...dateParts(to)) - Date.UTC(...dateParts(from))) / DAY);
}

export function weekdayOf(date: LocalDate): (typeof WEEKDAY_NAMES)[number] {
  return WEEKDAY_NAMES[new Date(Date.UTC(...dateParts(date))).getUTCDay()];
}

export function isLocalDate(value: unknown): value is LocalDate {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const [year, month, day] = value.split('-').map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

export function isClockTime(value: unknown): value is string {
  return typeof value === 'string' && /^([01]\d|2[0-3]):[0-5]\d$/.test(value);
}

export function isTimeZone(value: unknown): value is string {
  if (typeof value !== 'string' || value === '') return false;
  try {
    formatterFor(value);
    return true;
  } catch {
    return false;
  }
}

function dateParts(date: LocalDate): [number, number, number] {
  if (!isLocalDate(date)) throw new RangeError(`not a date YYYY-MM-DD: ${date}`);
  const [year, month, day] = date.split('-').map(Number);
  return [year, month - 1, day];
}

function parseClockTime(clockTime: string): Omit<LocalDateTime, 'date'> {
  if (!isClockTime(clockTime)) throw new RangeError(`not a local time HH:MM: ${clockTime}`);
  const [hour, minute] = clockTime.split(':').map(Number);
  return { hour, minute, second: 0, millisecond: 0 };
}

/** Local offset from UTC in milliseconds at an instant (BST is +3,600,000). */
function offsetAt(epochMs: number, timeZone: string): number {
  const wholeSeconds = Math.floor(epochMs / 1000) * 1000;
  return wallTime(wholeSeconds, timeZone) - wholeSeconds;
}

/** The local wall-clock reading of an instant, as if it were UTC, to the millisecond. */
function wallTime(epochMs: number, timeZone: string): number {
  const { date, hour, minute, second } = wallClock(epochMs, timeZone);
  return Date.UTC(...dateParts(date), hour, minute, second) + (((epochMs % 1000) + 1000) % 1000);
}

function wallClock(epochMs: number, timeZone: string): Omit<LocalDateTime, 'millisecond'> {
  const values: Record<string, string> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(epochMs))) values[part.type] = part.value;
  return {
    date: `${values.year}-${values.month}-${values.day}`,
    hour: Number(values.hour),
    minute: Number(values.minute),
    second: Number(values.second),
  };
}

// Building a formatter costs far more than using one, and replays read thousands of instants.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

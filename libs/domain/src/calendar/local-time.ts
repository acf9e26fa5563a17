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
const YEAR_100 = Date.UTC(100, 0, 1);
const YEAR_10000 = Date.UTC(10_000, 0, 1);
const WEEKDAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;

export function toDate(instant: Instant): Date {
  let time: number;
  if (instant instanceof Date) time = instant.getTime();
  else if (instant === lastParsed.text) time = lastParsed.time;
  else {
    time = new Date(instant).getTime();
    if (typeof instant === 'string') lastParsed = { text: instant, time };
  }
  if (Number.isNaN(time)) throw new RangeError(`not an instant: ${String(instant)}`);
  return new Date(time);
}

// Routing reads a decision's instant several times over (due times, school day, meeting, the calendar's reach).
let lastParsed = { text: '', time: Number.NaN };

export function toIsoInstant(instant: Instant): string {
  return toDate(instant).toISOString();
}

/** The local date and clock time of an instant in a time zone. */
export function localDateTimeOf(instant: Instant, timeZone: string): LocalDateTime {
  const date = toDate(instant);
  const { date: localDate, hour, minute, second } = wallClock(date.getTime(), timeZone);
  return { date: localDate, hour, minute, second, millisecond: date.getUTCMilliseconds() };
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
  if (typeof clockTime !== 'string') return new Date(instantOf(date, clockTime, timeZone));
  // Policy times (a school day's start, a meeting's) fall on the same few hundred dates for every referral.
  const key = `${timeZone}\n${date}\n${clockTime}`;
  let instant = instantsAtClockTimes.get(key);
  if (instant === undefined) {
    instant = instantOf(date, parseClockTime(clockTime), timeZone);
    if (instantsAtClockTimes.size > 50_000) instantsAtClockTimes.clear();
    instantsAtClockTimes.set(key, instant);
  }
  return new Date(instant);
}

const instantsAtClockTimes = new Map<string, number>();

function instantOf(date: LocalDate, time: Omit<LocalDateTime, 'date'>, timeZone: string): number {
  const wall = Date.UTC(...dateParts(date), time.hour, time.minute, time.second) + time.millisecond;
  // Transitions are months apart, so the offsets a day either side are the only two that can apply.
  const before = offsetAt(wall - DAY, timeZone);
  const after = offsetAt(wall + DAY, timeZone);
  const candidates = [wall - before, wall - after].filter((candidate) => wallTime(candidate, timeZone) === wall);
  return candidates.length > 0 ? Math.min(...candidates) : wall - before;
}

export function addDays(date: LocalDate, days: number): LocalDate {
  return dateOfDayNumber(dayNumber(date) + days);
}

export function daysBetween(from: LocalDate, to: LocalDate): number {
  return dayNumber(to) - dayNumber(from);
}

export function weekdayOf(date: LocalDate): (typeof WEEKDAY_NAMES)[number] {
  // Day 0 (1970-01-01) was a Thursday.
  return WEEKDAY_NAMES[(((dayNumber(date) + 4) % 7) + 7) % 7];
}

/** Days since 1970-01-01: calendar walks (working days, school days) step through these, not through Dates. */
function dayNumber(date: LocalDate): number {
  const [year, month, day] = dateParts(date);
  return Math.round(Date.UTC(year, month, day) / DAY);
}

const datesByDayNumber = new Map<number, LocalDate>();

function dateOfDayNumber(day: number): LocalDate {
  let date = datesByDayNumber.get(day);
  if (date === undefined) {
    date = new Date(day * DAY).toISOString().slice(0, 10);
    if (datesByDayNumber.size > 50_000) datesByDayNumber.clear();
    datesByDayNumber.set(day, date);
  }
  return date;
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

// Routing and replays read the same few thousand dates over and over; parsing and checking each once is enough.
const parsedDates = new Map<string, [number, number, number]>();

function dateParts(date: LocalDate): [number, number, number] {
  const cached = parsedDates.get(date);
  if (cached) return cached;
  if (!isLocalDate(date)) throw new RangeError(`not a date YYYY-MM-DD: ${date}`);
  const [year, month, day] = date.split('-').map(Number);
  const parts: [number, number, number] = [year, month - 1, day];
  if (parsedDates.size > 50_000) parsedDates.clear();
  parsedDates.set(date, parts);
  return parts;
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
  // Offsets are whole seconds, so reading the clock's parts back gives exactly this sum; the parts are read only
  // outside years 100 to 9999, where they refuse the date as they always have (Date.UTC takes 0-99 as 19xx).
  const wall = epochMs + zoneOffset(epochMs, timeZone);
  if (wall >= YEAR_100 && wall < YEAR_10000) return wall;
  const { date, hour, minute, second } = wallClock(epochMs, timeZone);
  return Date.UTC(...dateParts(date), hour, minute, second) + (((epochMs % 1000) + 1000) % 1000);
}

function wallClock(epochMs: number, timeZone: string): Omit<LocalDateTime, 'millisecond'> {
  const wall = new Date(epochMs + zoneOffset(epochMs, timeZone));
  return { date: dateOnWall(wall), hour: wall.getUTCHours(), minute: wall.getUTCMinutes(), second: wall.getUTCSeconds() };
}

// Writing out the date costs more than reading the clock, and a replay reads the same few thousand days.
const datesOnWall = new Map<number, LocalDate>();

function dateOnWall(wall: Date): LocalDate {
  const day = Math.floor(wall.getTime() / DAY);
  let date = datesOnWall.get(day);
  if (date === undefined) {
    date = `${wall.getUTCFullYear().toString().padStart(4, '0')}-${String(wall.getUTCMonth() + 1).padStart(2, '0')}-${String(wall.getUTCDate()).padStart(2, '0')}`;
    if (datesOnWall.size > 50_000) datesOnWall.clear();
    datesOnWall.set(day, date);
  }
  return date;
}

/**
 * The zone's offset from UTC at an instant, read from Intl once per 15-minute bucket: offsets only change at
 * transitions, which fall on the hour or half-hour, so every instant in a bucket shares its offset. Reading the parts
 * from Intl for every instant was most of the cost of a routing decision (measured in the what-if replay).
 */
const offsetsByZone = new Map<string, Map<number, number>>();
const BUCKET = 15 * 60_000;

function zoneOffset(epochMs: number, timeZone: string): number {
  const bucket = Math.floor(epochMs / BUCKET) * BUCKET;
  let offsets = offsetsByZone.get(timeZone);
  if (!offsets) offsetsByZone.set(timeZone, (offsets = new Map()));
  const cached = offsets.get(bucket);
  if (cached !== undefined) return cached;
  const values: Record<string, string> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(bucket))) values[part.type] = part.value;
  const offset = Date.UTC(Number(values.year), Number(values.month) - 1, Number(values.day), Number(values.hour), Number(values.minute), Number(values.second)) - bucket;
  if (offsets.size > 100_000) offsets.clear();
  offsets.set(bucket, offset);
  return offset;
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

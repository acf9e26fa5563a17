import { addDays, daysBetween, instantAt, localDateOf, type Instant, type LocalDate } from '../calendar/local-time';
import { nextWorkingDay, workingDayOnOrAfter } from '../calendar/working-days';
import type { RoutingPolicy } from '../policy/policy';

export type MaracKind = 'daily' | 'fortnightly';

export interface MaracMeeting {
  /** Deterministic, so every router and every replay names the same meeting. */
  meetingId: string;
  date: LocalDate;
  kind: MaracKind;
  startsAt: string;
}

const FORTNIGHT = 14;

/**
 * The meeting a high-risk case is listed at. With children involved, the daily MARAC on the next working day after
 * the routing date (never the same day: agencies need the day to research the case). Otherwise the first
 * fortnightly date (anchor + 14k) strictly after the routing date, a date on a bank holiday moving to the next
 * working day.
 */
export function nextMaracMeeting(
  { routedAt, hasChildren }: { routedAt: Instant; hasChildren: boolean },
  policy: Pick<RoutingPolicy, 'marac' | 'calendar'>,
): MaracMeeting {
  const { calendar, marac } = policy;
  const routingDate = localDateOf(routedAt, calendar.timeZone);
  if (hasChildren) return meeting('daily', nextWorkingDay(routingDate, calendar), marac.daily.time, policy);
  const { anchorDate, time } = marac.fortnightly;
  // The last scheduled date on or before the routing date: moved by a bank holiday, it may still fall after it.
  let fortnight = Math.floor(daysBetween(anchorDate, routingDate) / FORTNIGHT);
  let date = workingDayOnOrAfter(addDays(anchorDate, fortnight * FORTNIGHT), calendar);
  while (date <= routingDate) {
    fortnight += 1;
    date = workingDayOnOrAfter(addDays(anchorDate, fortnight * FORTNIGHT), calendar);
  }
  return meeting('fortnightly', date, time, policy);
}

function meeting(kind: MaracKind, date: LocalDate, time: string, policy: Pick<RoutingPolicy, 'calendar'>): MaracMeeting {
  return { meetingId: `marac-${kind}-${date}`, date, kind, startsAt: instantAt(date, time, policy.calendar.timeZone).toISOString() };
}

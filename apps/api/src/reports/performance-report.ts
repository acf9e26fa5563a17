import { CLOSE_OUTCOMES, GENDERS, instantAt, PROVISION_IDS, REFERRAL_TYPES, type RoutingPolicy } from '@spoc/domain';
import { RISK_LEVELS, ROUTING_STATUSES, type Interval, type PeriodData, type ReferralCell } from './performance.query';
import { median, nest, percentile, ratio, round, suppressedPaths, SMALL_COUNT_LIMIT, type Figure } from './report-figures';

export interface ReportPeriod {
  /** Local dates in the policy's time zone, inclusive. */
  from: string;
  to: string;
  /** The period as instants: local midnight at the start of `from` to local midnight after `to`. */
  startMs: number;
  endMs: number;
}

/** A period of local dates as the instants it spans: a day with a clock change is 23 or 25 hours long. */
export function reportPeriod(from: string, to: string, timeZone: string): ReportPeriod {
  const dayAfter = new Date(Date.parse(`${to}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return { from, to, startMs: instantAt(from, '00:00', timeZone).getTime(), endMs: instantAt(dayAfter, '00:00', timeZone).getTime() };
}

export interface PerformanceReport {
  period: { from: string; to: string; timeZone: string; days: number };
  generatedAt: string;
  figures: Figure[];
  /** Paths of the figures a shareable copy withholds (see `suppressedPaths`). */
  suppressed: string[];
}

const HOUR = 3_600_000;

/**
 * The partnership's indicators for a period (docs/reports.md says the same in prose). Which date puts a fact in the
 * period, always as a local date in the policy's time zone:
 *
 * - referrals, victims, routes, children and Encompass: the referral's `receivedAt`. A referral's risk level,
 *   routes, status and repeat flag are those of its latest decision (a reassessment changes them);
 * - MARAC: the date of the meeting the case is listed at;
 * - first contact: when the case's first-contact clock started (its routing, or its opening by a transfer or referral-on);
 * - outcomes: the case's `closedAt`;
 * - refuge: the instants each household held or waited for a unit, cut to the period (and to now).
 */
export function buildPerformanceReport(data: PeriodData, period: ReportPeriod, policy: RoutingPolicy, nowMs: number): PerformanceReport {
  const figures: Figure[] = [];
  const add = (figure: Figure) => figures.push(figure);
  const count = (path: string, section: string, label: string, value: number, partOf?: string) => add({ path, section, label, kind: 'count', value, ...(partOf ? { partOf } : {}) });
  const share = (path: string, section: string, label: string, numerator: string, denominator: string) =>
    add({ path, section, label, kind: 'share', value: ratio(valueAt(figures, numerator), valueAt(figures, denominator)), from: [numerator, denominator] });
  const sum = (cells: ReferralCell[]) => cells.reduce((total, cell) => total + cell.n, 0);
  const provisionName = (provision: string) => policy.provisions[provision as keyof typeof policy.provisions]?.name ?? provision;

  // Referrals received in the period: every type, from every agency.
  const referrals = data.referrals;
  count('referrals.total', 'Referrals', 'Referrals received', sum(referrals));
  const agencies = [...new Set(referrals.map((cell) => cell.agency))].sort();
  for (const agency of agencies) count(`referrals.byAgency.${agency}`, 'Referrals by source agency', agency, sum(referrals.filter((cell) => cell.agency === agency)), 'referrals.total');
  for (const type of REFERRAL_TYPES) count(`referrals.byType.${type}`, 'Referrals by type', type, sum(referrals.filter((cell) => cell.referralType === type)), 'referrals.total');
  // Perpetrator referrals have no checklist: "not-assessed".
  for (const level of [...RISK_LEVELS, 'not-assessed']) {
    count(`referrals.byRiskLevel.${level}`, 'Referrals by risk level', level, sum(referrals.filter((cell) => (cell.riskLevel ?? 'not-assessed') === level)), 'referrals.total');
  }
  // A referral can have several routes (IDVA and MASH, say), so these do not add up to the total.
  for (const provision of PROVISION_IDS) count(`referrals.byRoute.${provision}`, 'Referrals by route', provisionName(provision), data.routes[provision] ?? 0);
  for (const status of [...ROUTING_STATUSES, 'not-yet-routed']) {
    count(`referrals.byStatus.${status}`, 'Referrals by routing status', status, sum(referrals.filter((cell) => (cell.status ?? 'not-yet-routed') === status)), 'referrals.total');
  }
  // With children: a child under 18 (the policy's householdChildUnder) living in the household.
  count('referrals.withChildren.count', 'Referrals', 'With children in the household', sum(referrals.filter((cell) => cell.withChildren === 1)));
  share('referrals.withChildren.share', 'Referrals', 'Share with children in the household', 'referrals.withChildren.count', 'referrals.total');

  // Victims: referrals whose subject is the victim (victim and child-to-parent; a perpetrator referral's subject is not).
  const victims = referrals.filter((cell) => cell.referralType !== 'perpetrator');
  count('victims.total', 'Victims', 'Victim referrals', sum(victims));
  // A repeat: the router found the same person referred within the 12 months before (certain matches only).
  count('victims.repeat.count', 'Victims', 'Repeat victims', sum(victims.filter((cell) => cell.repeat === 1)));
  share('victims.repeat.rate', 'Victims', 'Repeat victim rate', 'victims.repeat.count', 'victims.total');
  for (const gender of [...GENDERS, 'not-recorded']) {
    count(`victims.byGender.${gender}`, 'Victims by gender', gender, sum(victims.filter((cell) => (cell.gender ?? 'not-recorded') === gender)), 'victims.total');
  }
  // Of all victim referrals, "not-known" gender included in the denominator.
  share('victims.maleShare', 'Victims', 'Share of male victims', 'victims.byGender.male', 'victims.total');

  // MARAC: cases listed at meetings held in the period (as the meeting lists stand after reassessments).
  const meetings = data.maracMeetings;
  const capacity = policy.marac.capacityPerMeeting;
  add({ path: 'marac.meetings', section: 'MARAC', label: 'Meetings with cases listed', kind: 'tally', value: meetings.length });
  count('marac.cases', 'MARAC', 'Cases listed', meetings.reduce((total, meeting) => total + meeting.listed, 0));
  count('marac.repeatCases', 'MARAC', 'Repeat MARAC cases', meetings.reduce((total, meeting) => total + meeting.repeat, 0));
  share('marac.repeatRate', 'MARAC', 'Repeat MARAC rate', 'marac.repeatCases', 'marac.cases');
  add({ path: 'marac.meetingsOverCapacity', section: 'MARAC', label: `Meetings over capacity (more than ${capacity} cases)`, kind: 'tally', value: meetings.filter((meeting) => meeting.listed > capacity).length });
  add({ path: 'marac.capacityPerMeeting', section: 'MARAC', label: 'Capacity per meeting', kind: 'tally', value: capacity });

  // Operation Encompass: notifications of the period's referrals; on time means sent strictly before its dueBy.
  count('encompass.notifications', 'Operation Encompass', 'Notifications to schools', data.encompass.notifications);
  count('encompass.sent', 'Operation Encompass', 'Sent', data.encompass.sent);
  count('encompass.sentOnTime', 'Operation Encompass', 'Sent before the school day started', data.encompass.sentOnTime);
  share('encompass.onTimeShare', 'Operation Encompass', 'Share sent on time', 'encompass.sentOnTime', 'encompass.notifications');

  // First contact, per provision, for cases whose clock started in the period. Hours are elapsed clock hours from
  // the clock's start to the first contact attempt of any outcome. Overdue: due by now, and no attempt by its dueBy
  // while the case was open (a case declined, transferred or superseded before its dueBy is not overdue).
  for (const provision of PROVISION_IDS) {
    const base = `firstContact.${provision}`;
    const section = `First contact: ${provisionName(provision)}`;
    const { cases, overdue, delaysMs } = data.firstContact[provision];
    const hours = delaysMs.map((ms) => ms / HOUR);
    count(`${base}.cases`, section, 'Cases whose first-contact clock started', cases);
    count(`${base}.contacted`, section, 'With a contact attempt', hours.length);
    const hoursFigure = (key: string, label: string, value: number | null) => add({ path: `${base}.${key}`, section, label, kind: 'hours', value: value === null ? null : round(value, 1), from: [`${base}.contacted`] });
    hoursFigure('medianHours', 'Median hours to first attempt', median(hours));
    hoursFigure('p90Hours', '90th percentile hours to first attempt', percentile(hours, 90));
    count(`${base}.overdue`, section, 'Overdue (no attempt by the due time)', overdue);
  }

  // Outcomes of the cases closed in the period, per provision.
  for (const provision of PROVISION_IDS) {
    const base = `outcomes.${provision}`;
    const section = `Outcomes at closure: ${provisionName(provision)}`;
    const closed = (outcome: string) => data.outcomes[`${provision}:${outcome}`] ?? 0;
    count(`${base}.closed`, section, 'Cases closed', CLOSE_OUTCOMES.reduce((total, outcome) => total + closed(outcome), 0));
    for (const outcome of CLOSE_OUTCOMES) count(`${base}.${outcome}`, section, outcome, closed(outcome), `${base}.closed`);
  }

  refugeFigures(add, data, period, policy, nowMs);

  const timeZone = policy.calendar.timeZone;
  return {
    period: { from: period.from, to: period.to, timeZone, days: Math.round((period.endMs - period.startMs) / 86_400_000) },
    generatedAt: new Date(nowMs).toISOString(),
    figures,
    suppressed: suppressedPaths(figures),
  };
}

/**
 * Refuge units over the period (cut at now: no one occupies the future). A household holds a unit from its
 * placement to its release, and waits from its request to its placement or withdrawal. Averages are unit-time over
 * the period's length; peaks are the most held (or waiting) at any one instant in it.
 */
function refugeFigures(add: (figure: Figure) => void, data: PeriodData, period: ReportPeriod, policy: RoutingPolicy, nowMs: number): void {
  const start = period.startMs;
  const end = Math.min(period.endMs, nowMs);
  const stays = clip(data.refugeStays, start, end);
  const waits = clip(data.refugeWaits, start, end);
  const capacity = policy.provisions.refuge.capacityUnits ?? 0;
  const section = 'Refuge';
  const average = (intervals: Array<[number, number]>) => (end > start ? round(intervals.reduce((total, [a, b]) => total + (b - a), 0) / (end - start), 2) : null);
  add({ path: 'refuge.capacityUnits', section, label: 'Units', kind: 'tally', value: capacity });
  add({ path: 'refuge.households', section, label: 'Households in refuge at some time in the period', kind: 'count', value: stays.length });
  add({ path: 'refuge.placementsStarted', section, label: 'Placements that started in the period', kind: 'count', value: data.refugeStays.filter((stay) => stay.startMs >= start && stay.startMs < end).length });
  const averageOccupied = average(stays);
  add({ path: 'refuge.averageOccupiedUnits', section, label: 'Average units occupied', kind: 'units', value: averageOccupied, from: ['refuge.households'] });
  add({ path: 'refuge.occupancyRate', section, label: 'Occupancy', kind: 'share', value: averageOccupied === null || capacity === 0 ? null : round(averageOccupied / capacity, 4), from: ['refuge.households'] });
  add({ path: 'refuge.peakOccupiedUnits', section, label: 'Most units occupied at once', kind: 'units', value: peak(stays), from: ['refuge.households'] });
  add({ path: 'refuge.householdsWaiting', section, label: 'Households on the waitlist at some time in the period', kind: 'count', value: waits.length });
  add({ path: 'refuge.waitlisted', section, label: 'Requests that joined the waitlist in the period', kind: 'count', value: data.refugeWaits.filter((wait) => wait.startMs >= start && wait.startMs < end).length });
  add({ path: 'refuge.averageWaitlist', section, label: 'Average waitlist length', kind: 'units', value: average(waits), from: ['refuge.householdsWaiting'] });
  add({ path: 'refuge.peakWaitlist', section, label: 'Longest waitlist', kind: 'units', value: peak(waits), from: ['refuge.householdsWaiting'] });
}

function clip(intervals: Interval[], start: number, end: number): Array<[number, number]> {
  return intervals
    .map(({ startMs, endMs }): [number, number] => [Math.max(startMs, start), Math.min(endMs ?? end, end)])
    .filter(([a, b]) => b > a);
}

/** Most intervals open at once; an interval ending at the instant another starts (a release placing the next) does not overlap it. */
function peak(intervals: Array<[number, number]>): number {
  const edges = intervals.flatMap(([a, b]): Array<[number, number]> => [[a, 1], [b, -1]]).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let open = 0;
  let most = 0;
  for (const [, step] of edges) most = Math.max(most, (open += step));
  return most;
}

function valueAt(figures: Figure[], path: string): number {
  return figures.find((figure) => figure.path === path)?.value ?? 0;
}

/** The JSON answer: real numbers, with the paths a shareable copy withholds; with `suppress`, that copy itself. */
export function reportJson(report: PerformanceReport, suppress: boolean) {
  return {
    period: report.period,
    generatedAt: report.generatedAt,
    ...nest(report.figures, suppress ? new Set(report.suppressed) : null),
    suppressed: report.suppressed,
    suppression: {
      applied: suppress,
      rule: `counts from 1 to ${SMALL_COUNT_LIMIT - 1} are shown as "<${SMALL_COUNT_LIMIT}", with a second cell of a breakdown where one alone would be found by subtraction, and shares, averages and percentiles worked out from them as "suppressed"`,
    },
  };
}

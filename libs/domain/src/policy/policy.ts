import { isClockTime, isLocalDate, isTimeZone, weekdayOf } from '../calendar/local-time';
import { REFERRAL_TYPES } from '../referrals/referral.types';
import { notForReferralType } from '../routing/referral-type-rules';
import { notForAge, worksWithoutConsent } from '../routing/victim-rules';

/**
 * The routing policy is data: a versioned document in policies/, validated when loaded. Everything a rule compares
 * against (thresholds, age bands, service levels, schedules, calendars) lives here, so a new version can change it
 * without a code change and an auditor can see which version decided.
 */
export interface RiskThresholds {
  /** This many `yes` answers or more is "visible high risk". */
  highDashScore: number;
  /** This many or more (and below high) is medium. */
  mediumDashScore: number;
  /** This many police call-outs for domestic abuse in 12 months is potential escalation: high. */
  escalationPoliceCallouts: number;
}

export const PROVISION_IDS = ['idva', 'outreach', 'refuge', 'victim-support', 'up2u', 'ypva', 'whos-in-charge', 'mash'] as const;
export type ProvisionId = (typeof PROVISION_IDS)[number];

export interface Provision {
  name: string;
  /** Only where the policy knows a hard capacity (refuge units); elsewhere load is reported, never refused. */
  capacityUnits?: number;
  /** First contact attempt due this many working days after routing. */
  firstContactWorkingDays: number;
  /** Where a case this provision declines is referred on; absent: it goes back to the referrer with the reason. */
  declineFallback?: ProvisionId;
  /** What of the referral this provision's caseworkers see on a case, beyond the subject and safe contact. */
  caseView: CaseViewPart[];
}

/**
 * Parts of a referral a case can show. How to reach the subject (name, phone, email, safe-contact instructions,
 * language and whether an interpreter is needed) is always shown, because contact must be made safely; the rest
 * only where the provision's work needs it. `subjectDetails` is the rest of the subject: date of birth, gender,
 * postcode, disability and the police and NHS identifiers.
 */
export const CASE_VIEW_PARTS = ['subjectDetails', 'referrer', 'otherParty', 'children', 'incident', 'riskSummary', 'riskAnswers', 'needs', 'consent'] as const;
export type CaseViewPart = (typeof CASE_VIEW_PARTS)[number];

/** Ages in whole years; every band is inclusive. The young-person and adult bands overlap on purpose (16–17 get both). */
export interface AgeBands {
  childUnder: number;
  youngPersonFrom: number;
  youngPersonTo: number;
  adultFrom: number;
  /** A child for children-in-household and for the MARAC's "children involved". */
  householdChildUnder: number;
  childToParentChildFrom: number;
  childToParentChildTo: number;
}

export interface EncompassPolicy {
  schoolAgeFrom: number;
  schoolAgeTo: number;
  /** Local clock time "HH:MM" in the calendar's time zone. */
  schoolDayStart: string;
}

export const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface MaracPolicy {
  daily: { time: string };
  fortnightly: { weekday: Weekday; time: string; anchorDate: string };
  capacityPerMeeting: number;
  repeatWindowMonths: number;
}

export interface SchoolHoliday {
  name: string;
  /** Inclusive local dates. */
  from: string;
  to: string;
}

export interface Calendar {
  timeZone: string;
  /** Where a working-day clock starts when routing happens on a day that is not a working day. */
  workingDayStart: string;
  bankHolidays: string[];
  schoolHolidays: SchoolHoliday[];
  /** The last date the lists above are known to be complete for; routing after it is flagged. */
  coversThrough: string;
}

export interface RoutingPolicy {
  id: string;
  effectiveFrom: string;
  riskThresholds: RiskThresholds;
  provisions: Record<ProvisionId, Provision>;
  ageBands: AgeBands;
  encompass: EncompassPolicy;
  marac: MaracPolicy;
  repeatVictimisation: { windowMonths: number };
  calendar: Calendar;
}

export class InvalidPolicyError extends Error {
  readonly code = 'invalid-policy';
  constructor(readonly problems: string[]) {
    super(`the routing policy is invalid: ${problems.join('; ')}`);
    this.name = 'InvalidPolicyError';
  }
}

/** Checks a parsed policy document; every problem is listed so a bad policy is fixed in one go. */
export function parsePolicy(document: unknown): RoutingPolicy {
  const problems: string[] = [];
  const doc = (document ?? {}) as Record<string, unknown>;
  if (typeof doc.id !== 'string' || doc.id.length === 0) problems.push('id must be a non-empty string');
  if (typeof doc.effectiveFrom !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(doc.effectiveFrom)) {
    problems.push('effectiveFrom must be a date YYYY-MM-DD');
  }
  const thresholds = (doc.riskThresholds ?? {}) as Record<string, unknown>;
  for (const key of ['highDashScore', 'mediumDashScore', 'escalationPoliceCallouts']) {
    const value = thresholds[key];
    if (!Number.isInteger(value) || (value as number) < 0) problems.push(`riskThresholds.${key} must be a whole number >= 0`);
  }
  if (
    Number.isInteger(thresholds.highDashScore) &&
    Number.isInteger(thresholds.mediumDashScore) &&
    (thresholds.mediumDashScore as number) > (thresholds.highDashScore as number)
  ) {
    problems.push('riskThresholds.mediumDashScore must not exceed highDashScore');
  }
  if ((thresholds.highDashScore as number) > 24) problems.push('riskThresholds.highDashScore cannot exceed the 24 questions');
  const read = reader(problems);
  if (isSection(doc.riskThresholds)) read.knownFields(thresholds, 'riskThresholds', ['highDashScore', 'mediumDashScore', 'escalationPoliceCallouts']);
  read.knownFields(doc, '', ['id', 'effectiveFrom', 'riskThresholds', 'provisions', 'ageBands', 'encompass', 'marac', 'repeatVictimisation', 'calendar']);
  const provisions = read.section(doc, 'provisions', (section) => readProvisions(read, section));
  const ageBands = read.section(doc, 'ageBands', (section) => readAgeBands(read, section));
  const encompass = read.section(doc, 'encompass', (section) => readEncompass(read, section));
  const marac = read.section(doc, 'marac', (section) => readMarac(read, section));
  const repeatVictimisation = read.section(doc, 'repeatVictimisation', (section) => ({
    windowMonths: read.wholeNumber(section, 'repeatVictimisation.windowMonths', 1),
  }));
  const calendar = read.section(doc, 'calendar', (section) => readCalendar(read, section));
  if (provisions && ageBands) for (const problem of fallbackProblems(provisions, ageBands)) problems.push(problem);
  if (problems.length > 0) throw new InvalidPolicyError(problems);
  return {
    id: doc.id as string,
    effectiveFrom: doc.effectiveFrom as string,
    riskThresholds: {
      highDashScore: thresholds.highDashScore as number,
      mediumDashScore: thresholds.mediumDashScore as number,
      escalationPoliceCallouts: thresholds.escalationPoliceCallouts as number,
    },
    provisions: provisions!,
    ageBands: ageBands!,
    encompass: encompass!,
    marac: marac!,
    repeatVictimisation: repeatVictimisation!,
    calendar: calendar!,
  };
}

type Section = Record<string, unknown>;
type Reader = ReturnType<typeof reader>;

function readProvisions(read: Reader, section: Section): Record<ProvisionId, Provision> {
  read.knownFields(section, 'provisions', PROVISION_IDS, 'is not a provision in the routing policy');
  const provisions = {} as Record<ProvisionId, Provision>;
  for (const id of PROVISION_IDS) {
    const path = `provisions.${id}`;
    read.section(section, id, (entry) => {
      read.knownFields(entry, path, ['name', 'capacityUnits', 'firstContactWorkingDays', 'declineFallback', 'caseView']);
      const caseView = read.list(entry, `${path}.caseView`, (value, itemPath) => {
        if (!CASE_VIEW_PARTS.includes(value as CaseViewPart)) read.problem(`${itemPath} must be one of: ${CASE_VIEW_PARTS.join(', ')}`);
        return value as CaseViewPart;
      });
      const provision: Provision = { name: read.text(entry, `${path}.name`), firstContactWorkingDays: read.wholeNumber(entry, `${path}.firstContactWorkingDays`), caseView };
      if (entry.capacityUnits !== undefined) provision.capacityUnits = read.wholeNumber(entry, `${path}.capacityUnits`, 1);
      if (entry.declineFallback !== undefined) {
        const fallback = entry.declineFallback as ProvisionId;
        if (!PROVISION_IDS.includes(fallback) || fallback === id) read.problem(`${path}.declineFallback must be another provision of the policy`);
        provision.declineFallback = fallback;
      }
      provisions[id] = provision;
    }, path);
  }
  return provisions;
}

/**
 * A declined case is referred on to its provision's fallback by the router, with no caseworker to check it: the
 * fallback must take everyone the provision takes, by the rules a transfer keeps to (referral type, age, working
 * without consent), or a declined 14-year-old could land at an adults' service.
 */
function fallbackProblems(provisions: Record<ProvisionId, Provision>, ageBands: AgeBands): string[] {
  const problems: string[] = [];
  for (const from of PROVISION_IDS) {
    const to = provisions[from]?.declineFallback;
    if (!to || !PROVISION_IDS.includes(to) || to === from) continue; // said already: not another provision
    const said = (why: string) => problems.push(`provisions.${from}.declineFallback: ${to} does not take everyone ${from} does (${why})`);
    const type = REFERRAL_TYPES.find((referralType) => notForReferralType(referralType, from) === null && notForReferralType(referralType, to) !== null);
    if (type) said(`${type} referrals`);
    const ages = { otherParty: ageBands.childToParentChildFrom };
    const age = Array.from({ length: 121 }, (_, years) => years).find((years) => notForAge(from, { ...ages, subject: years }, { ageBands }) === null && notForAge(to, { ...ages, subject: years }, { ageBands }) !== null);
    if (age !== undefined) said(`aged ${age}`);
    if (worksWithoutConsent(from, 'high') && !worksWithoutConsent(to, 'high')) said('people who have not consented');
  }
  return problems;
}

function readAgeBands(read: Reader, section: Section): AgeBands {
  const keys = ['childUnder', 'youngPersonFrom', 'youngPersonTo', 'adultFrom', 'householdChildUnder', 'childToParentChildFrom', 'childToParentChildTo'] as const;
  read.knownFields(section, 'ageBands', keys);
  const bands = Object.fromEntries(keys.map((key) => [key, read.wholeNumber(section, `ageBands.${key}`)])) as unknown as AgeBands;
  read.ordered(bands.youngPersonFrom, bands.youngPersonTo, 'ageBands.youngPersonFrom must not exceed youngPersonTo');
  read.ordered(bands.childToParentChildFrom, bands.childToParentChildTo, 'ageBands.childToParentChildFrom must not exceed childToParentChildTo');
  // A gap between bands would leave some victims with no route at all.
  read.ordered(bands.youngPersonFrom, bands.childUnder, 'ageBands.youngPersonFrom must not exceed childUnder (no age may fall between the bands)');
  read.ordered(bands.adultFrom, bands.youngPersonTo + 1, 'ageBands.adultFrom must not exceed youngPersonTo + 1 (no age may fall between the bands)');
  return bands;
}

function readEncompass(read: Reader, section: Section): EncompassPolicy {
  read.knownFields(section, 'encompass', ['schoolAgeFrom', 'schoolAgeTo', 'schoolDayStart']);
  const encompass = {
    schoolAgeFrom: read.wholeNumber(section, 'encompass.schoolAgeFrom'),
    schoolAgeTo: read.wholeNumber(section, 'encompass.schoolAgeTo'),
    schoolDayStart: read.clockTime(section, 'encompass.schoolDayStart'),
  };
  read.ordered(encompass.schoolAgeFrom, encompass.schoolAgeTo, 'encompass.schoolAgeFrom must not exceed schoolAgeTo');
  return encompass;
}

function readMarac(read: Reader, section: Section): MaracPolicy {
  read.knownFields(section, 'marac', ['daily', 'fortnightly', 'capacityPerMeeting', 'repeatWindowMonths']);
  const daily = read.section(section, 'daily', (entry) => {
    read.knownFields(entry, 'marac.daily', ['time']);
    return { time: read.clockTime(entry, 'marac.daily.time') };
  }, 'marac.daily');
  const fortnightly = read.section(section, 'fortnightly', (entry) => {
    read.knownFields(entry, 'marac.fortnightly', ['weekday', 'time', 'anchorDate']);
    const weekday = entry.weekday as Weekday;
    if (!WEEKDAYS.includes(weekday)) read.problem(`marac.fortnightly.weekday must be one of ${WEEKDAYS.join(', ')}`);
    const anchorDate = read.date(entry, 'marac.fortnightly.anchorDate');
    if (WEEKDAYS.includes(weekday) && isLocalDate(anchorDate) && weekdayOf(anchorDate) !== weekday) {
      read.problem(`marac.fortnightly.anchorDate must fall on a ${weekday}`);
    }
    return { weekday, time: read.clockTime(entry, 'marac.fortnightly.time'), anchorDate };
  }, 'marac.fortnightly');
  return {
    daily: daily!,
    fortnightly: fortnightly!,
    capacityPerMeeting: read.wholeNumber(section, 'marac.capacityPerMeeting', 1),
    repeatWindowMonths: read.wholeNumber(section, 'marac.repeatWindowMonths', 1),
  };
}

function readCalendar(read: Reader, section: Section): Calendar {
  read.knownFields(section, 'calendar', ['timeZone', 'workingDayStart', 'bankHolidays', 'schoolHolidays', 'coversThrough']);
  const timeZone = read.text(section, 'calendar.timeZone');
  if (timeZone !== '' && !isTimeZone(timeZone)) read.problem('calendar.timeZone must be an IANA time zone such as Europe/London');
  const bankHolidays = read.list(section, 'calendar.bankHolidays', (value, path) => {
    if (!isLocalDate(value)) read.problem(`${path} must be a date YYYY-MM-DD`);
    return value as string;
  });
  const duplicates = bankHolidays.filter((day, index) => bankHolidays.indexOf(day) !== index);
  for (const day of new Set(duplicates)) read.problem(`calendar.bankHolidays lists ${day} more than once`);
  const schoolHolidays = read.list(section, 'calendar.schoolHolidays', (value, path) => {
    if (!isSection(value)) {
      read.problem(`${path} must be an object`);
      return { name: '', from: '', to: '' };
    }
    read.knownFields(value, path, ['name', 'from', 'to']);
    const holiday = { name: read.text(value, `${path}.name`), from: read.date(value, `${path}.from`), to: read.date(value, `${path}.to`) };
    if (isLocalDate(holiday.from) && isLocalDate(holiday.to) && holiday.from > holiday.to) read.problem(`${path}.from must not be after to`);
    return holiday;
  });
  return {
    timeZone,
    workingDayStart: read.clockTime(section, 'calendar.workingDayStart'),
    bankHolidays,
    schoolHolidays,
    coversThrough: read.date(section, 'calendar.coversThrough'),
  };
}

/**
 * Field readers that record a problem and return a placeholder, so validation carries on and lists everything;
 * the placeholders never leave parsePolicy because it throws when there is any problem.
 */
function reader(problems: string[]) {
  const problem = (text: string) => problems.push(text);
  return {
    problem,
    section<T>(parent: Section, key: string, readSection: (section: Section) => T, path = key): T | null {
      const value = parent[key];
      if (!isSection(value)) {
        problem(value === undefined ? `${path} is missing` : `${path} must be an object`);
        return null;
      }
      return readSection(value);
    },
    knownFields(section: Section, path: string, allowed: readonly string[], complaint = 'is not a known field'): void {
      // A misspelt optional field would otherwise be dropped without a word; `description` is for people.
      for (const key of Object.keys(section)) {
        if (key !== 'description' && !allowed.includes(key)) problem(`${path ? `${path}.` : ''}${key} ${complaint}`);
      }
    },
    wholeNumber(section: Section, path: string, min = 0): number {
      const value = section[lastKey(path)];
      if (!Number.isInteger(value) || (value as number) < min) problem(`${path} must be a whole number >= ${min}`);
      return value as number;
    },
    text(section: Section, path: string): string {
      const value = section[lastKey(path)];
      if (typeof value !== 'string' || value.trim() === '') {
        problem(`${path} must be a non-empty string`);
        return '';
      }
      return value;
    },
    clockTime(section: Section, path: string): string {
      const value = section[lastKey(path)];
      if (!isClockTime(value)) problem(`${path} must be a local time HH:MM`);
      return value as string;
    },
    date(section: Section, path: string): string {
      const value = section[lastKey(path)];
      if (!isLocalDate(value)) problem(`${path} must be a date YYYY-MM-DD`);
      return value as string;
    },
    list<T>(section: Section, path: string, readItem: (value: unknown, itemPath: string) => T): T[] {
      const value = section[lastKey(path)];
      if (!Array.isArray(value)) {
        problem(`${path} must be a list`);
        return [];
      }
      return value.map((item, index) => readItem(item, `${path}[${index}]`));
    },
    ordered(low: number, high: number, complaint: string): void {
      if (Number.isInteger(low) && Number.isInteger(high) && low > high) problem(complaint);
    },
  };
}

function lastKey(path: string): string {
  return path.slice(path.lastIndexOf('.') + 1);
}

function isSection(value: unknown): value is Section {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

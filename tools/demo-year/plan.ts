import { instantAt, isWorkingDay, localDateOf, type RoutingPolicy } from '@spoc/domain';
import type { ReferralBody } from '../../apps/api/src/referrals/referral.fixtures';
import { Prng } from './prng';

/**
 * The city's "current demand" (../shared/seeds/000_…, the strategy) that shapes the synthetic years. Where the
 * strategy gives no figure the value is our estimate, marked so.
 */
export const DEMAND = {
  // "Referrals to specialist domestic abuse provision have increased from 668 in 2010/11 to 1306 in 2016/17".
  referralsPerYear: 1306,
  // "...a gradual increase in the proportion of males as victims ... to 27% in 2016/17".
  maleVictimShare: 0.27,
  // "444 [victims reported more than one crime] in 2016/17" of 5,564 incidents: about 8% are repeats.
  repeatShare: 444 / 5564,
  // Police most (estimate); GPs "45 in the second year" after IRIS ended; the others are estimates.
  agencies: { 'hampshire-police': 0.68, 'gp-practices': 45 / 1306, schools: 0.04, housing: 0.07, 'substance-misuse': 0.055, mash: 0.06, 'self-referral': 0.055 },
  // Estimate: SafeLives' national picture (high 15-25%, medium about 30%).
  riskLevels: { high: 0.2, medium: 0.3, standard: 0.5 },
  // Estimates: Up2U (perpetrators) and Who's in Charge? (three groups a year) are small services.
  referralTypes: { victim: 0.93, perpetrator: 0.045, 'child-to-parent': 0.025 },
  // Estimate: about half of victims referred live with children (SafeLives: 62% of IDVA clients have children).
  householdsWithChildren: 0.5,
  // Estimate, sized so 16 refuge units are nearly full with a short waitlist.
  safeAccommodation: 0.05,
  consent: 0.88,
  // Estimate: people referred again after more than 12 months, who are not repeats by the policy's window.
  returnAfterWindow: 0.015,
} as const;

export interface DemoOptions {
  seed: number;
  /** May be a fraction (0.25 is about three months). */
  years: number;
  /** Multiplies the yearly volume (1 is about 1,300 referrals a year). */
  scale: number;
  /** First local date of the period. */
  from: string;
}

type Level = 'high' | 'medium' | 'standard';

interface Person {
  key: number;
  firstName: string;
  lastName: string;
  dateOfBirth: string;
  gender: 'female' | 'male' | 'non-binary';
  postcode: string;
  /** The person causing harm; a re-referral usually names the same one. */
  otherParty: { firstName: string; lastName: string; dateOfBirth: string; gender: 'female' | 'male'; relationship: string };
  children: Array<{ firstName: string; dateOfBirth: string; livesInHousehold: boolean; presentAtIncident: boolean; school: string | null }>;
  referrals: Array<{ at: number; listedAtMarac: boolean; otherPartyKey: string }>;
}

export interface PlannedReferral {
  n: number;
  at: number;
  agency: string;
  body: ReferralBody;
  /** What the service should make of it, worked out here from the policy's rules, to check the service against. */
  expected: { level: Level | null; repeat: boolean; repeatMarac: boolean; withChildren: boolean; personKey: number };
}

const DAY = 86_400_000;
const FEMALE = ['Amelia', 'Sophie', 'Emily', 'Jessica', 'Chloe', 'Hannah', 'Lauren', 'Rebecca', 'Charlotte', 'Megan', 'Laura', 'Gemma', 'Kelly', 'Amy', 'Nicola', 'Sarah', 'Zara', 'Priya', 'Aisha', 'Fatima', 'Joanne', 'Lisa', 'Donna', 'Claire', 'Natalie', 'Stacey', 'Leanne', 'Kirsty', 'Shannon', 'Jade'];
const MALE = ['James', 'Oliver', 'Jack', 'Thomas', 'Daniel', 'Ryan', 'Liam', 'Connor', 'Adam', 'Lewis', 'Jordan', 'Ben', 'Matthew', 'Craig', 'Dean', 'Lee', 'Mark', 'Paul', 'Scott', 'Wayne', 'Arjun', 'Mohammed', 'Tomasz', 'Kieran', 'Aaron'];
const SURNAMES = ['Smith', 'Jones', 'Williams', 'Taylor', 'Brown', 'Davies', 'Evans', 'Wilson', 'Thomas', 'Johnson', 'Roberts', 'Robinson', 'Thompson', 'Wright', 'Walker', 'White', 'Edwards', 'Hughes', 'Green', 'Hall', 'Lewis', 'Harris', 'Clarke', 'Patel', 'Jackson', 'Wood', 'Turner', 'Martin', 'Cooper', 'Hill', 'Ward', 'Morris', 'Moore', 'Clark', 'Lee', 'King', 'Baker', 'Harrison', 'Morgan', 'Allen', 'James', 'Scott', 'Phillips', 'Watson', 'Davis', 'Parker', 'Price', 'Bennett', 'Young', 'Griffiths', 'Mitchell', 'Kelly', 'Cook', 'Carter', 'Richardson', 'Bailey', 'Collins', 'Bell', 'Shaw', 'Murphy', 'Miller', 'Cox', 'Richards', 'Khan', 'Marshall', 'Anderson', 'Simpson', 'Ellis', 'Adams', 'Singh', 'Begum', 'Wilkinson', 'Foster', 'Chapman', 'Powell', 'Webb', 'Rogers', 'Gray', 'Mason', 'Ali', 'Hunt', 'Hussain', 'Campbell', 'Matthews', 'Owen', 'Palmer', 'Holmes', 'Mills', 'Barnes', 'Knight', 'Lloyd', 'Butler', 'Russell', 'Barker', 'Fisher', 'Stevens', 'Jenkins', 'Murray', 'Dixon', 'Harvey'];
const SCHOOLS = ['Craneswater Junior School', 'Meon Infant School', 'Copnor Primary School', 'Milton Park Primary School', 'Arundel Court Primary Academy', 'Flying Bull Academy', 'Moorings Way Infant School', 'Cottage Grove Primary School', 'Priory School', 'Trafalgar School', "St Edmund's Catholic School", 'Admiral Lord Nelson School', 'Mayfield School', 'The Portsmouth Academy', 'Springfield School', 'Charter Academy'];
const RELATIONSHIPS = { 'intimate-partner': 0.55, 'ex-intimate-partner': 0.3, 'family-member': 0.15 } as const;

/**
 * The referrals of the period, in time order: arrivals by day (a little more around Christmas), police referrals
 * mostly in the evening and at night, the other agencies in office hours. Everything comes from the seeded
 * generator, so the same options give the same referrals.
 */
export function planReferrals(options: DemoOptions, policy: RoutingPolicy): { referrals: PlannedReferral[]; to: string } {
  const random = new Prng(options.seed);
  const timeZone = policy.calendar.timeZone;
  const to = periodEnd(options.from, options.years);
  const persons: Person[] = [];
  const usedIdentities = new Set<string>();
  const referrals: PlannedReferral[] = [];
  const perDay = (DEMAND.referralsPerYear * options.scale) / 365.25;

  const identity = (lastName: string, dateOfBirth: string) => `${lastName.toLowerCase()}|${dateOfBirth}`;
  // Every person gets a last name and date of birth no one else has, so the router's matching finds exactly the
  // repeats planned here and no accidental ones.
  const uniqueBirth = (lastName: string, fromYear: number, toYear: number) => {
    for (;;) {
      const date = `${random.int(fromYear, toYear)}-${pad(random.int(1, 12))}-${pad(random.int(1, 28))}`;
      if (!usedIdentities.has(identity(lastName, date))) {
        usedIdentities.add(identity(lastName, date));
        return date;
      }
    }
  };

  const newOtherParty = (victimGender: string, relationship: string, victimBirthYear: number, at: number): Person['otherParty'] => {
    const gender = victimGender === 'male' ? (random.chance(0.7) ? 'female' : 'male') : random.chance(0.93) ? 'male' : 'female';
    const lastName = random.pick(SURNAMES);
    // Someone aged 16 or more: the statutory definition's floor.
    const born = Math.min(new Date(at).getUTCFullYear() - 17, relationship === 'family-member' ? victimBirthYear + random.int(-30, 25) : victimBirthYear + random.int(-6, 4));
    return { firstName: random.pick(gender === 'male' ? MALE : FEMALE), lastName, dateOfBirth: uniqueBirth(lastName, born, born), gender, relationship };
  };

  // In a child-to-parent referral the other party is the child (Who's in Charge? is for children aged 8-18).
  const childOtherParty = (lastName: string, born: number): Person['otherParty'] => {
    const gender = random.chance(0.7) ? 'male' : 'female';
    return { firstName: random.pick(gender === 'male' ? MALE : FEMALE), lastName, dateOfBirth: uniqueBirth(lastName, born, born), gender, relationship: 'child' };
  };

  const newPerson = (at: number, childToParent: boolean): Person => {
    const gender = random.next() < DEMAND.maleVictimShare ? 'male' : random.chance(0.01) ? 'non-binary' : 'female';
    const thisYear = new Date(at).getUTCFullYear();
    // A few young people aged 13-15 (YPVA only); 16-17-year-olds are among the adults' ages.
    const ageBand = childToParent ? random.int(35, 55) : random.chance(0.01) ? random.int(13, 15) : adultAge(random);
    const birthYear = thisYear - ageBand;
    const lastName = random.pick(SURNAMES);
    const relationship = childToParent ? 'child' : random.weighted(RELATIONSHIPS);
    const person: Person = {
      key: persons.length + 1,
      firstName: random.pick(gender === 'male' ? MALE : FEMALE),
      lastName,
      dateOfBirth: uniqueBirth(lastName, birthYear, birthYear),
      gender,
      postcode: `PO${random.int(1, 6)} ${random.int(0, 9)}${String.fromCharCode(65 + random.int(0, 25))}${String.fromCharCode(65 + random.int(0, 25))}`,
      otherParty: childToParent
        ? childOtherParty(lastName, thisYear - random.int(12, 17))
        : newOtherParty(gender, relationship, birthYear, at),
      children: [],
      referrals: [],
    };
    const ageNow = thisYear - birthYear;
    if (childToParent || (ageNow >= 19 && ageNow <= 55 && random.chance(DEMAND.householdsWithChildren * 1.15))) {
      const count = childToParent ? random.int(0, 1) : Number(random.weighted({ 1: 0.45, 2: 0.35, 3: 0.2 }));
      for (let index = 0; index < count; index += 1) {
        const age = random.int(0, Math.min(17, ageNow - 17));
        const childBorn = new Date(at - age * 365.25 * DAY - random.int(0, 300) * DAY).toISOString().slice(0, 10);
        person.children.push({
          firstName: random.pick(random.chance(0.5) ? FEMALE : MALE),
          dateOfBirth: childBorn,
          livesInHousehold: random.chance(0.9),
          presentAtIncident: random.chance(0.3),
          school: age >= 4 && random.chance(0.9) ? random.pick(SCHOOLS) : null,
        });
      }
    }
    persons.push(person);
    return person;
  };

  const days = Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${options.from}T00:00:00Z`)) / DAY) + 1;
  const lastDay = to;
  const arrivals: Array<{ agency: string; at: number }> = [];
  for (let offset = 0; offset < days; offset += 1) {
    const date = new Date(Date.parse(`${options.from}T00:00:00Z`) + offset * DAY).toISOString().slice(0, 10);
    const dayOfYear = Math.round((Date.parse(`${date}T00:00:00Z`) - Date.UTC(Number(date.slice(0, 4)), 0, 1)) / DAY);
    // Estimate: about 10% more around Christmas and New Year than in midsummer.
    const seasonal = 1 + 0.1 * Math.cos((2 * Math.PI * (dayOfYear - 358)) / 365.25);
    for (let count = random.poisson(perDay * seasonal); count > 0; count -= 1) {
      const agency = random.weighted(DEMAND.agencies) as string;
      // Offices are shut at weekends and on bank holidays (the police and people themselves are not): their
      // referrals come on the next working day, in office hours.
      const office = agency !== 'hampshire-police' && agency !== 'self-referral';
      let day = date;
      while (office && !isWorkingDay(day, policy.calendar)) day = new Date(Date.parse(`${day}T00:00:00Z`) + DAY).toISOString().slice(0, 10);
      if (day > lastDay) continue;
      const minute = agency === 'hampshire-police' ? policeMinute(random) : random.int(9 * 60, 17 * 60 - 1);
      arrivals.push({ agency, at: instantAt(day, { hour: Math.floor(minute / 60), minute: minute % 60, second: random.int(0, 59), millisecond: 0 }, timeZone).getTime() });
    }
  }
  arrivals.sort((a, b) => a.at - b.at);
  for (const [index, { agency, at }] of arrivals.entries()) {
    const type = random.weighted(DEMAND.referralTypes);
    referrals.push(type === 'perpetrator' ? perpetrator(index + 1, at, agency) : victim(index + 1, at, agency, type === 'child-to-parent'));
  }
  return { referrals, to };

  function perpetrator(number: number, at: number, agency: string): PlannedReferral {
    const gender = random.chance(0.85) ? 'male' : 'female';
    const lastName = random.pick(SURNAMES);
    const birthYear = new Date(at).getUTCFullYear() - random.int(19, 50);
    const body = {
      ...common(number, at, agency),
      referralType: 'perpetrator',
      subject: { ...subjectOf({ firstName: random.pick(gender === 'male' ? MALE : FEMALE), lastName, dateOfBirth: uniqueBirth(lastName, birthYear, birthYear), gender, postcode: `PO${random.int(1, 6)} 1AA` }) },
      otherParty: null,
      children: [],
      incident: { occurredAt: null, policeAttended: agency === 'hampshire-police', policeReference: null, summary: null },
      riskAssessment: null,
      needs: { safeAccommodation: false },
      perpetratorProgramme: { acknowledgesBehaviour: random.chance(0.85), selfReferral: agency === 'self-referral' },
      consent: { given: true, lawfulBasis: 'consent', notes: null },
    };
    return { n: number, at, agency, body, expected: { level: null, repeat: false, repeatMarac: false, withChildren: false, personKey: 0 } };
  }

  function victim(number: number, at: number, agency: string, childToParent: boolean): PlannedReferral {
    const person = (!childToParent && chooseEarlier(at)) || newPerson(at, childToParent);
    const sameOtherParty = person.referrals.length === 0 || random.chance(0.85);
    if (!sameOtherParty) person.otherParty = newOtherParty(person.gender, random.weighted(RELATIONSHIPS), Number(person.dateOfBirth.slice(0, 4)), at);
    const otherPartyKey = identity(person.otherParty.lastName, person.otherParty.dateOfBirth);
    const referralDate = localDateOf(new Date(at), timeZone);
    const age = ageOn(person.dateOfBirth, referralDate);
    const within = person.referrals.filter((earlier) => at - earlier.at <= 330 * DAY);
    const repeat = within.length > 0;
    // Repeat MARAC: an earlier referral within 12 months was heard at MARAC, about the same person causing harm.
    const repeatMarac = within.some((earlier) => earlier.listedAtMarac && earlier.otherPartyKey === otherPartyKey);
    let level: Level = random.weighted(DEMAND.riskLevels);
    const judgement = level === 'high' && random.chance(0.1);
    const yes = judgement ? random.int(8, 13) : level === 'high' ? random.int(14, 20) : level === 'medium' ? random.int(10, 13) : random.int(2, 9);
    if (repeatMarac) level = 'high';
    const policeAttended = agency === 'hampshire-police' ? random.chance(0.95) : random.chance(0.12);
    const needsRefuge = !childToParent && age >= 16 && random.chance(DEMAND.safeAccommodation);
    const consentGiven = needsRefuge || random.chance(DEMAND.consent);
    const children = person.children.filter((child) => child.dateOfBirth < referralDate);
    const occurredAt = at - Math.max(10 * 60_000, random.lognormal(6 * 3_600_000, 0.8));
    const body = {
      ...common(number, at, agency),
      referralType: childToParent ? 'child-to-parent' : 'victim',
      subject: subjectOf(person),
      otherParty: { ...person.otherParty },
      children: children.map((child) => ({ ...child })),
      incident: { occurredAt: new Date(occurredAt).toISOString(), policeAttended, policeReference: policeAttended ? `44${String(number).padStart(6, '0')}` : null, summary: null },
      riskAssessment: {
        tool: 'DASH',
        answers: Object.fromEntries(Array.from({ length: 24 }, (_, index) => [`Q${index + 1}`, index < yes ? 'yes' : random.chance(0.15) ? 'not-known' : 'no'])),
        professionalJudgement: { highRisk: judgement, rationale: judgement ? "Referrer's professional judgement: escalating coercive control." : null },
        policeCalloutsLast12Months: random.int(0, 2),
        assessedAt: new Date(Math.max(occurredAt + 60_000, at - random.int(5, 60) * 60_000)).toISOString(),
      },
      needs: { safeAccommodation: needsRefuge },
      perpetratorProgramme: null,
      consent: consentGiven ? { given: true, lawfulBasis: 'consent', notes: null } : { given: false, lawfulBasis: 'safeguarding', notes: 'Victim not yet ready to consent; shared for safeguarding.' },
    };
    const householdChild = children.some((child) => child.livesInHousehold && ageOn(child.dateOfBirth, referralDate) < policy.ageBands.householdChildUnder);
    person.referrals.push({ at, listedAtMarac: level === 'high' && age >= policy.ageBands.adultFrom, otherPartyKey });
    return { n: number, at, agency, body, expected: { level, repeat, repeatMarac, withChildren: householdChild, personKey: person.key } };
  }

  /**
   * A repeat (referred again within 7 to 300 days of their last referral) or a return after more than 13 months.
   * No earlier referral may fall 330 to 400 days back: near the 12-month edge the plan would have to repeat the
   * policy's calendar arithmetic, and it is meant to check it instead.
   */
  function chooseEarlier(at: number): Person | null {
    const wantRepeat = random.chance(DEMAND.repeatShare);
    const wantReturn = !wantRepeat && random.chance(DEMAND.returnAfterWindow);
    if (!wantRepeat && !wantReturn) return null;
    const fits = (person: Person) => {
      const last = at - person.referrals[person.referrals.length - 1].at;
      const clearOfEdge = person.referrals.every((earlier) => at - earlier.at < 330 * DAY || at - earlier.at > 400 * DAY);
      return clearOfEdge && (wantRepeat ? last >= 7 * DAY && last <= 300 * DAY : last >= 400 * DAY);
    };
    // Drawn from the most recent few hundred people, so that the search stays cheap over ten years.
    const recent = persons.slice(-600).filter((person) => person.referrals.length > 0 && person.otherParty.relationship !== 'child' && fits(person));
    return recent.length > 0 ? random.pick(recent) : null;
  }

  function common(number: number, at: number, agency: string) {
    return {
      agencyReference: `DEMO-${options.seed}-${String(number).padStart(6, '0')}`,
      referrer: { name: 'Demo referrer', role: agency === 'self-referral' ? 'SPOC helpline' : 'referring practitioner', phone: null, email: null },
    };
  }

  function subjectOf(person: Pick<Person, 'firstName' | 'lastName' | 'dateOfBirth' | 'gender' | 'postcode'>) {
    return {
      firstName: person.firstName,
      lastName: person.lastName,
      dateOfBirth: person.dateOfBirth,
      gender: person.gender,
      postcode: person.postcode,
      phone: `07700 9${String(random.int(0, 99999)).padStart(5, '0')}`,
      safeContact: { phone: true, voicemail: random.chance(0.4), text: random.chance(0.7), email: false, letter: random.chance(0.2), notes: random.chance(0.3) ? 'Only call after 2pm' : null },
      language: 'en',
      interpreterRequired: false,
      disability: random.chance(0.1),
    };
  }
}

/** The last local date of a period that starts on `from` and lasts `years` (whole years end the day before the anniversary). */
export function periodEnd(from: string, years: number): string {
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = Number.isInteger(years)
    ? Date.UTC(Number(from.slice(0, 4)) + years, Number(from.slice(5, 7)) - 1, Number(from.slice(8, 10)))
    : start + Math.round(years * 365.25) * DAY;
  return new Date(end - DAY).toISOString().slice(0, 10);
}

/** Whole years from a date of birth to a local date. */
export function ageOn(dateOfBirth: string, date: string): number {
  const [by, bm, bd] = dateOfBirth.split('-').map(Number);
  const [y, m, d] = date.split('-').map(Number);
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}

function adultAge(random: Prng): number {
  const band = random.weighted({ '16-17': 0.02, '18-24': 0.16, '25-44': 0.55, '45-64': 0.22, '65-80': 0.05 });
  const [low, high] = band.split('-').map(Number);
  return random.int(low, high);
}

/** Police referrals follow incidents: most in the evening and the small hours (estimate). */
function policeMinute(random: Prng): number {
  const hour = Number(random.weighted({ 0: 6, 1: 5, 2: 4, 3: 3, 4: 2, 5: 1, 6: 1, 7: 2, 8: 3, 9: 3, 10: 3, 11: 3, 12: 3, 13: 3, 14: 3, 15: 4, 16: 4, 17: 5, 18: 6, 19: 7, 20: 8, 21: 8, 22: 8, 23: 7 }));
  return hour * 60 + random.int(0, 59);
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { InvalidPolicyError, parsePolicy } from './policy';

const repositoryPolicy = () =>
  JSON.parse(readFileSync(path.resolve(__dirname, '../../../../policies/portsmouth-2026-1.json'), 'utf8')) as Record<string, any>;

function problemsOf(document: unknown): string[] {
  try {
    parsePolicy(document);
  } catch (caught) {
    expect(caught).toBeInstanceOf(InvalidPolicyError);
    return (caught as InvalidPolicyError).problems;
  }
  return [];
}

/** The repository policy with one change made by `edit`. */
function policyWith(edit: (document: Record<string, any>) => void): Record<string, any> {
  const document = repositoryPolicy();
  edit(document);
  return document;
}

describe('the routing policy document', () => {
  it('loads the Portsmouth policy in the repository', () => {
    const { id, effectiveFrom, riskThresholds } = parsePolicy(repositoryPolicy());
    expect({ id, effectiveFrom, riskThresholds }).toEqual({
      id: 'portsmouth-2026-1',
      effectiveFrom: '2026-01-01',
      riskThresholds: { highDashScore: 14, mediumDashScore: 10, escalationPoliceCallouts: 3 },
    });
  });

  it('refuses a bad policy with every problem listed', () => {
    expect(() => parsePolicy({ effectiveFrom: 'soon', riskThresholds: { highDashScore: 8, mediumDashScore: 10 } })).toThrow(InvalidPolicyError);
    let error: unknown;
    try {
      parsePolicy({ effectiveFrom: 'soon', riskThresholds: { highDashScore: 30, mediumDashScore: -1 } });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidPolicyError);
    expect((error as InvalidPolicyError).problems).toEqual([
        'id must be a non-empty string',
        'effectiveFrom must be a date YYYY-MM-DD',
        'riskThresholds.mediumDashScore must be a whole number >= 0',
        'riskThresholds.escalationPoliceCallouts must be a whole number >= 0',
        'riskThresholds.highDashScore cannot exceed the 24 questions',
        'provisions is missing',
        'ageBands is missing',
        'encompass is missing',
        'marac is missing',
        'repeatVictimisation is missing',
        'calendar is missing',
    ]);
  });

  it('carries every provision with its name, service level in working days and any hard capacity', () => {
    expect(parsePolicy(repositoryPolicy()).provisions).toMatchObject({
      idva: { name: 'Independent Domestic Violence Advocates', firstContactWorkingDays: 1 },
      outreach: { name: 'Advocacy, support and outreach', firstContactWorkingDays: 2 },
      refuge: { name: 'Safe accommodation (refuge)', capacityUnits: 16, firstContactWorkingDays: 2 },
      'victim-support': { name: 'Victim Support', firstContactWorkingDays: 5, declineFallback: 'outreach' },
      up2u: { name: 'Up2U: Creating Healthy Relationships', firstContactWorkingDays: 5 },
      ypva: { name: 'Young person violence advocates', firstContactWorkingDays: 2, declineFallback: 'mash' },
      'whos-in-charge': { name: "Who's in Charge?", firstContactWorkingDays: 5 },
      mash: { name: 'Multi-Agency Safeguarding Hub', firstContactWorkingDays: 1 },
    });
  });

  it('shows Victim Support the risk summary but not the DASH answers, and the IDVA both', () => {
    const { provisions } = parsePolicy(repositoryPolicy());
    expect(provisions['victim-support'].caseView).toContain('riskSummary');
    expect(provisions['victim-support'].caseView).not.toContain('riskAnswers');
    expect(provisions.idva.caseView).toEqual(expect.arrayContaining(['riskSummary', 'riskAnswers', 'children', 'otherParty']));
  });

  it('refuses a case view part it does not know and a decline fallback to the provision itself', () => {
    const doc = repositoryPolicy();
    doc.provisions.idva.caseView = ['riskSummary', 'diary'];
    doc.provisions.outreach.declineFallback = 'outreach';
    expect(problemsOf(doc)).toEqual(
      expect.arrayContaining([
        'provisions.idva.caseView[1] must be one of: subjectDetails, referrer, otherParty, children, incident, riskSummary, riskAnswers, needs, consent',
        'provisions.outreach.declineFallback must be another provision of the policy',
      ]),
    );
  });

  it('refuses a decline fallback that does not take everyone its provision takes: the router refers on with no caseworker to check', () => {
    const doc = repositoryPolicy();
    doc.provisions.ypva.declineFallback = 'idva';
    doc.provisions.idva.declineFallback = 'outreach';
    doc.provisions['victim-support'].declineFallback = 'up2u';
    doc.provisions.outreach.declineFallback = 'counselling'; // not a provision: said once, as such
    expect(problemsOf(doc)).toEqual([
      'provisions.outreach.declineFallback must be another provision of the policy',
      'provisions.idva.declineFallback: outreach does not take everyone idva does (people who have not consented)',
      'provisions.victim-support.declineFallback: up2u does not take everyone victim-support does (victim referrals)',
      'provisions.ypva.declineFallback: idva does not take everyone ypva does (aged 13)',
    ]);
  });

  it('carries the age bands, with 16 and 17 in both the young-person and the adult band', () => {
    expect(parsePolicy(repositoryPolicy()).ageBands).toEqual({
      childUnder: 13,
      youngPersonFrom: 13,
      youngPersonTo: 17,
      adultFrom: 16,
      householdChildUnder: 18,
      childToParentChildFrom: 8,
      childToParentChildTo: 18,
    });
  });

  it('carries Encompass, the MARAC schedule and the repeat windows', () => {
    const policy = parsePolicy(repositoryPolicy());
    expect(policy.encompass).toEqual({ schoolAgeFrom: 4, schoolAgeTo: 17, schoolDayStart: '08:30' });
    expect(policy.marac).toEqual({
      daily: { time: '09:30' },
      fortnightly: { weekday: 'thursday', time: '10:00', anchorDate: '2026-01-08' },
      capacityPerMeeting: 15,
      repeatWindowMonths: 12,
    });
    expect(policy.repeatVictimisation).toEqual({ windowMonths: 12 });
  });

  it("carries England's bank holidays for 2026 and 2027 and the school holidays, in London time", () => {
    const { calendar } = parsePolicy(repositoryPolicy());
    expect(calendar).toMatchObject({ timeZone: 'Europe/London', workingDayStart: '09:00', coversThrough: '2027-08-31' });
    expect(calendar.bankHolidays).toEqual([
      '2026-01-01', '2026-04-03', '2026-04-06', '2026-05-04', '2026-05-25', '2026-08-31', '2026-12-25', '2026-12-28',
      '2027-01-01', '2027-03-26', '2027-03-29', '2027-05-03', '2027-05-31', '2027-08-30', '2027-12-27', '2027-12-28',
    ]);
    expect(calendar.schoolHolidays).toContainEqual({ name: 'October half term 2026', from: '2026-10-26', to: '2026-10-30' });
    expect(calendar.schoolHolidays).toHaveLength(11);
  });

  it('gives back plain data that survives a JSON round trip, so a decision can store the policy it used', () => {
    const policy = parsePolicy(repositoryPolicy());
    expect(parsePolicy(JSON.parse(JSON.stringify(policy)))).toStrictEqual(policy);
  });

  it('names a missing provision, an unknown one and a misspelt field instead of dropping them silently', () => {
    const document = policyWith((doc) => {
      delete doc.provisions.mash;
      doc.provisions.counselling = { name: 'Counselling', firstContactWorkingDays: 5 };
      doc.provisions.refuge.capacityUnit = 16;
      delete doc.provisions.refuge.capacityUnits;
    });
    expect(problemsOf(document)).toEqual([
      'provisions.counselling is not a provision in the routing policy',
      'provisions.refuge.capacityUnit is not a known field',
      'provisions.mash is missing',
    ]);
  });

  it('lists every problem in every section at once', () => {
    const document = policyWith((doc) => {
      doc.provisions.idva = { name: '', firstContactWorkingDays: 1.5, capacityUnits: 0, caseView: ['riskSummary'] };
      doc.ageBands.youngPersonFrom = 14;
      doc.encompass = { schoolAgeFrom: 17, schoolAgeTo: 4, schoolDayStart: '8:30' };
      doc.marac.fortnightly.anchorDate = '2026-01-09';
      doc.marac.capacityPerMeeting = 0;
      doc.repeatVictimisation.windowMonths = 'twelve';
      doc.calendar.timeZone = 'Europe/Portsmouth';
      doc.calendar.bankHolidays = ['2026-01-01', '2026-02-30', '2026-01-01'];
      doc.calendar.schoolHolidays = [{ name: 'Backwards', from: '2026-02-20', to: '2026-02-16' }, 'summer'];
      doc.calendar.coversThrough = undefined;
    });
    expect(problemsOf(document)).toEqual([
      'provisions.idva.name must be a non-empty string',
      'provisions.idva.firstContactWorkingDays must be a whole number >= 0',
      'provisions.idva.capacityUnits must be a whole number >= 1',
      'ageBands.youngPersonFrom must not exceed childUnder (no age may fall between the bands)',
      'encompass.schoolDayStart must be a local time HH:MM',
      'encompass.schoolAgeFrom must not exceed schoolAgeTo',
      'marac.fortnightly.anchorDate must fall on a thursday',
      'marac.capacityPerMeeting must be a whole number >= 1',
      'repeatVictimisation.windowMonths must be a whole number >= 1',
      'calendar.timeZone must be an IANA time zone such as Europe/London',
      'calendar.bankHolidays[1] must be a date YYYY-MM-DD',
      'calendar.bankHolidays lists 2026-01-01 more than once',
      'calendar.schoolHolidays[0].from must not be after to',
      'calendar.schoolHolidays[1] must be an object',
      'calendar.coversThrough must be a date YYYY-MM-DD',
    ]);
  });

  it('refuses a fortnightly MARAC on a weekend and an adult band that leaves an age uncovered', () => {
    const document = policyWith((doc) => {
      doc.marac.fortnightly.weekday = 'saturday';
      doc.ageBands.adultFrom = 19;
    });
    expect(problemsOf(document)).toEqual([
      'ageBands.adultFrom must not exceed youngPersonTo + 1 (no age may fall between the bands)',
      'marac.fortnightly.weekday must be one of monday, tuesday, wednesday, thursday, friday',
    ]);
  });
});

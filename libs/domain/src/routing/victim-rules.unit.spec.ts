import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parsePolicy } from '../policy/policy';
import { evaluateRouting } from './evaluate-routing';
import { child, due, victim, withoutConsent } from './routing.fixture';

const policy = parsePolicy(JSON.parse(readFileSync(path.resolve(__dirname, '../../../../policies/portsmouth-2026-1.json'), 'utf8')));

describe('child-under-13', () => {
  it('given a victim aged 12, when routed, then MASH alone takes it as a children’s safeguarding matter', () => {
    const outcome = evaluateRouting(victim({ subjectAgeYears: 12 }), policy);
    expect(outcome).toEqual({
      policyId: 'portsmouth-2026-1',
      status: 'routed',
      routes: [{ provision: 'mash', ruleIds: ['child-under-13'], status: 'routed', dueBy: due.oneWorkingDay }],
      marac: null,
      encompass: [],
      rulesFired: ['child-under-13'],
      flags: [],
      reasons: ["Child victim: children's safeguarding. A child under 13 is not a domestic abuse victim referral, so it goes to MASH only."],
    });
  });

  it('given a victim aged 12 at high risk, needing a refuge, in a police-attended household with children and no consent, when routed, then still MASH only, and the children’s schools are told', () => {
    const outcome = evaluateRouting(
      victim({ subjectAgeYears: 12, riskLevel: 'high', needsSafeAccommodation: true, policeAttended: true, children: [child(0, 9)], ...withoutConsent }),
      policy,
    );
    expect(outcome).toMatchObject({ status: 'routed', marac: null, rulesFired: ['child-under-13', 'encompass'] });
    expect(outcome.routes.map((route) => route.provision)).toEqual(['mash']);
    expect(outcome.encompass).toEqual([expect.objectContaining({ childIndex: 0 })]);
  });
});

describe('young-person and the risk routes by age', () => {
  const provisionsFor = (subjectAgeYears: number, riskLevel: 'high' | 'medium' | 'standard') =>
    evaluateRouting(victim({ subjectAgeYears, riskLevel }), policy).routes.map((route) => `${route.provision}:${route.ruleIds.join('+')}`);

  it('given a victim aged 13 or 15, when routed, then a young person violence advocate and no adult risk route', () => {
    expect(provisionsFor(13, 'standard')).toEqual(['ypva:young-person']);
    expect(provisionsFor(15, 'medium')).toEqual(['ypva:young-person']);
  });

  it('given a victim aged 15 at high risk, when routed, then the advocate but no IDVA and no MARAC, which start at 16', () => {
    const outcome = evaluateRouting(victim({ subjectAgeYears: 15, riskLevel: 'high' }), policy);
    expect(outcome.routes).toEqual([{ provision: 'ypva', ruleIds: ['young-person'], status: 'routed', dueBy: due.twoWorkingDays }]);
    expect(outcome.marac).toBeNull();
  });

  it('given a victim aged 16 or 17, when routed, then both the young person advocate and the adult risk route', () => {
    expect(provisionsFor(16, 'standard')).toEqual(['ypva:young-person', 'victim-support:standard-risk']);
    expect(provisionsFor(17, 'medium')).toEqual(['ypva:young-person', 'outreach:medium-risk']);
    expect(provisionsFor(17, 'high')).toEqual(['ypva:young-person', 'idva:high-risk']);
  });

  it('given a victim aged 18, when routed, then the adult risk route only', () => {
    expect(provisionsFor(18, 'standard')).toEqual(['victim-support:standard-risk']);
  });
});

describe('high-risk, medium-risk and standard-risk', () => {
  it('given an adult at high risk with no children, when routed, then the IDVA within one working day and the next fortnightly MARAC', () => {
    const outcome = evaluateRouting(victim({ riskLevel: 'high', riskCriteria: ['dash-score>=14'] }), policy);
    expect(outcome).toEqual({
      policyId: 'portsmouth-2026-1',
      status: 'routed',
      routes: [{ provision: 'idva', ruleIds: ['high-risk'], status: 'routed', dueBy: due.oneWorkingDay }],
      marac: {
        meetingId: 'marac-fortnightly-2026-11-26',
        date: '2026-11-26',
        kind: 'fortnightly',
        startsAt: '2026-11-26T10:00:00.000Z',
        repeat: false,
        hasChildren: false,
      },
      encompass: [],
      rulesFired: ['high-risk'],
      flags: [],
      reasons: [],
    });
  });

  it('given an adult at medium risk, when routed, then outreach within two working days and no MARAC', () => {
    expect(evaluateRouting(victim({ riskLevel: 'medium' }), policy)).toMatchObject({
      status: 'routed',
      routes: [{ provision: 'outreach', ruleIds: ['medium-risk'], status: 'routed', dueBy: due.twoWorkingDays }],
      marac: null,
      rulesFired: ['medium-risk'],
    });
  });

  it('given an adult at standard risk, when routed, then Victim Support within five working days', () => {
    expect(evaluateRouting(victim({ riskLevel: 'standard' }), policy)).toMatchObject({
      status: 'routed',
      routes: [{ provision: 'victim-support', ruleIds: ['standard-risk'], status: 'routed', dueBy: due.fiveWorkingDays }],
      rulesFired: ['standard-risk'],
    });
  });

  it('given an adult with no risk level, when routed, then no route, a flag and a reason', () => {
    expect(evaluateRouting(victim({ riskLevel: null, riskCriteria: [] }), policy)).toMatchObject({
      status: 'not-eligible',
      routes: [],
      flags: ['risk-assessment-missing'],
      reasons: ['There is no risk assessment, so no risk route could be chosen.'],
    });
  });
});

describe('safe-accommodation', () => {
  it('given a unit is free, when routed, then the refuge within two working days and the victim keeps their risk route', () => {
    const outcome = evaluateRouting(victim({ riskLevel: 'medium', needsSafeAccommodation: true, refugeUnitsFree: 1 }), policy);
    expect(outcome.routes).toEqual([
      { provision: 'outreach', ruleIds: ['medium-risk'], status: 'routed', dueBy: due.twoWorkingDays },
      { provision: 'refuge', ruleIds: ['safe-accommodation'], status: 'routed', dueBy: due.twoWorkingDays },
    ]);
    expect(outcome.flags).toEqual([]);
  });

  it('given no unit is free, when routed, then the refuge route is waitlisted with a national search flagged, and the risk route stays', () => {
    const outcome = evaluateRouting(victim({ riskLevel: 'high', needsSafeAccommodation: true, refugeUnitsFree: 0 }), policy);
    expect(outcome).toMatchObject({
      status: 'routed',
      routes: [
        { provision: 'idva', ruleIds: ['high-risk'], status: 'routed' },
        { provision: 'refuge', ruleIds: ['safe-accommodation'], status: 'waitlisted', dueBy: due.twoWorkingDays },
      ],
      rulesFired: ['high-risk', 'safe-accommodation'],
      flags: ['search-national-refuge-vacancies'],
      reasons: ['No refuge unit is free: search national refuge vacancies and consider an out-of-area placement.'],
    });
  });

  it('given no need for safe accommodation, when routed, then no refuge route whatever the units', () => {
    expect(evaluateRouting(victim({ refugeUnitsFree: 0 }), policy).routes.map((route) => route.provision)).toEqual(['victim-support']);
  });
});

describe('children-in-household', () => {
  const household = [child(0, 10, { school: null }), child(1, 2, { school: null })];

  it('given high risk and a child in the household, when routed, then MASH as well and the daily MARAC', () => {
    const outcome = evaluateRouting(victim({ riskLevel: 'high', children: household }), policy);
    expect(outcome.routes).toEqual([
      { provision: 'idva', ruleIds: ['high-risk'], status: 'routed', dueBy: due.oneWorkingDay },
      { provision: 'mash', ruleIds: ['children-in-household'], status: 'routed', dueBy: due.oneWorkingDay },
    ]);
    expect(outcome.marac).toEqual({
      meetingId: 'marac-daily-2026-11-24',
      date: '2026-11-24',
      kind: 'daily',
      startsAt: '2026-11-24T09:30:00.000Z',
      repeat: false,
      hasChildren: true,
    });
    expect(outcome.rulesFired).toEqual(['high-risk', 'children-in-household']);
  });

  it('given medium risk and a child in the household, when routed, then outreach and MASH', () => {
    expect(evaluateRouting(victim({ riskLevel: 'medium', children: household }), policy).routes.map((route) => route.provision)).toEqual(['outreach', 'mash']);
  });

  it('given standard risk and a child in the household, when routed, then no MASH', () => {
    expect(evaluateRouting(victim({ riskLevel: 'standard', children: household }), policy).routes.map((route) => route.provision)).toEqual(['victim-support']);
  });

  it('given high risk and only a child who lives elsewhere or is 18, when routed, then no MASH; the child elsewhere still makes the MARAC daily', () => {
    const elsewhere = evaluateRouting(victim({ riskLevel: 'high', children: [child(0, 9, { livesInHousehold: false })] }), policy);
    expect(elsewhere.routes.map((route) => route.provision)).toEqual(['idva']);
    expect(elsewhere.marac).toMatchObject({ kind: 'daily', hasChildren: true });
    const grownUp = evaluateRouting(victim({ riskLevel: 'high', children: [child(0, 18)] }), policy);
    expect(grownUp.routes.map((route) => route.provision)).toEqual(['idva']);
    expect(grownUp.marac).toMatchObject({ kind: 'fortnightly', hasChildren: false });
  });
});

describe('encompass', () => {
  const attended = (overrides: Parameters<typeof victim>[0] = {}) => victim({ policeAttended: true, children: [child(0, 9)], ...overrides });

  it('given a police-attended incident and a school-age child at home, when routed on a weekday afternoon, then the school hears by 08:30 next morning', () => {
    const outcome = evaluateRouting(attended(), policy);
    expect(outcome.encompass).toEqual([{ childIndex: 0, school: 'School 0', dueBy: due.nextSchoolDayStart }]);
    expect(outcome.rulesFired).toEqual(['standard-risk', 'encompass']);
  });

  it('given routing at 07:00 on a school day, then the school hears by 08:30 that morning', () => {
    expect(evaluateRouting(attended({ routedAt: '2026-11-23T07:00:00Z' }), policy).encompass[0].dueBy).toBe('2026-11-23T08:30:00.000Z');
  });

  it('given routing at the weekend, then by 08:30 on Monday', () => {
    expect(evaluateRouting(attended({ routedAt: '2026-11-21T02:00:00Z' }), policy).encompass[0].dueBy).toBe('2026-11-23T08:30:00.000Z');
  });

  it('given routing before a bank holiday and half term, then by 08:30 BST on the first school day after', () => {
    expect(evaluateRouting(attended({ routedAt: '2026-05-22T17:00:00Z' }), policy).encompass[0].dueBy).toBe('2026-06-01T07:30:00.000Z');
  });

  it('given routing in the October half term, then by 08:30 GMT on the Monday after', () => {
    expect(evaluateRouting(attended({ routedAt: '2026-10-27T12:00:00Z' }), policy).encompass[0].dueBy).toBe('2026-11-02T08:30:00.000Z');
  });

  it('given children aged 3, 4, 17 and 18, then only the 4- and 17-year-olds are of school age', () => {
    const children = [child(0, 3), child(1, 4), child(2, 17), child(3, 18)];
    expect(evaluateRouting(attended({ children }), policy).encompass.map((notice) => notice.childIndex)).toEqual([1, 2]);
  });

  it('given a child who was present but lives elsewhere, then their school hears; a child neither living there nor present is not included', () => {
    const children = [child(0, 8, { livesInHousehold: false, presentAtIncident: true }), child(1, 11, { livesInHousehold: false, presentAtIncident: false })];
    expect(evaluateRouting(attended({ children }), policy).encompass.map((notice) => notice.childIndex)).toEqual([0]);
  });

  it('given the police did not attend, then no notification', () => {
    const outcome = evaluateRouting(victim({ policeAttended: false, children: [child(0, 9)] }), policy);
    expect(outcome.encompass).toEqual([]);
    expect(outcome.rulesFired).not.toContain('encompass');
  });

  it('given a school-age child whose school is not known, then one notice per known school and a flag to find the other', () => {
    const outcome = evaluateRouting(attended({ children: [child(0, 9, { school: null }), child(1, 12)] }), policy);
    expect(outcome.encompass).toEqual([{ childIndex: 1, school: 'School 1', dueBy: due.nextSchoolDayStart }]);
    expect(outcome.flags).toEqual(['encompass-school-not-known']);
  });

  it('given no consent from the adult, then the school is still told', () => {
    const outcome = evaluateRouting(attended(withoutConsent), policy);
    expect(outcome.status).toBe('awaiting-consent');
    expect(outcome.encompass).toHaveLength(1);
  });
});

describe('repeats', () => {
  it('given a victim referred before within the window, when routed, then the referral is flagged as a repeat', () => {
    const outcome = evaluateRouting(victim({ repeat: { isRepeat: true, previousReferralIds: ['r-0'], repeatMarac: false } }), policy);
    expect(outcome.flags).toEqual(['repeat-victim']);
  });

  it('given a repeat MARAC case, when routed, then it is listed again and the meeting is told it is a repeat', () => {
    const repeat = { isRepeat: true, previousReferralIds: ['r-0'], repeatMarac: true };
    const outcome = evaluateRouting(victim({ riskLevel: 'high', riskCriteria: ['repeat-marac'], repeat }), policy);
    expect(outcome).toMatchObject({
      routes: [{ provision: 'idva', ruleIds: ['high-risk'], status: 'routed' }],
      marac: { meetingId: 'marac-fortnightly-2026-11-26', repeat: true, hasChildren: false },
      flags: ['repeat-victim', 'repeat-marac'],
    });
  });

  it('given a repeat MARAC case whose level arrived as standard, when routed, then it is still high risk and listed', () => {
    const repeat = { isRepeat: true, previousReferralIds: ['r-0'], repeatMarac: true };
    const outcome = evaluateRouting(victim({ riskLevel: 'standard', repeat }), policy);
    expect(outcome.routes.map((route) => route.provision)).toEqual(['idva']);
    expect(outcome.marac).toMatchObject({ repeat: true });
  });
});

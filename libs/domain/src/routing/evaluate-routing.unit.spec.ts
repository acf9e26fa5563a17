import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parsePolicy } from '../policy/policy';
import { evaluateRouting } from './evaluate-routing';
import { child, due, victim, withoutConsent } from './routing.fixture';
import type { RoutingFacts } from './routing.types';

const policy = parsePolicy(JSON.parse(readFileSync(path.resolve(__dirname, '../../../../policies/portsmouth-2026-1.json'), 'utf8')));

describe('consent', () => {
  it('given standard risk and no consent, when routed, then Victim Support is held, no clock runs, and the referrer is told', () => {
    expect(evaluateRouting(victim({ riskLevel: 'standard', ...withoutConsent }), policy)).toMatchObject({
      status: 'awaiting-consent',
      routes: [{ provision: 'victim-support', ruleIds: ['standard-risk'], status: 'held-awaiting-consent', dueBy: null }],
      reasons: ['Without consent, voluntary services are held awaiting consent and the referrer is told: Victim Support.'],
    });
  });

  it('given medium risk and no consent, when routed, then outreach is held', () => {
    expect(evaluateRouting(victim({ riskLevel: 'medium', ...withoutConsent }), policy)).toMatchObject({
      status: 'awaiting-consent',
      routes: [{ provision: 'outreach', status: 'held-awaiting-consent', dueBy: null }],
    });
  });

  it('given high risk and no consent, when routed, then the IDVA and MARAC proceed with the lawful basis recorded', () => {
    const outcome = evaluateRouting(victim({ riskLevel: 'high', ...withoutConsent }), policy);
    expect(outcome).toMatchObject({
      status: 'routed',
      routes: [{ provision: 'idva', status: 'routed', dueBy: due.oneWorkingDay }],
      marac: { meetingId: 'marac-fortnightly-2026-11-26' },
      reasons: ['Proceeding without consent on the lawful basis "safeguarding": Independent Domestic Violence Advocates, the MARAC listing.'],
    });
  });

  it("given high risk without consent and without the referrer's reason (a repeat MARAC), when routed, then the IDVA and MARAC still proceed and the reason is asked for", () => {
    const outcome = evaluateRouting(victim({ riskLevel: 'high', riskCriteria: ['repeat-marac'], consent: { given: false, lawfulBasis: 'safeguarding', reasonRecorded: false } }), policy);
    expect(outcome).toMatchObject({ status: 'routed', routes: [{ provision: 'idva', status: 'routed' }], marac: { meetingId: 'marac-fortnightly-2026-11-26' } });
    expect(outcome.flags).toContain('consent-reason-missing');
    expect(outcome.reasons).toContain("High risk goes ahead without consent, and the referrer's reason for it is not recorded: the referrer records it with the consent (given false, with notes).");
  });

  it("given high risk without consent and with the referrer's reason, or medium risk without either, when routed, then no reason is asked for", () => {
    const flagsOf = (overrides: Partial<RoutingFacts>) => evaluateRouting(victim(overrides), policy).flags;
    expect(flagsOf({ riskLevel: 'high', consent: { given: false, lawfulBasis: 'safeguarding', reasonRecorded: true } })).not.toContain('consent-reason-missing');
    expect(flagsOf({ riskLevel: 'medium', consent: { given: false, lawfulBasis: 'safeguarding', reasonRecorded: false } })).not.toContain('consent-reason-missing');
    expect(flagsOf({ riskLevel: 'high', consent: { given: true, lawfulBasis: 'consent', reasonRecorded: false } })).not.toContain('consent-reason-missing');
    // A decision made before the reason was kept is replayed as it was made.
    expect(flagsOf({ riskLevel: 'high', ...withoutConsent })).not.toContain('consent-reason-missing');
  });

  it('given high risk, a refuge needed and no consent, when routed, then the IDVA proceeds and the refuge waits for consent', () => {
    const outcome = evaluateRouting(victim({ riskLevel: 'high', needsSafeAccommodation: true, ...withoutConsent }), policy);
    expect(outcome.status).toBe('routed');
    expect(outcome.routes).toEqual([
      { provision: 'idva', ruleIds: ['high-risk'], status: 'routed', dueBy: due.oneWorkingDay },
      { provision: 'refuge', ruleIds: ['safe-accommodation'], status: 'held-awaiting-consent', dueBy: null },
    ]);
    expect(outcome.reasons).toEqual([
      'Without consent, voluntary services are held awaiting consent and the referrer is told: Safe accommodation (refuge).',
      'Proceeding without consent on the lawful basis "safeguarding": Independent Domestic Violence Advocates, the MARAC listing.',
    ]);
  });

  it('given medium risk, a child at home and no consent, when routed, then MASH proceeds while outreach waits', () => {
    const outcome = evaluateRouting(victim({ riskLevel: 'medium', children: [child(0, 6)], ...withoutConsent }), policy);
    expect(outcome.status).toBe('routed');
    expect(outcome.routes.map((route) => `${route.provision}:${route.status}`)).toEqual(['outreach:held-awaiting-consent', 'mash:routed']);
  });

  it('given a 16-year-old at medium risk without consent, when routed, then both the advocate and outreach wait', () => {
    const outcome = evaluateRouting(victim({ subjectAgeYears: 16, riskLevel: 'medium', ...withoutConsent }), policy);
    expect(outcome.status).toBe('awaiting-consent');
    expect(outcome.routes.map((route) => route.status)).toEqual(['held-awaiting-consent', 'held-awaiting-consent']);
  });

  it('given a 14-year-old at high risk without consent, when routed, then the advocate proceeds, as nothing else would', () => {
    const outcome = evaluateRouting(victim({ subjectAgeYears: 14, riskLevel: 'high', ...withoutConsent }), policy);
    expect(outcome.routes).toEqual([{ provision: 'ypva', ruleIds: ['young-person'], status: 'routed', dueBy: due.twoWorkingDays }]);
  });
});

describe('perpetrator referrals', () => {
  const perpetrator = (overrides: Partial<RoutingFacts>) =>
    victim({ referralType: 'perpetrator', riskLevel: null, riskCriteria: [], perpetratorAcknowledgesBehaviour: true, ...overrides });

  it('given a person of 16 who acknowledges the behaviour, when routed, then Up2U within five working days', () => {
    expect(evaluateRouting(perpetrator({ subjectAgeYears: 16 }), policy)).toEqual({
      policyId: 'portsmouth-2026-1',
      status: 'routed',
      routes: [{ provision: 'up2u', ruleIds: ['perpetrator'], status: 'routed', dueBy: due.fiveWorkingDays }],
      marac: null,
      encompass: [],
      rulesFired: ['perpetrator'],
      flags: [],
      reasons: [],
    });
  });

  it('given a person of 15, when routed, then not eligible and returned to the referrer with the reason', () => {
    expect(evaluateRouting(perpetrator({ subjectAgeYears: 15 }), policy)).toMatchObject({
      status: 'not-eligible',
      routes: [],
      rulesFired: ['perpetrator'],
      reasons: ['Up2U is for people aged 16 and over.', 'Not eligible: the referral is returned to the referrer.'],
    });
  });

  it('given an adult who does not acknowledge the behaviour, or of whom it is not known, when routed, then not eligible', () => {
    expect(evaluateRouting(perpetrator({ perpetratorAcknowledgesBehaviour: false }), policy)).toMatchObject({
      status: 'not-eligible',
      reasons: ['The person does not acknowledge the behaviour, which Up2U needs.', 'Not eligible: the referral is returned to the referrer.'],
    });
    expect(evaluateRouting(perpetrator({ perpetratorAcknowledgesBehaviour: null }), policy).status).toBe('not-eligible');
  });

  it('given an eligible person who has not consented, when routed, then Up2U waits for consent', () => {
    expect(evaluateRouting(perpetrator(withoutConsent), policy)).toMatchObject({
      status: 'awaiting-consent',
      routes: [{ provision: 'up2u', status: 'held-awaiting-consent', dueBy: null }],
    });
  });

  it('given a police-attended incident with children, when routed, then the victim rules stay out of a perpetrator referral', () => {
    const outcome = evaluateRouting(perpetrator({ policeAttended: true, children: [child(0, 9)], needsSafeAccommodation: true, repeat: { isRepeat: true, previousReferralIds: [], repeatMarac: false } }), policy);
    expect(outcome).toMatchObject({ routes: [{ provision: 'up2u' }], marac: null, encompass: [], flags: [] });
  });
});

describe('child-to-parent referrals', () => {
  const parent = (otherPartyAgeYears: number | null, overrides: Partial<RoutingFacts> = {}) =>
    victim({ referralType: 'child-to-parent', subjectAgeYears: 44, otherPartyAgeYears, ...overrides });

  it('given a child of 8 or 18, when routed, then Who’s in Charge? and the parent’s own risk route', () => {
    for (const age of [8, 18]) {
      expect(evaluateRouting(parent(age), policy)).toMatchObject({
        status: 'routed',
        routes: [
          { provision: 'whos-in-charge', ruleIds: ['child-to-parent'], status: 'routed', dueBy: due.fiveWorkingDays },
          { provision: 'victim-support', ruleIds: ['standard-risk'], status: 'routed' },
        ],
        rulesFired: ['child-to-parent', 'standard-risk'],
      });
    }
  });

  it('given a child of 7 or 19, when routed, then no Who’s in Charge?, a reason, and the parent’s own route still', () => {
    for (const age of [7, 19]) {
      expect(evaluateRouting(parent(age), policy)).toMatchObject({
        status: 'routed',
        routes: [{ provision: 'victim-support' }],
        reasons: ["Who's in Charge? is for parents of children aged 8 to 18; the child is outside that range."],
      });
    }
  });

  it('given the child’s age is not known, when routed, then no Who’s in Charge? yet, with the reason', () => {
    expect(evaluateRouting(parent(null), policy).reasons).toEqual([
      "The child's age is not known, so Who's in Charge? (for parents of children aged 8 to 18) cannot be offered yet.",
    ]);
  });

  it('given a parent at high risk, when routed, then Who’s in Charge?, the IDVA and a MARAC listing', () => {
    const outcome = evaluateRouting(parent(14, { riskLevel: 'high', children: [child(0, 14)] }), policy);
    expect(outcome.routes.map((route) => route.provision)).toEqual(['whos-in-charge', 'idva', 'mash']);
    expect(outcome.marac).toMatchObject({ kind: 'daily', hasChildren: true });
  });
});

describe('the calendar the policy carries', () => {
  it('given a routing after the calendar stops being maintained, when routed, then it is flagged', () => {
    expect(evaluateRouting(victim({ routedAt: '2027-09-01T10:00:00Z' }), policy).flags).toEqual(['calendar-out-of-date']);
    expect(evaluateRouting(victim({ routedAt: '2027-08-31T10:00:00Z' }), policy).flags).toEqual([]);
  });
});

describe('determinism', () => {
  const busy = (): RoutingFacts =>
    victim({
      routedAt: '2026-10-23T21:15:00+01:00',
      subjectAgeYears: 17,
      riskLevel: 'high',
      riskCriteria: ['dash-score>=14', 'repeat-marac'],
      needsSafeAccommodation: true,
      refugeUnitsFree: 0,
      policeAttended: true,
      children: [child(0, 9), child(1, 15, { presentAtIncident: true, livesInHousehold: false }), child(2, 4, { school: null })],
      repeat: { isRepeat: true, previousReferralIds: ['r-0'], repeatMarac: true },
      ...withoutConsent,
    });

  it('given the same facts and the same policy, when evaluated again, then the outcome is deep-equal', () => {
    expect(evaluateRouting(busy(), policy)).toStrictEqual(evaluateRouting(busy(), policy));
  });

  it('neither changes its inputs nor needs anything but them, and the outcome is plain JSON to store with the decision', () => {
    const facts = deepFreeze(busy());
    const frozenPolicy = deepFreeze(parsePolicy(JSON.parse(JSON.stringify(policy))));
    const outcome = evaluateRouting(facts, frozenPolicy);
    expect(JSON.parse(JSON.stringify(outcome))).toStrictEqual(outcome);
    expect(outcome).toStrictEqual(evaluateRouting(busy(), policy));
  });

  it('explains the busy case fully', () => {
    expect(evaluateRouting(busy(), policy)).toStrictEqual({
      policyId: 'portsmouth-2026-1',
      status: 'routed',
      routes: [
        { provision: 'ypva', ruleIds: ['young-person'], status: 'routed', dueBy: '2026-10-27T21:15:00.000Z' },
        { provision: 'idva', ruleIds: ['high-risk'], status: 'routed', dueBy: '2026-10-26T21:15:00.000Z' },
        { provision: 'refuge', ruleIds: ['safe-accommodation'], status: 'held-awaiting-consent', dueBy: null },
        { provision: 'mash', ruleIds: ['children-in-household'], status: 'routed', dueBy: '2026-10-26T21:15:00.000Z' },
      ],
      marac: {
        meetingId: 'marac-daily-2026-10-26',
        date: '2026-10-26',
        kind: 'daily',
        startsAt: '2026-10-26T09:30:00.000Z',
        repeat: true,
        hasChildren: true,
      },
      encompass: [
        { childIndex: 0, school: 'School 0', dueBy: '2026-11-02T08:30:00.000Z' },
        { childIndex: 1, school: 'School 1', dueBy: '2026-11-02T08:30:00.000Z' },
      ],
      rulesFired: ['young-person', 'high-risk', 'safe-accommodation', 'children-in-household', 'encompass'],
      flags: ['repeat-victim', 'repeat-marac', 'search-national-refuge-vacancies', 'encompass-school-not-known'],
      reasons: [
        'No refuge unit is free: search national refuge vacancies and consider an out-of-area placement.',
        'Without consent, voluntary services are held awaiting consent and the referrer is told: Safe accommodation (refuge).',
        'Proceeding without consent on the lawful basis "safeguarding": Young person violence advocates, Independent Domestic Violence Advocates, Multi-Agency Safeguarding Hub, the MARAC listing.',
      ],
    });
  });
});

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

describe('repeats', () => {
  it('given an earlier referral that may be the same person, when routed, then it is flagged and said, for someone to confirm', () => {
    const outcome = evaluateRouting(victim({ repeat: { isRepeat: false, previousReferralIds: [], repeatMarac: false, possibleMatch: true } }), policy);
    expect(outcome.flags).toEqual(['possible-repeat-to-confirm']);
    expect(outcome.reasons).toEqual([expect.stringMatching(/someone should confirm it/)]);
    expect(evaluateRouting(victim(), policy).flags).not.toContain('possible-repeat-to-confirm');
    // Why the referral goes nowhere comes first; the possible match is said after it.
    const possibleMatch = { repeat: { isRepeat: false, previousReferralIds: [], repeatMarac: false, possibleMatch: true } };
    const unrouted = evaluateRouting(victim({ riskLevel: null, riskCriteria: [], ...possibleMatch }), policy);
    expect(unrouted.status).toBe('not-eligible');
    expect(unrouted.reasons).toEqual([expect.stringMatching(/no risk assessment/), expect.stringMatching(/someone should confirm it/)]);
  });
});


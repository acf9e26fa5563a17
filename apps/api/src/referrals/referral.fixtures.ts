// Request bodies for tests and benchmarks: the public contract's example, complete (all 24 DASH answers).
// Each call builds a fresh object, so a test may mutate what it gets.

/** A JSON body as a client sends it: loosely typed, so that a test can break any part of it. */
export interface ReferralBody {
  [field: string]: any;
}

/** Six "yes" answers: a standard-risk checklist unless another criterion applies. */
export function dashAnswers(): Record<string, 'yes' | 'no' | 'not-known'> {
  return {
    Q1: 'yes', Q2: 'yes', Q3: 'no', Q4: 'no', Q5: 'no', Q6: 'yes', Q7: 'no', Q8: 'yes',
    Q9: 'no', Q10: 'yes', Q11: 'no', Q12: 'yes', Q13: 'no', Q14: 'no', Q15: 'no', Q16: 'no',
    Q17: 'no', Q18: 'no', Q19: 'no', Q20: 'not-known', Q21: 'no', Q22: 'no', Q23: 'no', Q24: 'not-known',
  };
}

export function validRiskAssessment(overrides: ReferralBody = {}): ReferralBody {
  return merge(
    {
      tool: 'DASH',
      answers: dashAnswers(),
      professionalJudgement: { highRisk: false, rationale: null },
      policeCalloutsLast12Months: 1,
      assessedAt: '2026-11-21T01:00:00Z',
    },
    overrides,
  );
}

/**
 * The contract's example victim referral. `overrides` is merged in deeply: objects merge, anything else
 * (arrays included) replaces, and `undefined` removes the field, e.g.
 * `validVictimReferral({ subject: { dateOfBirth: '2021-02-30' }, incident: undefined })`.
 */
export function validVictimReferral(overrides: ReferralBody = {}): ReferralBody {
  return merge(
    {
      agencyReference: 'HC-44/2026/0191',
      referralType: 'victim',
      referrer: { name: 'PC A. Patel', role: 'response officer', phone: '023 9200 0000', email: 'a.patel@example.org' },
      subject: {
        firstName: 'Sam', lastName: 'Taylor', dateOfBirth: '1991-03-14', gender: 'female',
        postcode: 'PO4 8AA', phone: '07700 900123',
        safeContact: { phone: true, voicemail: false, text: true, email: false, letter: false, notes: 'after 2pm only' },
        language: 'en', interpreterRequired: false, disability: false,
      },
      otherParty: { firstName: 'Alex', lastName: 'Taylor', dateOfBirth: '1988-07-01', gender: 'male', relationship: 'intimate-partner' },
      children: [
        { firstName: 'Jo', dateOfBirth: '2016-05-02', livesInHousehold: true, presentAtIncident: true, school: 'Example Primary School' },
      ],
      incident: {
        occurredAt: '2026-11-20T23:10:00Z', policeAttended: true, policeReference: '44260191',
        summary: 'Neighbour called police after hearing shouting; victim had a visible injury to the arm.',
      },
      riskAssessment: validRiskAssessment(),
      needs: { safeAccommodation: false },
      perpetratorProgramme: null,
      consent: { given: true, lawfulBasis: 'consent', notes: null },
    },
    overrides,
  );
}

/** The same household referred the other way round: the subject is the person causing harm. */
export function validPerpetratorReferral(overrides: ReferralBody = {}): ReferralBody {
  const perpetrator = validVictimReferral({
    agencyReference: 'HC-44/2026/0192',
    referralType: 'perpetrator',
    subject: {
      firstName: 'Alex', lastName: 'Taylor', dateOfBirth: '1988-07-01', gender: 'male',
      postcode: 'PO4 8AA', phone: '07700 900456',
      safeContact: { phone: true, voicemail: true, text: true, email: false, letter: true, notes: null },
    },
    otherParty: { firstName: 'Sam', lastName: 'Taylor', dateOfBirth: '1991-03-14', gender: 'female', relationship: 'intimate-partner' },
    riskAssessment: undefined,
    perpetratorProgramme: { acknowledgesBehaviour: true, selfReferral: false },
  });
  return merge(perpetrator, overrides);
}

function isPlainObject(value: unknown): value is ReferralBody {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function merge(base: ReferralBody, overrides: ReferralBody): ReferralBody {
  for (const key of Object.keys(overrides)) {
    const value = overrides[key];
    if (value === undefined) delete base[key];
    else if (isPlainObject(value) && isPlainObject(base[key])) base[key] = merge(base[key], value);
    else base[key] = value;
  }
  return base;
}

/**
 * A surname of its own for the n-th test person. Person matching normalises names to letters, so `Lag1` and `Lag2`
 * would be one person referred again and again; these differ in letters.
 */
export function distinctSurname(prefix: string, n: number): string {
  return `${prefix}${n.toString(26).replace(/\d/g, (digit) => 'qrstuvwxyz'[Number(digit)])}`;
}

import type { ReferralSubmission } from '@spoc/domain';
import { FieldProblem, validateInput } from '../shared/validation';
import { CreateReferralDto, ReassessmentDto } from './referral.dto';
import { dashAnswers, ReferralBody, validPerpetratorReferral, validRiskAssessment, validVictimReferral } from './referral.fixtures';
import { toReferralSubmission, toRiskAssessment } from './referral.mapper';

const SECRET = 'Zebedee-Secret-123';

function problemsOf(body: unknown, cls: new () => object = CreateReferralDto): FieldProblem[] {
  const result = validateInput(cls, body);
  if (result.ok) throw new Error('expected the body to be rejected');
  return result.details;
}

function accepted(body: unknown): CreateReferralDto {
  const result = validateInput(CreateReferralDto, body);
  if (!result.ok) throw new Error(`expected the body to be accepted, got ${JSON.stringify(result.details)}`);
  return result.value;
}

const byField = (a: FieldProblem, b: FieldProblem) => a.field.localeCompare(b.field) || a.problem.localeCompare(b.problem);
const sorted = (problems: FieldProblem[]) => [...problems].sort(byField);
const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

/** Every leaf (and, with `objects`, every nested object) replaced by `value`. */
function everyLeaf(node: unknown, value: unknown): unknown {
  if (Array.isArray(node)) return node.map((item) => everyLeaf(item, value));
  if (typeof node === 'object' && node !== null) {
    return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, everyLeaf(child, value)]));
  }
  return value;
}

describe('the body of POST /v1/referrals', () => {
  it('accepts the contract example victim referral and maps it to the expected submission', () => {
    const submission = toReferralSubmission(accepted(validVictimReferral()));

    const expected: ReferralSubmission = {
      agencyReference: 'HC-44/2026/0191',
      referralType: 'victim',
      referrer: { name: 'PC A. Patel', role: 'response officer', phone: '023 9200 0000', email: 'a.patel@example.org' },
      subject: {
        firstName: 'Sam', lastName: 'Taylor', dateOfBirth: '1991-03-14', gender: 'female',
        postcode: 'PO4 8AA', phone: '07700 900123', email: null,
        safeContact: { phone: true, voicemail: false, text: true, email: false, letter: false, notes: 'after 2pm only' },
        language: 'en', interpreterRequired: false, disability: false, policePersonId: null, nhsNumber: null,
      },
      otherParty: { firstName: 'Alex', lastName: 'Taylor', dateOfBirth: '1988-07-01', gender: 'male', relationship: 'intimate-partner', policePersonId: null },
      children: [{ firstName: 'Jo', dateOfBirth: '2016-05-02', livesInHousehold: true, presentAtIncident: true, school: 'Example Primary School' }],
      incident: {
        occurredAt: '2026-11-20T23:10:00Z', policeAttended: true, policeReference: '44260191',
        summary: validVictimReferral().incident.summary,
      },
      riskAssessment: {
        tool: 'DASH',
        answers: dashAnswers(),
        professionalJudgement: { highRisk: false, rationale: null },
        policeCalloutsLast12Months: 1,
        assessedAt: '2026-11-21T01:00:00Z',
      },
      needs: { safeAccommodation: false },
      perpetratorProgramme: null,
      consent: { given: true, lawfulBasis: 'consent', notes: null },
    };
    expect(submission).toStrictEqual(expected);
  });

  it('hands the domain plain objects, never DTO instances', () => {
    const submission = toReferralSubmission(accepted(validVictimReferral()));
    const plain = [submission, submission.subject, submission.subject.safeContact, submission.children[0], submission.riskAssessment, submission.riskAssessment?.answers];
    for (const part of plain) expect(Object.getPrototypeOf(part)).toBe(Object.prototype);
  });

  it('maps the extra identifiers the domain knows when they are given', () => {
    const body = validVictimReferral({
      subject: { email: 'sam@example.org', policePersonId: 'HC-P-1234', nhsNumber: '9434765919' },
      otherParty: { policePersonId: 'HC-P-5678' },
    });
    const submission = toReferralSubmission(accepted(body));
    expect(submission.subject).toMatchObject({ email: 'sam@example.org', policePersonId: 'HC-P-1234', nhsNumber: '9434765919' });
    expect(submission.otherParty?.policePersonId).toBe('HC-P-5678');
  });

  it('accepts a perpetrator referral with a perpetrator programme and no risk assessment', () => {
    const submission = toReferralSubmission(accepted(validPerpetratorReferral()));
    expect(submission.riskAssessment).toBeNull();
    expect(submission.perpetratorProgramme).toStrictEqual({ acknowledgesBehaviour: true, selfReferral: false });
  });

  it('accepts a body with only the required parts, and the mapper settles the rest as null, false or []', () => {
    const body = validVictimReferral({
      referrer: { role: undefined, phone: undefined, email: undefined },
      subject: { postcode: undefined, phone: undefined, language: undefined, interpreterRequired: undefined, disability: undefined, safeContact: { notes: undefined } },
      otherParty: undefined, children: undefined, incident: undefined, needs: undefined, perpetratorProgramme: undefined,
      consent: { notes: undefined },
    });
    const submission = toReferralSubmission(accepted(body));
    expect(submission).toMatchObject({
      referrer: { role: null, phone: null, email: null },
      subject: { postcode: null, phone: null, email: null, language: null, interpreterRequired: false, disability: false, safeContact: { notes: null } },
      otherParty: null, children: [], incident: null, needs: { safeAccommodation: false }, perpetratorProgramme: null,
      consent: { notes: null },
    });
  });

  it('accepts null wherever a part is optional', () => {
    const body = validVictimReferral({ otherParty: null, children: null, incident: null, needs: null, subject: { postcode: null, interpreterRequired: null } });
    expect(toReferralSubmission(accepted(body))).toMatchObject({ otherParty: null, children: [], incident: null, subject: { interpreterRequired: false } });
  });

  it('lists the required top-level fields of an empty body', () => {
    expect(sorted(problemsOf({}))).toEqual([
      { field: 'agencyReference', problem: 'is required' },
      { field: 'consent', problem: 'is required' },
      { field: 'referralType', problem: 'is required' },
      { field: 'referrer', problem: 'is required' },
      { field: 'subject', problem: 'is required' },
    ]);
  });

  it('lists every problem of a body with many, each at its exact path', () => {
    const body = validVictimReferral({
      nickname: 'Sammy',
      subject: { gender: 'woman', dateOfBirth: '2099-01-01' },
      otherParty: { dateOfBirth: '2021-02-30' },
      children: [
        { firstName: 'Jo', dateOfBirth: '2016-05-02', livesInHousehold: true, presentAtIncident: true },
        { firstName: 'Max', livesInHousehold: false, presentAtIncident: false },
      ],
      riskAssessment: {
        answers: { Q7: undefined, Q25: 'yes' },
        professionalJudgement: { highRisk: true, rationale: null },
      },
    });

    expect(sorted(problemsOf(body))).toEqual(sorted([
      { field: 'nickname', problem: 'is not allowed' },
      { field: 'subject.gender', problem: 'must be one of: female, male, non-binary, other, not-known' },
      { field: 'subject.dateOfBirth', problem: 'must not be in the future' },
      { field: 'otherParty.dateOfBirth', problem: 'must be a date YYYY-MM-DD' },
      { field: 'children[1].dateOfBirth', problem: 'is required' },
      { field: 'riskAssessment.answers.Q7', problem: 'is required' },
      { field: 'riskAssessment.answers.Q25', problem: 'is not allowed' },
      { field: 'riskAssessment.professionalJudgement.rationale', problem: 'is required when highRisk is true' },
    ]));
  });

  it('never echoes a submitted value in a problem', () => {
    const everywhere = everyLeaf(validVictimReferral(), SECRET) as ReferralBody;
    everywhere.unknownField = SECRET;
    everywhere.riskAssessment.answers.Q25 = SECRET;
    const tooLong = everyLeaf(validVictimReferral(), SECRET.repeat(400)) as ReferralBody;
    const partsAsText = { ...validVictimReferral(), referrer: SECRET, subject: SECRET, children: [SECRET], consent: SECRET };

    for (const body of [everywhere, tooLong, partsAsText]) {
      const problems = problemsOf(body);
      expect(problems.length).toBeGreaterThan(0);
      expect(JSON.stringify(problems)).not.toContain('Zebedee');
    }
  });

  it('rejects a body that is not a JSON object with one problem about the whole body', () => {
    for (const body of [null, undefined, [], [validVictimReferral()], 'text', 42, true]) {
      expect(problemsOf(body)).toEqual([{ field: '', problem: 'must be a JSON object' }]);
    }
  });

  it('reports a part of the wrong shape once, not each of its fields', () => {
    const body = validVictimReferral({ subject: 'Sam Taylor', children: { first: {} }, incident: [], riskAssessment: { answers: ['yes'] } });
    expect(sorted(problemsOf(body))).toEqual([
      { field: 'children', problem: 'must be an array' },
      { field: 'incident', problem: 'must be an object' },
      { field: 'riskAssessment.answers', problem: 'must be an object' },
      { field: 'subject', problem: 'must be an object' },
    ]);
  });

  it('reports an item of children that is not an object by its index', () => {
    expect(problemsOf(validVictimReferral({ children: ['Jo'] }))).toEqual([{ field: 'children[0]', problem: 'must be an object' }]);
  });

  it('refuses a list inside the list of children, which class-validator alone lets through unchecked', () => {
    const child = validVictimReferral().children![0];
    expect(problemsOf(validVictimReferral({ children: [[child]] }))).toEqual([{ field: 'children', problem: 'must be a list of objects, not of lists' }]);
    expect(problemsOf(validVictimReferral({ children: [child, []] }))).toEqual([{ field: 'children', problem: 'must be a list of objects, not of lists' }]);
  });

  it('refuses the keys class-transformer would drop without a word (__proto__, constructor, prototype), wherever they are', () => {
    const body = JSON.parse(
      JSON.stringify(validVictimReferral()).replace('{', '{"__proto__":{"polluted":true},').replace('"firstName"', '"constructor":{"name":"x"},"firstName"'),
    );
    expect(sorted(problemsOf(body))).toEqual([
      { field: '__proto__', problem: 'is not allowed' },
      { field: 'subject.constructor', problem: 'is not allowed' },
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('lists a reserved key beside the body\'s other problems', () => {
    const body = JSON.parse(JSON.stringify(validVictimReferral({ agencyReference: '' })).replace('{', '{"prototype":1,'));
    expect(sorted(problemsOf(body))).toEqual([
      { field: 'agencyReference', problem: 'must not be blank' },
      { field: 'prototype', problem: 'is not allowed' },
    ]);
  });

  it('refuses half of a UTF-16 pair, which storage would turn into U+FFFD and so make two references one', () => {
    expect(problemsOf(validVictimReferral({ agencyReference: 'REF-\ud800' }))).toEqual([{ field: 'agencyReference', problem: 'must be valid Unicode text' }]);
    expect(problemsOf(validVictimReferral({ subject: { lastName: 'Tay\udfffor' } }))).toEqual([{ field: 'subject.lastName', problem: 'must be valid Unicode text' }]);
    expect(problemsOf(validVictimReferral({ subject: { lastName: 'Tay\u0000lor', firstName: '\u202eSam' } }))).toEqual([
      { field: 'subject.firstName', problem: 'must not contain control characters' },
      { field: 'subject.lastName', problem: 'must not contain control characters' },
    ]);
    accepted(validVictimReferral({ incident: { policeAttended: true, summary: 'Line one\nline two\twith a tab' } }));
    expect(problemsOf(validVictimReferral({ subject: { email: 'sam\u202egro.elpmaxe@example.org' } }))).toEqual([{ field: 'subject.email', problem: 'must be an email address' }]);
    expect(problemsOf(validVictimReferral({ subject: { email: 'sam\u200f@example.org' } }))).toEqual([{ field: 'subject.email', problem: 'must be an email address' }]);
    accepted(validVictimReferral({ agencyReference: 'REF-😀', subject: { lastName: 'Taylor' } }));
  });

  it('applies the string length limits', () => {
    const body = validVictimReferral({
      agencyReference: 'x'.repeat(101),
      referrer: { name: 'x'.repeat(201) },
      subject: { firstName: 'x'.repeat(101), phone: '0'.repeat(31), language: 'x'.repeat(36), safeContact: { notes: 'x'.repeat(501) } },
      incident: { summary: 'x'.repeat(5001), policeReference: 'x'.repeat(51) },
      consent: { notes: 'x'.repeat(2001) },
    });
    expect(sorted(problemsOf(body))).toEqual(sorted([
      { field: 'agencyReference', problem: 'must be at most 100 characters' },
      { field: 'referrer.name', problem: 'must be at most 200 characters' },
      { field: 'subject.firstName', problem: 'must be at most 100 characters' },
      { field: 'subject.phone', problem: 'must be at most 30 characters' },
      { field: 'subject.language', problem: 'must be at most 35 characters' },
      { field: 'subject.safeContact.notes', problem: 'must be at most 500 characters' },
      { field: 'incident.summary', problem: 'must be at most 5000 characters' },
      { field: 'incident.policeReference', problem: 'must be at most 50 characters' },
      { field: 'consent.notes', problem: 'must be at most 2000 characters' },
    ]));
    expect(validateInput(CreateReferralDto, validVictimReferral({ agencyReference: 'x'.repeat(100) })).ok).toBe(true);
  });

  it('refuses a blank required name', () => {
    expect(problemsOf(validVictimReferral({ subject: { lastName: '   ' } }))).toEqual([{ field: 'subject.lastName', problem: 'must not be blank' }]);
  });

  it('accepts at most 20 children, and reports only the count when there are more', () => {
    const child = () => ({ dateOfBirth: '2016-05-02', livesInHousehold: true, presentAtIncident: false });
    expect(validateInput(CreateReferralDto, validVictimReferral({ children: Array.from({ length: 20 }, child) })).ok).toBe(true);

    const children = [...Array.from({ length: 20 }, child), {}];
    expect(problemsOf(validVictimReferral({ children }))).toEqual([{ field: 'children', problem: 'must have at most 20 items' }]);
  });

  it('refuses a body too large or too deep to be a referral before validating it field by field', () => {
    const manyKeys = validVictimReferral();
    for (let i = 0; i < 1000; i += 1) manyKeys[`k${i}`] = 0;
    expect(problemsOf(manyKeys)).toEqual([{ field: '', problem: 'is too large: more than 1000 values' }]);

    const manyChildren = validVictimReferral({ children: Array.from({ length: 50_000 }, () => ({})) });
    expect(problemsOf(manyChildren)).toEqual([{ field: '', problem: 'has a list of more than 100 items' }]);

    let deep: unknown = {};
    for (let i = 0; i < 10_000; i += 1) deep = [deep];
    expect(problemsOf(validVictimReferral({ children: deep }))).toEqual([{ field: '', problem: 'is nested too deeply: more than 16 levels' }]);
  });

  it('requires a risk assessment for victim and child-to-parent referrals', () => {
    for (const referralType of ['victim', 'child-to-parent']) {
      for (const riskAssessment of [undefined, null]) {
        expect(problemsOf(validVictimReferral({ referralType, riskAssessment }))).toEqual([
          { field: 'riskAssessment', problem: 'is required for victim and child-to-parent referrals' },
        ]);
      }
    }
  });

  it('requires all 24 DASH answers, each yes, no or not-known', () => {
    const problems = problemsOf(validVictimReferral({ riskAssessment: { answers: { Q1: 'YES', Q24: undefined } } }));
    expect(sorted(problems)).toEqual([
      { field: 'riskAssessment.answers.Q1', problem: 'must be one of: yes, no, not-known' },
      { field: 'riskAssessment.answers.Q24', problem: 'is required' },
    ]);
    const noAnswers = validVictimReferral();
    noAnswers.riskAssessment.answers = {};
    expect(problemsOf(noAnswers)).toHaveLength(24);
  });

  it('checks the rest of the risk assessment', () => {
    const riskAssessment = { tool: 'SafeLives', policeCalloutsLast12Months: 2.5, assessedAt: inMinutes(60), professionalJudgement: { highRisk: 'yes' } };
    expect(sorted(problemsOf(validVictimReferral({ riskAssessment })))).toEqual([
      { field: 'riskAssessment.assessedAt', problem: 'must not be in the future' },
      { field: 'riskAssessment.policeCalloutsLast12Months', problem: 'must be a whole number from 0 to 365' },
      { field: 'riskAssessment.professionalJudgement.highRisk', problem: 'must be true or false' },
      { field: 'riskAssessment.tool', problem: 'must be one of: DASH' },
    ]);
  });

  it('accepts a high-risk professional judgement with its rationale, and refuses a blank one', () => {
    const judgement = (rationale: string | null) => validVictimReferral({ riskAssessment: { professionalJudgement: { highRisk: true, rationale } } });
    expect(validateInput(CreateReferralDto, judgement('Threats escalated after separation.')).ok).toBe(true);
    expect(problemsOf(judgement(' '))).toEqual([{ field: 'riskAssessment.professionalJudgement.rationale', problem: 'is required when highRisk is true' }]);
  });

  it('requires a perpetrator programme for perpetrator referrals', () => {
    expect(problemsOf(validPerpetratorReferral({ perpetratorProgramme: null }))).toEqual([
      { field: 'perpetratorProgramme', problem: 'is required for perpetrator referrals' },
    ]);
  });

  it('refuses a perpetrator programme on a referral of another type', () => {
    const body = validVictimReferral({ perpetratorProgramme: { acknowledgesBehaviour: true, selfReferral: false } });
    expect(problemsOf(body)).toEqual([{ field: 'perpetratorProgramme', problem: 'is only allowed for perpetrator referrals' }]);
  });

  it('blames only the referral type when it is unknown', () => {
    expect(problemsOf(validVictimReferral({ referralType: 'witness', riskAssessment: undefined }))).toEqual([
      { field: 'referralType', problem: 'must be one of: victim, perpetrator, child-to-parent' },
    ]);
  });

  it('refuses consent as the lawful basis when consent is not given', () => {
    expect(problemsOf(validVictimReferral({ consent: { given: false } }))).toEqual([
      { field: 'consent.lawfulBasis', problem: 'cannot be consent when consent is not given' },
    ]);
    expect(validateInput(CreateReferralDto, validVictimReferral({ consent: { given: false, lawfulBasis: 'safeguarding' } })).ok).toBe(true);
  });

  it('accepts real calendar dates only, none in the future', () => {
    for (const dateOfBirth of ['2021-02-30', '2021-2-3', '14/03/1991', '1991-03-14T00:00:00Z', 19910314]) {
      expect(problemsOf(validVictimReferral({ subject: { dateOfBirth } }))).toEqual([{ field: 'subject.dateOfBirth', problem: 'must be a date YYYY-MM-DD' }]);
    }
    expect(validateInput(CreateReferralDto, validVictimReferral({ subject: { dateOfBirth: '2024-02-29' } })).ok).toBe(true);
  });

  it('accepts instants with an offset only, allowing five minutes of clock skew', () => {
    const occurredAt = (value: unknown) => validVictimReferral({ incident: { occurredAt: value } });
    for (const good of ['2026-11-20T23:10:00Z', '2026-11-20T23:10:00.123+01:00', '2026-11-20T23:10-05:00', inMinutes(4)]) {
      expect(validateInput(CreateReferralDto, occurredAt(good)).ok).toBe(true);
    }
    for (const bad of ['2026-11-20T23:10:00', '2026-11-20', '2026-11-20 23:10:00Z', '2026-02-30T10:00:00Z', '2026-11-20T24:00:00Z']) {
      expect(problemsOf(occurredAt(bad))).toEqual([
        { field: 'incident.occurredAt', problem: 'must be an ISO 8601 instant with offset, e.g. 2026-11-21T01:00:00Z' },
      ]);
    }
    expect(problemsOf(occurredAt(inMinutes(10)))).toEqual([{ field: 'incident.occurredAt', problem: 'must not be in the future' }]);
  });

  it('checks postcodes loosely, NHS numbers as ten digits and emails as emails', () => {
    for (const postcode of ['PO4 8AA', 'po48aa', 'SW1A 1AA', 'M1 1AE']) {
      expect(validateInput(CreateReferralDto, validVictimReferral({ subject: { postcode } })).ok).toBe(true);
    }
    const body = validVictimReferral({ subject: { postcode: 'Portsmouth', nhsNumber: '943 476 5919', email: 'sam at example' }, referrer: { email: 'nope' } });
    expect(sorted(problemsOf(body))).toEqual([
      { field: 'referrer.email', problem: 'must be an email address' },
      { field: 'subject.email', problem: 'must be an email address' },
      { field: 'subject.nhsNumber', problem: 'must be 10 digits' },
      { field: 'subject.postcode', problem: 'must be a UK postcode' },
    ]);
  });

  it('requires every safe-contact flag, because contacting a victim unsafely can escalate the abuse', () => {
    const problems = problemsOf(validVictimReferral({ subject: { safeContact: { voicemail: undefined, letter: 'no' } } }));
    expect(sorted(problems)).toEqual([
      { field: 'subject.safeContact.letter', problem: 'must be true or false' },
      { field: 'subject.safeContact.voicemail', problem: 'is required' },
    ]);
  });

  it('names an unknown nested field by its full path', () => {
    expect(problemsOf(validVictimReferral({ subject: { safeContact: { pigeon: true } } }))).toEqual([
      { field: 'subject.safeContact.pigeon', problem: 'is not allowed' },
    ]);
  });
});

describe('the body of POST /v1/referrals/:id/reassessments', () => {
  it('accepts a risk assessment and maps it to the domain one', () => {
    const result = validateInput(ReassessmentDto, { riskAssessment: validRiskAssessment({ policeCalloutsLast12Months: 3 }) });
    if (!result.ok) throw new Error(JSON.stringify(result.details));
    expect(toRiskAssessment(result.value.riskAssessment)).toStrictEqual({
      tool: 'DASH',
      answers: dashAnswers(),
      professionalJudgement: { highRisk: false, rationale: null },
      policeCalloutsLast12Months: 3,
      assessedAt: '2026-11-21T01:00:00Z',
    });
  });

  it('requires the risk assessment and nothing else', () => {
    expect(sorted(problemsOf({ referralType: 'victim' }, ReassessmentDto))).toEqual([
      { field: 'referralType', problem: 'is not allowed' },
      { field: 'riskAssessment', problem: 'is required' },
    ]);
  });
});

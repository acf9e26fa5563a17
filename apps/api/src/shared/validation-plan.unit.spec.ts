import { CloseCaseDto, ContactAttemptDto, DeclineCaseDto, TransferCaseDto } from '../cases/case.dto';
import { CreatePrincipalDto } from '../principals/principal.dto';
import { ConsentUpdateDto, CreateReferralDto, ReassessmentDto } from '../referrals/referral.dto';
import { validPerpetratorReferral, validRiskAssessment, validVictimReferral, type ReferralBody } from '../referrals/referral.fixtures';
import { validateWithClassValidator } from './validation';
import { surelyValid } from './validation-plan';

// The compiled filter may say "not sure" where class-validator accepts (it then asks class-validator), but it must
// never accept a body class-validator rejects: that would let a bad referral in.

/** A small seeded generator, so a failure names a case that can be run again. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const REPLACEMENTS: unknown[] = [
  undefined, null, '', ' ', 'x'.repeat(3000), 'not-known', 'yes', 'victim', 'perpetrator', 'child-to-parent', 'consent',
  'safeguarding', 'female', 'intimate-partner', '2099-01-01', '2021-02-30', '1850-01-01', '2026-11-21T01:00:00Z',
  '2026-11-21T01:00:00', 'PO4 8AA', 'a@b.example', 0, -1, 3, 1.5, 100000, true, false, {}, [], [{}], [[]], ['x'],
  { unexpected: true },
];

function paths(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (typeof value !== 'object' || value === null) return [prefix];
  const own = Array.isArray(value) ? value.map((_, index) => index) : Object.keys(value);
  return [prefix, ...own.flatMap((key) => paths((value as Record<string | number, unknown>)[key], [...prefix, key]))];
}

// As a request body arrives: parsed JSON of this realm (structuredClone's objects come from Jest's outer one).
const clone = <T>(value: T): T => (value === undefined ? value : JSON.parse(JSON.stringify(value)));

function mutate(body: ReferralBody, path: Array<string | number>, replacement: unknown): ReferralBody {
  const copy = clone(body);
  if (path.length === 0) return copy;
  let parent: any = copy;
  for (const key of path.slice(0, -1)) parent = parent[key];
  const last = path[path.length - 1];
  if (replacement === undefined && !Array.isArray(parent)) delete parent[last];
  else parent[last] = clone(replacement);
  return copy;
}

function addUnknownKey(body: ReferralBody, path: Array<string | number>): ReferralBody {
  const copy = clone(body);
  let target: any = copy;
  for (const key of path) target = target[key];
  if (typeof target === 'object' && target !== null && !Array.isArray(target)) target.surprise = 1;
  return copy;
}

function corpus(valid: ReferralBody[], seed: number, pairs: number): ReferralBody[] {
  const next = random(seed);
  const out: ReferralBody[] = [...valid];
  // Every single change of the first example; a sample of them for the others, which share most of its fields.
  valid.forEach((body, index) => {
    for (const path of paths(body)) {
      out.push(addUnknownKey(body, path));
      for (const replacement of REPLACEMENTS) if (index === 0 || next() < 0.15) out.push(mutate(body, path, replacement));
    }
  });
  // Two changes at once, for rules that tie fields together (high risk needs a rationale, a type needs its part).
  for (let n = 0; n < pairs; n += 1) {
    const base = valid[Math.floor(next() * valid.length)];
    const first = paths(base);
    const once = mutate(base, first[Math.floor(next() * first.length)], REPLACEMENTS[Math.floor(next() * REPLACEMENTS.length)]);
    const second = paths(once);
    out.push(mutate(once, second[Math.floor(next() * second.length)], REPLACEMENTS[Math.floor(next() * REPLACEMENTS.length)]));
  }
  return out;
}

const referrals = [
  validVictimReferral(),
  validPerpetratorReferral(),
  validVictimReferral({ referralType: 'child-to-parent', otherParty: { relationship: 'child', dateOfBirth: '2010-02-01' } }),
  validVictimReferral({ riskAssessment: { professionalJudgement: { highRisk: true, rationale: 'escalating threats' } } }),
  validVictimReferral({ consent: { given: false, lawfulBasis: 'vital-interests', notes: 'high risk' }, children: [] }),
];

const cases: Array<[string, Function, ReferralBody[]]> = [
  ['a referral', CreateReferralDto, referrals],
  ['a reassessment', ReassessmentDto, [{ riskAssessment: validRiskAssessment() }, { riskAssessment: validRiskAssessment({ policeCalloutsLast12Months: 4 }) }]],
  ['a consent update', ConsentUpdateDto, [{ consent: { given: true, lawfulBasis: 'consent', notes: null } }, { consent: { given: false, lawfulBasis: 'safeguarding' } }]],
  ['a contact attempt', ContactAttemptDto, [{ outcome: 'no-answer', note: null }, { outcome: 'contacted' }]],
  ['a decline', DeclineCaseDto, [{ reason: 'out of area' }]],
  ['a transfer', TransferCaseDto, [{ toProvision: 'outreach', reason: 'needs outreach' }]],
  ['a closure', CloseCaseDto, [{ outcome: 'engaged-risk-reduced', note: 'safety plan agreed' }]],
  ['a principal', CreatePrincipalDto, [{ role: 'referrer', name: 'Desk', agency: 'hampshire-police' }, { role: 'caseworker', name: 'IDVA', provision: 'idva' }, { role: 'auditor', name: 'Board' }]],
];

describe('the compiled validation filter', () => {
  it.each(cases)('accepts every valid example of %s without asking class-validator', (_, cls, valid) => {
    for (const body of valid) {
      expect(validateWithClassValidator(cls as new () => object, body)).toMatchObject({ ok: true });
      expect(surelyValid(cls, body)).toBe(true);
    }
  });

  it.each(cases)('never accepts %s that class-validator rejects', (name, cls, valid) => {
    const bodies = corpus(valid, name.length, 1500);
    let rejected = 0;
    let confirmed = 0;
    const accepted: string[] = [];
    for (const body of bodies) {
      const reference = validateWithClassValidator(cls as new () => object, body).ok;
      if (!reference) rejected += 1;
      const fast = surelyValid(cls, body);
      if (fast) confirmed += 1;
      if (fast && !reference) accepted.push(JSON.stringify(body));
    }
    expect(accepted).toEqual([]);
    // The corpus must hold plenty of bad bodies, or this test could not fail.
    expect(rejected).toBeGreaterThan(bodies.length / 3);
    // And plenty of good ones that the filter confirms on its own, or it would save nothing.
    expect(confirmed).toBeGreaterThan((bodies.length - rejected) / 2);
  });

  it('answers "not sure" for what it does not model, leaving the answer to class-validator', () => {
    class Instance {}
    expect(surelyValid(CreateReferralDto, Object.assign(new Instance(), validVictimReferral()))).toBe(false);
    expect(surelyValid(CreateReferralDto, validVictimReferral({ children: [[validVictimReferral().children[0]]] }))).toBe(false);
  });
});

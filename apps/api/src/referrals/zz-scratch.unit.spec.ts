import { validateInput } from '../shared/validation';
import { CreateReferralDto } from './referral.dto';
import { validVictimReferral } from './referral.fixtures';
it('explores', () => {
  const show = (b: unknown) => console.log(JSON.stringify(validateInput(CreateReferralDto, b), null, 1));
  show(validVictimReferral());
  show({});
  show(validVictimReferral({ subject: 'x', referrer: [], children: { a: 1 }, otherParty: 5, consent: null, incident: [1,2], extra: 1, riskAssessment: { answers: [ 'yes' ], professionalJudgement: 'x' } }));
  show(validVictimReferral({ children: ['x', null, { dateOfBirth: '2099-01-01', extra: 'Zebedee' }], riskAssessment: { answers: { Q25: 'yes', Q1: undefined, Q2: 'maybe' }, professionalJudgement: { highRisk: true } } }));
  const b = validVictimReferral(); b.__proto__x = 1; b['constructor'] = 3;
  show(JSON.parse('{"__proto__": {"a":1}, "agencyReference": "x"}'));
});

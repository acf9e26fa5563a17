import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parsePolicy, type RoutingPolicy } from '../policy/policy';
import { specFor } from '../testing/given-when-then';
import { referralDecider, type ReferralEvent } from './referral.decider';
import type { ReferralSubmission, RiskAssessment } from './referral.types';

// The repository's policy: its thresholds are 14 (high) and 10 (medium), with 3 call-outs for escalation.
const policy: RoutingPolicy = parsePolicy(JSON.parse(readFileSync(path.resolve(__dirname, '../../../../policies/portsmouth-2026-1.json'), 'utf8')));
const spec = specFor(referralDecider);

function checklist(yes: number): RiskAssessment {
  const answers: RiskAssessment['answers'] = {};
  for (let n = 1; n <= 24; n += 1) answers[`Q${n}`] = n <= yes ? 'yes' : 'no';
  return { tool: 'DASH', answers, professionalJudgement: { highRisk: false, rationale: null }, policeCalloutsLast12Months: 0, assessedAt: '2026-11-21T01:00:00Z' };
}

function submission(overrides: Partial<ReferralSubmission> = {}): ReferralSubmission {
  return {
    agencyReference: 'HC-44/2026/0191',
    referralType: 'victim',
    referrer: { name: 'PC A. Patel', role: 'response officer', phone: null, email: null },
    subject: {
      firstName: 'Sam', lastName: 'Taylor', dateOfBirth: '1991-03-14', gender: 'female', postcode: 'PO4 8AA', phone: null, email: null,
      safeContact: { phone: true, voicemail: false, text: true, email: false, letter: false, notes: null },
      language: 'en', interpreterRequired: false, disability: false, policePersonId: null, nhsNumber: null,
    },
    otherParty: null,
    children: [],
    incident: null,
    riskAssessment: checklist(15),
    needs: { safeAccommodation: false },
    perpetratorProgramme: null,
    consent: { given: true, lawfulBasis: 'consent', notes: null },
    ...overrides,
  };
}

const receive = (body: ReferralSubmission) => ({
  type: 'ReceiveReferral' as const,
  data: { referralId: 'r-1', agency: 'hampshire-police', submission: body, submissionDigest: 'digest', receivedAt: '2026-11-21T02:00:00.000Z', policy },
});

function received(body: ReferralSubmission): ReferralEvent {
  return {
    type: 'ReferralReceived',
    data: { referralId: 'r-1', agency: 'hampshire-police', agencyReference: body.agencyReference, referralType: body.referralType, receivedAt: '2026-11-21T02:00:00.000Z', submissionDigest: 'digest', subjectGender: body.subject.gender, submission: body,
      contact: { firstName: body.subject.firstName, lastName: body.subject.lastName, phone: body.subject.phone, safeContact: body.subject.safeContact } },
  };
}

describe('the referral decider', () => {
  it('receives a victim referral and assesses its risk with the policy that set the thresholds', () => {
    const body = submission();
    spec.given([]).when(receive(body)).then([
      received(body),
      {
        type: 'RiskAssessed',
        data: { referralId: 'r-1', assessmentNumber: 0, dashScore: 15, level: 'high', criteria: ['dash-score>=14'], policyId: 'portsmouth-2026-1', inputs: { dashScore: 15, professionalJudgementHigh: false, policeCallouts: 0 }, assessedAt: '2026-11-21T01:00:00Z', assessment: body.riskAssessment! },
      },
    ]);
  });

  it('receives a perpetrator referral without a risk assessment', () => {
    const body = submission({ referralType: 'perpetrator', riskAssessment: null, perpetratorProgramme: { acknowledgesBehaviour: true, selfReferral: false } });
    spec.given([]).when(receive(body)).then([received(body)]);
  });

  it("records the subject's gender beside the sealed submission, so reports count it without opening personal data", () => {
    const body = submission({ subject: { ...submission().subject, gender: 'male' } });
    spec.given([]).when(receive(body)).thenMatches([{ type: 'ReferralReceived', data: { subjectGender: 'male' } }, { type: 'RiskAssessed' }]);
  });

  it('refuses to receive the same referral twice', () => {
    const body = submission();
    spec.given([received(body)]).when(receive(body)).thenThrows('conflict');
  });

  it('reassesses a received referral as the next assessment, with the new level', () => {
    const body = submission();
    spec
      .given([received(body), referralDecider.decide(receive(body), { status: 'none' })[1]])
      .when({ type: 'ReassessRisk', data: { referralId: 'r-1', riskAssessment: checklist(11), reassessedAt: '2026-11-22T10:00:00Z', policy } })
      .thenMatches([{ type: 'RiskAssessed', data: { assessmentNumber: 1, dashScore: 11, level: 'medium', criteria: ['dash-score>=10'] } }]);
  });

  it('records the needs a reassessment brings before its assessment, and refuses a checklist older than the latest', () => {
    const body = submission();
    const history = [received(body), referralDecider.decide(receive(body), { status: 'none' })[1]];
    const reassess = (assessedAt: string) => ({
      type: 'ReassessRisk' as const,
      data: { referralId: 'r-1', riskAssessment: { ...checklist(11), assessedAt }, reassessedAt: '2026-11-22T10:00:00Z', policy, needs: { safeAccommodation: true } },
    });
    spec.given(history).when(reassess('2026-11-22T09:00:00Z')).thenMatches([
      { type: 'NeedsRecorded', data: { referralId: 'r-1', needs: { safeAccommodation: true }, recordedAt: '2026-11-22T10:00:00Z' } },
      { type: 'RiskAssessed', data: { assessmentNumber: 1 } },
    ]);
    const latest = history[1].data as { assessedAt: string };
    spec.given(history).when(reassess('2020-01-01T09:00:00Z')).thenThrows('invalid', /earlier than the checklist it would replace/);
    spec.given(history).when(reassess(latest.assessedAt)).thenMatches([{ type: 'NeedsRecorded' }, { type: 'RiskAssessed' }]);
    // Compared as instants: the intake's 01:00Z is 02:00 at +01:00, and 01:00:00.500Z is after 01:00:00Z.
    expect(latest.assessedAt).toBe('2026-11-21T01:00:00Z');
    spec.given(history).when(reassess('2026-11-21T01:30:00+01:00')).thenThrows('invalid', /earlier than the checklist/);
    spec.given(history).when(reassess('2026-11-21T02:30:00+01:00')).thenMatches([{ type: 'NeedsRecorded' }, { type: 'RiskAssessed' }]);
    spec.given(history).when(reassess('2026-11-21T01:00:00.500Z')).thenMatches([{ type: 'NeedsRecorded' }, { type: 'RiskAssessed' }]);
  });

  it("lets only the referrer or the refuge take back the need for safe accommodation (that ends a refuge stay); any routed provision may add it", () => {
    const body = submission({ needs: { safeAccommodation: true } });
    const history = [received(body), referralDecider.decide(receive(body), { status: 'none' })[1]];
    const by = (safeAccommodation: boolean, byProvision?: 'refuge' | 'mash') =>
      ({ type: 'ReassessRisk' as const, data: { referralId: 'r-1', riskAssessment: checklist(15), reassessedAt: '2026-11-22T10:00:00Z', policy, byProvision, needs: { safeAccommodation } } });
    spec.given(history).when(by(false, 'mash')).thenThrows('not-allowed', /only the referring agency or the refuge/);
    spec.given(history).when(by(false, 'refuge')).thenMatches([{ type: 'NeedsRecorded', data: { needs: { safeAccommodation: false } } }, { type: 'RiskAssessed' }]);
    spec.given(history).when(by(false)).thenMatches([{ type: 'NeedsRecorded' }, { type: 'RiskAssessed' }]);
    const without = [received(submission()), referralDecider.decide(receive(submission()), { status: 'none' })[1]];
    spec.given(without).when(by(true, 'mash')).thenMatches([{ type: 'NeedsRecorded', data: { needs: { safeAccommodation: true } } }, { type: 'RiskAssessed' }]);
  });

  it('reassesses, or records consent on, a referral the router could not decide (the way such a referral moves on)', () => {
    const body = submission();
    const failed: ReferralEvent = { type: 'RoutingFailed', data: { referralId: 'r-1', failedAt: '2026-11-21T02:00:01Z', errorKind: 'TypeError', onEventType: 'RiskAssessed' } };
    const history = [received(body), referralDecider.decide(receive(body), { status: 'none' })[1], failed];
    spec
      .given(history)
      .when({ type: 'ReassessRisk', data: { referralId: 'r-1', riskAssessment: checklist(11), reassessedAt: '2026-11-22T10:00:00Z', policy } })
      .thenMatches([{ type: 'RiskAssessed', data: { assessmentNumber: 1, level: 'medium' } }]);
    spec
      .given(history)
      .when({ type: 'RecordConsent', data: { referralId: 'r-1', consent: { given: true, lawfulBasis: 'consent', notes: null }, recordedAt: '2026-11-22T09:00:00.000Z' } })
      .thenMatches([{ type: 'ConsentRecorded' }]);
  });

  it('needs the referrer\'s reason when a high-risk referral goes ahead without consent, at receipt and when consent is withdrawn', () => {
    const withheld = (notes: string | null) => ({ given: false, lawfulBasis: 'vital-interests' as const, notes });
    spec.given([]).when(receive(submission({ consent: withheld(null) }))).thenThrows('invalid', /required when a high-risk referral goes ahead without consent/);
    spec.given([]).when(receive(submission({ consent: withheld('   ') }))).thenThrows('invalid');
    spec.given([]).when(receive(submission({ consent: withheld('she fears for her life; MARAC must hear it') }))).thenMatches([{ type: 'ReferralReceived' }, { type: 'RiskAssessed', data: { level: 'high' } }]);
    // Below high risk the route waits for consent instead: there is nothing to justify.
    spec.given([]).when(receive(submission({ riskAssessment: checklist(11), consent: withheld(null) }))).thenMatches([{ type: 'ReferralReceived' }, { type: 'RiskAssessed', data: { level: 'medium' } }]);

    const body = submission();
    const high = [received(body), referralDecider.decide(receive(body), { status: 'none' })[1]];
    const withdraw = (notes: string | null) => ({ type: 'RecordConsent' as const, data: { referralId: 'r-1', consent: withheld(notes), recordedAt: '2026-11-22T09:00:00.000Z' } });
    spec.given(high).when(withdraw(null)).thenThrows('invalid');
    spec.given(high).when(withdraw('withdrawn by phone; risk still high')).thenMatches([{ type: 'ConsentRecorded', data: { given: false } }]);
  });

  it('lets only the referring agency or the IDVA lower a high-risk referral; any provision routed to may raise it', () => {
    const body = submission();
    const high = [received(body), referralDecider.decide(receive(body), { status: 'none' })[1]];
    const by = (yes: number, byProvision?: 'idva' | 'ypva' | 'mash') => ({ type: 'ReassessRisk' as const, data: { referralId: 'r-1', riskAssessment: checklist(yes), reassessedAt: '2026-11-22T10:00:00Z', policy, byProvision } });
    spec.given(high).when(by(0, 'mash')).thenThrows('not-allowed', /only the referring agency or the IDVA/);
    spec.given(high).when(by(0, 'idva')).thenMatches([{ type: 'RiskAssessed', data: { level: 'standard' } }]);
    // The YPVA works a 16–17-year-old's risk beside the IDVA: lowering it is not the YPVA's alone.
    spec.given(high).when(by(0, 'ypva')).thenThrows('not-allowed');
    spec.given(high).when(by(0)).thenMatches([{ type: 'RiskAssessed', data: { level: 'standard' } }]);
    spec.given(high).when(by(16, 'mash')).thenMatches([{ type: 'RiskAssessed', data: { level: 'high' } }]);
    const medium = [received(body), referralDecider.decide(receive(submission({ riskAssessment: checklist(11) })), { status: 'none' })[1]];
    spec.given(medium).when(by(0, 'mash')).thenMatches([{ type: 'RiskAssessed', data: { level: 'standard' } }]);
  });

  it('refuses to reassess a referral that does not exist or a perpetrator referral', () => {
    const reassess = { type: 'ReassessRisk' as const, data: { referralId: 'r-1', riskAssessment: checklist(3), reassessedAt: '2026-11-22T10:00:00Z', policy } };
    spec.given([]).when(reassess).thenThrows('not-found');
    const perpetrator = submission({ referralType: 'perpetrator', riskAssessment: null, perpetratorProgramme: { acknowledgesBehaviour: false, selfReferral: true } });
    spec.given([received(perpetrator)]).when(reassess).thenThrows('invalid-transition');
  });
  it('records consent given later, for the router to decide again, and refuses it for a referral that does not exist', () => {
    const body = submission();
    const consent = { given: true, lawfulBasis: 'consent' as const, notes: 'by phone' };
    spec.given([received(body)]).when({ type: 'RecordConsent', data: { referralId: 'r-1', consent, recordedAt: '2026-11-22T09:00:00.000Z' } })
      .then([{ type: 'ConsentRecorded', data: { referralId: 'r-1', given: true, lawfulBasis: 'consent', recordedAt: '2026-11-22T09:00:00.000Z', notes: 'by phone' } }]);
    spec.given([]).when({ type: 'RecordConsent', data: { referralId: 'r-9', consent, recordedAt: '2026-11-22T09:00:00.000Z' } }).thenThrows('not-found');
  });

  describe('erasure', () => {
    const erase = (referralId = 'r-1') => ({ type: 'EraseReferral' as const, data: { referralId, reason: 'made-in-error' as const, erasedAt: '2026-11-23T09:00:00.000Z' } });
    const erased: ReferralEvent = { type: 'ReferralErased', data: { referralId: 'r-1', reason: 'made-in-error', erasedAt: '2026-11-23T09:00:00.000Z' } };

    it('records why a referral was erased, and nothing of what it held', () => {
      spec.given([received(submission())]).when(erase()).then([erased]);
    });

    it('refuses to erase a referral that does not exist, or one already erased', () => {
      spec.given([]).when(erase('r-9')).thenThrows('not-found');
      spec.given([received(submission()), erased]).when(erase()).thenThrows('invalid-transition', /erased/);
    });

    it('refuses a reassessment or a consent once the personal data is erased: nothing is left to route on', () => {
      const history = [received(submission()), erased];
      spec.given(history).when({ type: 'ReassessRisk', data: { referralId: 'r-1', riskAssessment: checklist(15), reassessedAt: '2026-11-23T10:00:00Z', policy } }).thenThrows('invalid-transition');
      spec.given(history).when({ type: 'RecordConsent', data: { referralId: 'r-1', consent: { given: true, lawfulBasis: 'consent', notes: null }, recordedAt: '2026-11-23T10:00:00Z' } }).thenThrows('invalid-transition');
    });
  });
});

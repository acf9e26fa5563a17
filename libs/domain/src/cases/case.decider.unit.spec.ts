import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parsePolicy, type ProvisionId } from '../policy/policy';
import type { ReferralType } from '../referrals/referral.types';
import type { CaseOpened } from '../routing/referral-routed';
import { specFor } from '../testing/given-when-then';
import { caseDecider, caseOpenedElsewhere, type CaseEvent } from './case.decider';

const policy = parsePolicy(JSON.parse(readFileSync(path.resolve(__dirname, '../../../../policies/portsmouth-2026-1.json'), 'utf8')));

/** What the handler looks up for a transfer: a victim's referral (a 16-year-old's, so that every band but the child's is open), with no other case open. */
const asVictim = { referralType: 'victim' as const, openAt: [], consentGiven: true, ages: { subject: 16, otherParty: null }, policy };
const spec = specFor(caseDecider);
const at = '2026-11-24T10:00:00.000Z'; // a Tuesday

function opened(overrides: Partial<CaseOpened['data']> = {}): CaseOpened {
  return {
    type: 'CaseOpened',
    data: {
      caseId: 'c-1', referralId: 'r-1', provision: 'idva', ruleIds: ['high-risk'], status: 'routed', riskLevel: 'high',
      repeat: false, hasChildren: true, routedAt: '2026-11-23T09:00:00.000Z', dueBy: '2026-11-24T09:00:00.000Z', decisionNumber: 0,
      ...overrides,
    },
  };
}
const claimed: CaseEvent = { type: 'CaseClaimed', data: { caseId: 'c-1', assignee: 'worker-1', claimedAt: at } };
const declined: CaseEvent = { type: 'CaseDeclined', data: { caseId: 'c-1', reason: 'not for us', declinedAt: at } };

describe('the case lifecycle', () => {
  it('lets a caseworker claim an awaiting case, which makes it active with them as assignee', () => {
    spec.given([opened()]).when({ type: 'ClaimCase', data: { caseId: 'c-1', assignee: 'worker-1', at } }).then([claimed]);
  });

  it('refuses a second claim: the case is already active', () => {
    spec.given([opened(), claimed]).when({ type: 'ClaimCase', data: { caseId: 'c-1', assignee: 'worker-2', at } }).thenThrows('invalid-transition', /active cannot be claimed/);
  });

  it('lets a waitlisted refuge case be claimed (the victim hears what is being done) but not one held for consent', () => {
    spec.given([opened({ provision: 'refuge', status: 'waitlisted' })]).when({ type: 'ClaimCase', data: { caseId: 'c-1', assignee: 'w', at } }).thenMatches([{ type: 'CaseClaimed' }]);
    spec.given([opened({ provision: 'outreach', status: 'held-awaiting-consent', dueBy: null })]).when({ type: 'ClaimCase', data: { caseId: 'c-1', assignee: 'w', at } }).thenThrows('invalid-transition', /consent/);
  });

  it("refuses to decline or transfer a case held for consent: either would route the person on without it", () => {
    const held = opened({ provision: 'outreach', ruleIds: ['medium-risk'], status: 'held-awaiting-consent', riskLevel: 'medium', dueBy: null });
    spec.given([held]).when({ type: 'DeclineCase', data: { caseId: 'c-1', reason: 'not for us', at } }).thenThrows('invalid-transition', /held until the victim's consent is recorded/);
    spec.given([held]).when({ type: 'TransferCase', data: { caseId: 'c-1', toProvision: 'victim-support', toCaseId: 'c-2', reason: 'x', at, ...asVictim } })
      .thenThrows('invalid-transition', /held until the victim's consent is recorded/);
  });

  it('records contact attempts only on an active case', () => {
    spec.given([opened(), claimed]).when({ type: 'RecordContactAttempt', data: { caseId: 'c-1', outcome: 'no-answer', note: null, at } })
      .then([{ type: 'ContactAttempted', data: { caseId: 'c-1', outcome: 'no-answer', note: null, attemptedAt: at } }]);
    spec.given([opened()]).when({ type: 'RecordContactAttempt', data: { caseId: 'c-1', outcome: 'contacted', note: null, at } }).thenThrows('invalid-transition', /awaiting cannot be given a contact attempt/);
  });

  it('declines from awaiting or active, never twice', () => {
    spec.given([opened()]).when({ type: 'DeclineCase', data: { caseId: 'c-1', reason: 'not for us', at } }).then([declined]);
    spec.given([opened(), claimed]).when({ type: 'DeclineCase', data: { caseId: 'c-1', reason: 'not for us', at } }).then([declined]);
    spec.given([opened(), declined]).when({ type: 'DeclineCase', data: { caseId: 'c-1', reason: 'again', at } }).thenThrows('invalid-transition');
  });

  it('transfers to another provision, but not to itself and not into the refuge waitlist', () => {
    spec.given([opened()]).when({ type: 'TransferCase', data: { caseId: 'c-1', toProvision: 'outreach', toCaseId: 'c-2', reason: 'medium now', at, ...asVictim } })
      .then([{ type: 'CaseTransferred', data: { caseId: 'c-1', toProvision: 'outreach', toCaseId: 'c-2', reason: 'medium now', transferredAt: at } }]);
    spec.given([opened()]).when({ type: 'TransferCase', data: { caseId: 'c-1', toProvision: 'idva', toCaseId: 'c-2', reason: 'x', at, ...asVictim } }).thenThrows('invalid-transition', /own provision/);
    spec.given([opened()]).when({ type: 'TransferCase', data: { caseId: 'c-1', toProvision: 'refuge', toCaseId: 'c-2', reason: 'x', at, ...asVictim } }).thenThrows('invalid-transition', /refuge places/);
  });

  it('transfers only where routing could have sent the person: no victim to Up2U, no perpetrator to a victim service, no second open case', () => {
    const transfer = (toProvision: ProvisionId, referralType: ReferralType, openAt: ProvisionId[] = []) =>
      ({ type: 'TransferCase' as const, data: { caseId: 'c-1', toProvision, toCaseId: 'c-2', reason: 'x', at, ...asVictim, referralType, openAt, ages: { subject: 40, otherParty: 12 } } });
    spec.given([opened({ provision: 'outreach' })]).when(transfer('up2u', 'victim')).thenThrows('invalid-transition', /Up2U works with the person who uses abusive behaviour/);
    spec.given([opened({ provision: 'outreach' })]).when(transfer('whos-in-charge', 'victim')).thenThrows('invalid-transition', /not a child-to-parent referral/);
    spec.given([opened({ provision: 'outreach' })]).when(transfer('whos-in-charge', 'child-to-parent')).thenMatches([{ type: 'CaseTransferred' }]);
    spec.given([opened({ provision: 'up2u', ruleIds: ['perpetrator'], riskLevel: null })]).when(transfer('idva', 'perpetrator')).thenThrows('invalid-transition', /worked by Up2U alone/);
    spec.given([opened()]).when(transfer('mash', 'victim', ['idva', 'mash'])).thenThrows('invalid-transition', /already has an open case at mash/);
    spec.given([opened()]).when(transfer('outreach', 'victim', ['idva', 'mash'])).thenMatches([{ type: 'CaseTransferred' }]);
  });

  it("transfers a person who has not consented only where routing would take them without it: MASH, or the IDVA or YPVA at high risk", () => {
    const withoutConsent = (toProvision: ProvisionId) =>
      ({ type: 'TransferCase' as const, data: { caseId: 'c-1', toProvision, toCaseId: 'c-2', reason: 'x', at, ...asVictim, consentGiven: false } });
    spec.given([opened()]).when(withoutConsent('outreach')).thenThrows('invalid-transition', /has not consented, and outreach is a voluntary service/);
    spec.given([opened()]).when(withoutConsent('ypva')).thenMatches([{ type: 'CaseTransferred' }]);
    spec.given([opened({ provision: 'mash', riskLevel: 'medium', ruleIds: ['children-in-household'] })]).when(withoutConsent('idva')).thenThrows('invalid-transition', /has not consented/);
    spec.given([opened({ provision: 'ypva', ruleIds: ['young-person'] })]).when(withoutConsent('mash')).thenMatches([{ type: 'CaseTransferred' }]);
  });

  it("transfers only within routing's age bands: a child under 13 to MASH alone, 13–17 to the YPVA, 16 and over to the risk routes", () => {
    const transfer = (toProvision: ProvisionId, subject: number | null, otherParty: number | null = null, referralType: ReferralType = 'victim') =>
      ({ type: 'TransferCase' as const, data: { caseId: 'c-1', toProvision, toCaseId: 'c-2', reason: 'x', at, ...asVictim, referralType, ages: { subject, otherParty } } });
    const atMash = opened({ provision: 'mash', ruleIds: ['child-under-13'] });
    spec.given([atMash]).when(transfer('ypva', 12)).thenThrows('invalid-transition', /a child under 13 is worked by children's safeguarding \(MASH\) alone/);
    spec.given([atMash]).when(transfer('idva', 12)).thenThrows('invalid-transition', /MASH\) alone/);
    spec.given([opened()]).when(transfer('ypva', 18)).thenThrows('invalid-transition', /works with people aged 13 to 17/);
    spec.given([opened()]).when(transfer('ypva', 17)).thenMatches([{ type: 'CaseTransferred' }]);
    const atYpva = opened({ provision: 'ypva', ruleIds: ['young-person'] });
    for (const adultService of ['idva', 'outreach', 'victim-support'] as const) {
      spec.given([atYpva]).when(transfer(adultService, 15)).thenThrows('invalid-transition', new RegExp(`${adultService} works with people aged 16 and over`));
    }
    spec.given([atYpva]).when(transfer('outreach', 16)).thenMatches([{ type: 'CaseTransferred' }]);
    spec.given([atYpva]).when(transfer('mash', 14)).thenMatches([{ type: 'CaseTransferred' }]);
    const parent = opened({ provision: 'outreach', ruleIds: ['medium-risk'] });
    spec.given([parent]).when(transfer('whos-in-charge', 40, 6, 'child-to-parent')).thenThrows('invalid-transition', /parents of children aged 8 to 18/);
    spec.given([parent]).when(transfer('whos-in-charge', 40, 12, 'child-to-parent')).thenMatches([{ type: 'CaseTransferred' }]);
    spec.given([parent]).when(transfer('whos-in-charge', 40, null, 'child-to-parent')).thenThrows('invalid-transition', /the child's age is not known/);
    // A decision that recorded no age (none is known) does not stop the move.
    spec.given([opened()]).when(transfer('ypva', null)).thenMatches([{ type: 'CaseTransferred' }]);
  });

  it('closes only an active case, with its outcome', () => {
    spec.given([opened(), claimed]).when({ type: 'CloseCase', data: { caseId: 'c-1', outcome: 'engaged-risk-reduced', note: 'safety plan', at } })
      .then([{ type: 'CaseClosed', data: { caseId: 'c-1', outcome: 'engaged-risk-reduced', note: 'safety plan', closedAt: at } }]);
    spec.given([opened()]).when({ type: 'CloseCase', data: { caseId: 'c-1', outcome: 'other', note: null, at } }).thenThrows('invalid-transition', /awaiting cannot be closed/);
  });

  it('allows nothing on a closed, transferred or superseded case', () => {
    const closed: CaseEvent = { type: 'CaseClosed', data: { caseId: 'c-1', outcome: 'other', note: null, closedAt: at } };
    const superseded: CaseEvent = { type: 'CaseSuperseded', data: { caseId: 'c-1', referralId: 'r-1', decisionNumber: 1, supersededAt: at, reason: 'x' } };
    spec.given([opened(), claimed, closed]).when({ type: 'RecordContactAttempt', data: { caseId: 'c-1', outcome: 'contacted', note: null, at } }).thenThrows('invalid-transition', /closed/);
    spec.given([opened(), superseded]).when({ type: 'ClaimCase', data: { caseId: 'c-1', assignee: 'w', at } }).thenThrows('invalid-transition', /superseded/);
  });

  it('keeps the status a case ended with when a later reassessment supersedes it', () => {
    const closed: CaseEvent = { type: 'CaseClosed', data: { caseId: 'c-1', outcome: 'other', note: null, closedAt: at } };
    const superseded: CaseEvent = { type: 'CaseSuperseded', data: { caseId: 'c-1', referralId: 'r-1', decisionNumber: 1, supersededAt: at, reason: 'x' } };
    const state = [opened(), claimed, closed, superseded].reduce(caseDecider.evolve, caseDecider.initialState());
    expect(state.status).toBe('closed');
  });

  it('says a case that was never opened does not exist', () => {
    spec.given([]).when({ type: 'ClaimCase', data: { caseId: 'c-9', assignee: 'w', at } }).thenThrows('not-found');
  });
});

describe('refuge places offered from the waitlist', () => {
  it('starts a new first-contact clock on a waitlisted refuge case when a unit frees, once, claimed or not', () => {
    const waitlisted = opened({ provision: 'refuge', ruleIds: ['safe-accommodation'], status: 'waitlisted' });
    // Tuesday 10:00 plus two working days is Thursday 10:00.
    spec.given([waitlisted]).when({ type: 'OfferRefugePlace', data: { caseId: 'c-1', at, policy } })
      .then([{ type: 'RefugePlaceOffered', data: { caseId: 'c-1', referralId: 'r-1', dueBy: '2026-11-26T10:00:00.000Z', offeredAt: at, policyId: policy.id } }]);
    const offered: CaseEvent = { type: 'RefugePlaceOffered', data: { caseId: 'c-1', dueBy: '2026-11-26T10:00:00.000Z', offeredAt: at } };
    spec.given([waitlisted, offered]).when({ type: 'OfferRefugePlace', data: { caseId: 'c-1', at, policy } }).then([]);
    spec.given([waitlisted, claimed]).when({ type: 'OfferRefugePlace', data: { caseId: 'c-1', at, policy } }).thenMatches([{ type: 'RefugePlaceOffered' }]);
  });
});

describe('what happens after a decline', () => {
  it("refers a case Victim Support declines on to the policy's fallback, outreach", () => {
    spec.given([opened({ provision: 'victim-support', ruleIds: ['standard-risk'], riskLevel: 'standard' }), declined])
      .when({ type: 'ResolveDecline', data: { caseId: 'c-1', toCaseId: 'c-2', at, policy, triedProvisions: ['victim-support'] } })
      .then([{ type: 'CaseReferredOn', data: { caseId: 'c-1', referralId: 'r-1', toProvision: 'outreach', toCaseId: 'c-2', referredAt: at, policyId: policy.id } }]);
  });

  it('returns a case to the referrer when the policy names no fallback, or the fallback already had it', () => {
    spec.given([opened(), declined]).when({ type: 'ResolveDecline', data: { caseId: 'c-1', toCaseId: 'c-2', at, policy, triedProvisions: ['idva'] } })
      .thenMatches([{ type: 'CaseReturnedToReferrer', data: { reason: expect.stringMatching(/names no other provision/) } }]);
    spec.given([opened({ provision: 'victim-support' }), declined]).when({ type: 'ResolveDecline', data: { caseId: 'c-1', toCaseId: 'c-2', at, policy, triedProvisions: ['victim-support', 'outreach'] } })
      .thenMatches([{ type: 'CaseReturnedToReferrer', data: { reason: expect.stringMatching(/outreach has already had this referral/) } }]);
  });

  it('resolves a decline once, and does nothing for a case that was not declined', () => {
    const returned: CaseEvent = { type: 'CaseReturnedToReferrer', data: { caseId: 'c-1', referralId: 'r-1', reason: 'x', returnedAt: at } };
    spec.given([opened(), declined, returned]).when({ type: 'ResolveDecline', data: { caseId: 'c-1', toCaseId: 'c-2', at, policy, triedProvisions: [] } }).then([]);
    spec.given([opened()]).when({ type: 'ResolveDecline', data: { caseId: 'c-1', toCaseId: 'c-2', at, policy, triedProvisions: [] } }).then([]);
  });

  it('opens the case at the new provision with the same risk, a fresh due time and a link back', () => {
    const moved = caseOpenedElsewhere(opened().data, { toProvision: 'outreach', toCaseId: 'c-2', at, kind: 'transfer' }, policy);
    expect(moved.data).toMatchObject({
      caseId: 'c-2', referralId: 'r-1', provision: 'outreach', status: 'routed', riskLevel: 'high', hasChildren: true, routedAt: at,
      dueBy: '2026-11-26T10:00:00.000Z', origin: { kind: 'transfer', fromCaseId: 'c-1', fromProvision: 'idva' }, policyId: policy.id,
    });
  });
});

describe('a case a later decision keeps', () => {
  const reprioritise = (riskLevel: 'high' | 'medium', repeat = false) =>
    ({ type: 'Reprioritise' as const, data: { caseId: 'c-1', riskLevel, repeat, hasChildren: true, decisionNumber: 1, at } });
  const medium = opened({ provision: 'mash', ruleIds: ['children-in-household'], riskLevel: 'medium' });

  it('takes the new risk level, repeat and children, as the case stands, and carries them on to the case a transfer opens', () => {
    spec.given([medium, claimed]).when(reprioritise('high')).then([
      { type: 'CaseReprioritised', data: { caseId: 'c-1', referralId: 'r-1', riskLevel: 'high', repeat: false, hasChildren: true, decisionNumber: 1, status: 'active', reprioritisedAt: at } },
    ]);
    const raised: CaseEvent = caseDecider.decide(reprioritise('high'), [medium].reduce(caseDecider.evolve, caseDecider.initialState()))[0];
    const state = [medium, raised].reduce(caseDecider.evolve, caseDecider.initialState());
    if (state.status === 'none') throw new Error('opened');
    expect(caseOpenedElsewhere(state.opened, { toProvision: 'outreach', toCaseId: 'c-2', at, kind: 'transfer' }, policy).data.riskLevel).toBe('high');
  });

  it('decides nothing when nothing that orders the queue changed, or the case has ended', () => {
    spec.given([medium]).when(reprioritise('medium')).then([]);
    const closed: CaseEvent = { type: 'CaseClosed', data: { caseId: 'c-1', outcome: 'other', note: null, closedAt: at } };
    spec.given([medium, claimed, closed]).when(reprioritise('high')).then([]);
  });
});

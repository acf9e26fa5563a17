import { EVENT_SCHEMAS, type CaseEvent } from '@spoc/domain';
import type { RecordedEvent } from '@spoc/event-store';
import { caseIdOf, INTEGRATION_TYPES, learnCase, toCaseMessage, UnknownCaseError, UnmappedCaseEventError, type KnownCase } from './cloud-event';

const caseId = '3f2c6a1e-7b1d-4c55-9a0e-5d8f1f0b2c11';
const referralId = '9b7e2d44-0c3a-4f7e-8d21-6a5b4c3d2e1f';
const idva: KnownCase = { provision: 'idva', referralId, held: false };

function recorded(type: string, data: Record<string, unknown>, overrides: Partial<RecordedEvent> = {}): RecordedEvent {
  return {
    id: 'e5a1c0de-1111-4222-8333-944455556666',
    type,
    schemaVersion: 1,
    data,
    metadata: { actor: { id: 'router', role: 'system' }, correlationId: 'c-1', causationId: 'x-1', occurredAt: '2026-03-02T09:15:00.000Z' },
    streamId: `case-${caseId}`,
    revision: 0n,
    position: 42n,
    recordedAt: '2026-03-02T09:15:00.120Z',
    hash: 'h',
    previousHash: null,
    ...overrides,
  };
}

const opened = recorded('CaseOpened', {
  caseId,
  referralId,
  provision: 'idva',
  ruleIds: ['high-risk', 'dash-score'],
  status: 'routed',
  riskLevel: 'high',
  repeat: true,
  hasChildren: false,
  routedAt: '2026-03-02T09:14:59.000Z',
  dueBy: '2026-03-03T17:00:00.000Z',
  decisionNumber: 0,
});

describe('a case event as a Kafka message', () => {
  it('goes to the topic of its provision, keyed by its case id', () => {
    const message = toCaseMessage(opened, null);
    expect(message.topic).toBe('spoc.cases.idva');
    expect(message.key).toBe(caseId);
  });

  it('carries the CloudEvents attributes as binary-mode headers', () => {
    expect(toCaseMessage(opened, null).headers).toEqual({
      ce_specversion: '1.0',
      ce_id: opened.id,
      ce_type: 'org.spoc.case.opened.v1',
      ce_source: '/spoc/cases',
      ce_time: opened.recordedAt,
      ce_subject: caseId,
      'content-type': 'application/json',
    });
  });

  it('has the integration shape as its body, not the internal event', () => {
    expect(JSON.parse(toCaseMessage(opened, null).value)).toEqual({
      caseId,
      referralId,
      provision: 'idva',
      status: 'awaiting',
      occurredAt: '2026-03-02T09:15:00.000Z',
      routeStatus: 'routed',
      riskLevel: 'high',
      repeat: true,
      hasChildren: false,
      routedAt: '2026-03-02T09:14:59.000Z',
      dueBy: '2026-03-03T17:00:00.000Z',
    });
  });

  it('takes the provision and referral of a later event from the case it was opened as', () => {
    const superseded = recorded('CaseSuperseded', { caseId, referralId, decisionNumber: 1, supersededAt: '2026-03-04T10:00:00.000Z', reason: 'the reassessed referral no longer routes here' });
    const message = toCaseMessage(superseded, idva);
    expect(message.topic).toBe('spoc.cases.idva');
    expect(message.headers.ce_type).toBe('org.spoc.case.superseded.v1');
    expect(JSON.parse(message.value)).toEqual({ caseId, referralId, provision: 'idva', status: 'superseded', occurredAt: '2026-03-02T09:15:00.000Z' });
  });

  it('maps every case lifecycle event to its own stable, versioned type', () => {
    expect(INTEGRATION_TYPES).toEqual({
      CaseOpened: 'org.spoc.case.opened.v1',
      CaseSuperseded: 'org.spoc.case.superseded.v1',
      CaseClaimed: 'org.spoc.case.claimed.v1',
      ContactAttempted: 'org.spoc.case.contact-attempted.v1',
      CaseDeclined: 'org.spoc.case.declined.v1',
      CaseTransferred: 'org.spoc.case.transferred.v1',
      CaseClosed: 'org.spoc.case.closed.v1',
      RefugePlaceOffered: 'org.spoc.case.refuge-place-offered.v1',
      CaseReprioritised: 'org.spoc.case.reprioritised.v1',
      CaseReferredOn: 'org.spoc.case.referred-on.v1',
      CaseReturnedToReferrer: 'org.spoc.case.returned-to-referrer.v1',
      CaseDetailsErased: 'org.spoc.case.details-erased.v1',
    });
  });

  it('has a mapping for every event type the case decider can write, so the relay never stops on one', () => {
    // Every member of the union, or this does not compile: a new case event cannot be left out here.
    const every: Record<CaseEvent['type'], true> = {
      CaseOpened: true, CaseSuperseded: true, CaseClaimed: true, ContactAttempted: true, CaseDeclined: true, CaseTransferred: true, CaseClosed: true,
      RefugePlaceOffered: true, CaseReprioritised: true, CaseReferredOn: true, CaseReturnedToReferrer: true, CaseDetailsErased: true,
    };
    const caseEventTypes = Object.keys(every);
    for (const type of caseEventTypes) expect(EVENT_SCHEMAS).toHaveProperty(type);
    expect(Object.keys(INTEGRATION_TYPES).sort()).toEqual([...caseEventTypes].sort());
  });

  it('tells a provider of a kept case reprioritised: the new risk level, repeat and children, and the case as it stands', () => {
    const body = JSON.parse(toCaseMessage(recorded('CaseReprioritised', { caseId, referralId, riskLevel: 'high', repeat: false, hasChildren: true, decisionNumber: 1, status: 'active', reprioritisedAt: '2026-03-02T09:15:00.000Z' }), idva).value);
    expect(body).toMatchObject({ caseId, status: 'active', riskLevel: 'high', repeat: false, hasChildren: true });
  });

  it('passes on outcome codes and the transfer target, never a caseworker, a note or a free-text reason', () => {
    const body = (type: string, data: Record<string, unknown>) => JSON.parse(toCaseMessage(recorded(type, data), idva).value) as Record<string, unknown>;
    expect(body('CaseClaimed', { caseId, assignee: 'caseworker-17' })).toEqual(expect.objectContaining({ status: 'active' }));
    expect(body('CaseClaimed', { caseId, assignee: 'caseworker-17' })).not.toHaveProperty('assignee');
    const contact = body('ContactAttempted', { caseId, outcome: 'no-answer', note: 'Rang Jane Doe at 07700 900123, no answer' });
    expect(contact).toEqual(expect.objectContaining({ status: 'active', outcome: 'no-answer' }));
    expect(JSON.stringify(contact)).not.toContain('Jane');
    const declined = body('CaseDeclined', { caseId, reason: 'Jane says her partner is back home' });
    expect(declined).toEqual({ caseId, referralId, provision: 'idva', status: 'declined', occurredAt: '2026-03-02T09:15:00.000Z' });
    expect(body('CaseTransferred', { caseId, toProvision: 'outreach', toCaseId: 'c0ffee00-1111-4222-8333-944455556666', reason: 'moved to a refuge out of area' })).toEqual(
      expect.objectContaining({ status: 'transferred', toProvision: 'outreach', toCaseId: 'c0ffee00-1111-4222-8333-944455556666' }),
    );
    const closed = body('CaseClosed', { caseId, outcome: 'engaged-risk-reduced', note: 'Safety plan agreed with Jane' });
    expect(closed).toEqual(expect.objectContaining({ status: 'closed', outcome: 'engaged-risk-reduced' }));
    expect(closed).not.toHaveProperty('note');
  });

  it("tells the provider's system a case's details were erased, with the status the case was left in", () => {
    const message = toCaseMessage(recorded('CaseDetailsErased', { caseId, referralId, status: 'closed', erasedAt: '2026-03-05T10:00:00.000Z' }), idva);
    expect(message.headers.ce_type).toBe('org.spoc.case.details-erased.v1');
    expect(JSON.parse(message.value)).toEqual({ caseId, referralId, provision: 'idva', status: 'closed', occurredAt: '2026-03-02T09:15:00.000Z' });
  });

  it('leaves out a field that should hold a code but holds free text', () => {
    const contact = JSON.parse(toCaseMessage(recorded('ContactAttempted', { caseId, outcome: 'Spoke to Jane Doe' }), idva).value) as Record<string, unknown>;
    expect(contact).not.toHaveProperty('outcome');
  });

  it('refuses a case event type that has no mapping, rather than guessing a shape', () => {
    expect(() => toCaseMessage(recorded('CaseNoteAdded', { caseId, note: 'x' }), idva)).toThrow(UnmappedCaseEventError);
  });

  it('refuses a later event of a case it never saw opened', () => {
    expect(() => toCaseMessage(recorded('CaseClaimed', { caseId }), null)).toThrow(UnknownCaseError);
  });

  it('learns from its opening whether a case is held for consent, which keeps all its events off the topics', () => {
    expect(learnCase(opened)).toEqual({ provision: 'idva', referralId, held: false });
    expect(learnCase(recorded('CaseOpened', { ...(opened.data as object), status: 'waitlisted' }))).toEqual({ provision: 'idva', referralId, held: false });
    expect(learnCase(recorded('CaseOpened', { ...(opened.data as object), status: 'held-awaiting-consent' }))).toEqual({ provision: 'idva', referralId, held: true });
    expect(learnCase(recorded('CaseClaimed', { caseId }))).toBeNull();
  });

  it('tells a case stream from any other', () => {
    expect(caseIdOf(`case-${caseId}`)).toBe(caseId);
    expect(caseIdOf(`referral-${referralId}`)).toBeNull();
    expect(caseIdOf('refuge-units')).toBeNull();
  });
});

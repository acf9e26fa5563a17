import type { RecordedEvent } from '@spoc/event-store';

/**
 * The integration contract for providers' own systems (docs/kafka.md): one Kafka message per case event, as a
 * CloudEvent in binary mode. It is a separate, versioned shape mapped here from the log, so the internal events can
 * change without breaking a provider. It carries no personal data: a provider's system fetches what it may see from
 * GET /v1/cases/:caseId, under that API's access rules.
 */

export const CASE_STREAM_PREFIX = 'case-';
export const CLOUD_EVENT_SOURCE = '/spoc/cases';

/** Where a case is in its lifecycle after the event, in the contract's terms (plus `superseded` by a reassessment). */
export type CaseStatus = 'awaiting' | 'active' | 'declined' | 'transferred' | 'closed' | 'superseded';

/** The JSON body of every message; fields after `occurredAt` appear only on the types that carry them. */
export interface CaseIntegrationEvent {
  caseId: string;
  referralId: string;
  provision: string;
  status: CaseStatus;
  /** When it happened in the world (ISO 8601); `ce_time` says when the log recorded it. */
  occurredAt: string;
  /** opened: routed, or waitlisted (e.g. no refuge place free). */
  routeStatus?: string;
  riskLevel?: string | null;
  repeat?: boolean;
  hasChildren?: boolean;
  routedAt?: string;
  /** opened: first contact is due by then (working days from the policy's service level). */
  dueBy?: string | null;
  /** contact attempted, closed: the outcome code from the contract (never the free-text note). */
  outcome?: string;
  /** transferred: the provision and the case opened there. */
  toProvision?: string;
  toCaseId?: string;
  /** opened by a transfer or by referring on a declined case: `transfer` or `decline`, and the case it came from. */
  origin?: string;
  fromCaseId?: string;
}

/** What the relay remembers about a case from its `CaseOpened`, for the events after it. */
export interface KnownCase {
  provision: string;
  referralId: string;
  /**
   * Opened held for the victim's consent: not the provision's case (its caseworkers cannot see it either), so none
   * of its events is published. Consent opens a case of its own, which is.
   */
  held: boolean;
}

export interface CaseMessage {
  topic: string;
  key: string;
  headers: Record<string, string>;
  value: string;
}

export class UnmappedCaseEventError extends Error {
  readonly code = 'unmapped-case-event';
  constructor(type: string, position: bigint) {
    super(`case event type ${type} at position ${position} has no integration mapping; the relay stops rather than skip it`);
    this.name = 'UnmappedCaseEventError';
  }
}

export class UnknownCaseError extends Error {
  readonly code = 'unknown-case';
  constructor(position: bigint) {
    super(`the case event at position ${position} belongs to a case the relay never saw opened`);
    this.name = 'UnknownCaseError';
  }
}

type Data = Record<string, unknown>;

interface Mapping {
  ceType: string;
  /** Where the case is after this type of event; read from the event where the type does not say. */
  status: CaseStatus | ((data: Data) => CaseStatus);
  /** The type-specific fields, each picked explicitly: nothing is copied through by default. */
  fields(data: Data): Partial<CaseIntegrationEvent>;
}

/** Every internal case event type, mapped explicitly to a stable, versioned integration type. */
const MAPPINGS: Record<string, Mapping> = {
  CaseOpened: {
    ceType: 'org.spoc.case.opened.v1',
    status: 'awaiting',
    fields: (data) => ({
      // routed or waitlisted: a case held for consent is never published (`KnownCase.held`).
      routeStatus: code(data.status),
      riskLevel: code(data.riskLevel) ?? null,
      repeat: data.repeat === true,
      hasChildren: data.hasChildren === true,
      routedAt: instant(data.routedAt),
      dueBy: instant(data.dueBy) ?? null,
      ...originOf(data.origin),
    }),
  },
  CaseSuperseded: { ceType: 'org.spoc.case.superseded.v1', status: 'superseded', fields: () => ({}) },
  CaseClaimed: { ceType: 'org.spoc.case.claimed.v1', status: 'active', fields: () => ({}) },
  ContactAttempted: { ceType: 'org.spoc.case.contact-attempted.v1', status: 'active', fields: (data) => ({ outcome: code(data.outcome) }) },
  // The decline reason is free text a caseworker typed: it may name someone, so it stays in the log.
  CaseDeclined: { ceType: 'org.spoc.case.declined.v1', status: 'declined', fields: () => ({}) },
  CaseTransferred: {
    ceType: 'org.spoc.case.transferred.v1',
    status: 'transferred',
    fields: (data) => ({ toProvision: code(data.toProvision), toCaseId: code(data.toCaseId ?? data.newCaseId) }),
  },
  CaseClosed: { ceType: 'org.spoc.case.closed.v1', status: 'closed', fields: (data) => ({ outcome: code(data.outcome) }) },
  RefugePlaceOffered: { ceType: 'org.spoc.case.refuge-place-offered.v1', status: 'awaiting', fields: (data) => ({ dueBy: instant(data.dueBy) ?? null }) },
  // A later decision kept the case with another risk level, repeat or children: its place in the queue changes.
  CaseReprioritised: {
    ceType: 'org.spoc.case.reprioritised.v1',
    status: (data) => (code(data.status) as CaseStatus | undefined) ?? 'awaiting',
    fields: (data) => ({ riskLevel: code(data.riskLevel) ?? null, repeat: data.repeat === true, hasChildren: data.hasChildren === true }),
  },
  CaseReferredOn: {
    ceType: 'org.spoc.case.referred-on.v1',
    status: 'declined',
    fields: (data) => ({ toProvision: code(data.toProvision), toCaseId: code(data.toCaseId) }),
  },
  CaseReturnedToReferrer: { ceType: 'org.spoc.case.returned-to-referrer.v1', status: 'declined', fields: () => ({}) },
  // The provider's system deletes what it fetched from GET /v1/cases/:caseId: the API can no longer show it.
  CaseDetailsErased: { ceType: 'org.spoc.case.details-erased.v1', status: (data) => (code(data.status) as CaseStatus | undefined) ?? 'closed', fields: () => ({}) },
};

/** A case opened by a transfer or a referral-on names the case it came from. */
function originOf(origin: unknown): Partial<CaseIntegrationEvent> {
  if (typeof origin !== 'object' || origin === null) return {};
  const { kind, fromCaseId } = origin as Data;
  return { origin: code(kind), fromCaseId: code(fromCaseId) };
}

export const INTEGRATION_TYPES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(MAPPINGS).map(([type, mapping]) => [type, mapping.ceType]),
);

export function topicFor(provision: string): string {
  return `spoc.cases.${provision}`;
}

/** The case id of a case stream, or null for any other stream (the relay passes those by). */
export function caseIdOf(streamId: string): string | null {
  return streamId.startsWith(CASE_STREAM_PREFIX) ? streamId.slice(CASE_STREAM_PREFIX.length) : null;
}

/** What a `CaseOpened` teaches the relay about its case; null for any other event. */
export function learnCase(event: RecordedEvent): KnownCase | null {
  if (event.type !== 'CaseOpened') return null;
  const data = event.data as Data;
  return { provision: String(data.provision), referralId: String(data.referralId), held: data.status === 'held-awaiting-consent' };
}

/**
 * Maps one stored case event to its Kafka message: topic per provision, key = case id (so a case stays in order on
 * one partition), CloudEvents attributes as `ce_` headers, the integration shape as the JSON body.
 */
export function toCaseMessage(event: RecordedEvent, known: KnownCase | null): CaseMessage {
  const caseId = caseIdOf(event.streamId);
  const mapping = MAPPINGS[event.type];
  if (caseId === null || !mapping) throw new UnmappedCaseEventError(event.type, event.position);
  const data = event.data as Data;
  const kase = learnCase(event) ?? known;
  if (!kase) throw new UnknownCaseError(event.position);
  const body: CaseIntegrationEvent = {
    caseId,
    referralId: kase.referralId,
    provision: kase.provision,
    status: typeof mapping.status === 'function' ? mapping.status(data) : mapping.status,
    occurredAt: event.metadata.occurredAt,
    ...withoutUndefined(mapping.fields(data)),
  };
  return {
    topic: topicFor(kase.provision),
    key: caseId,
    headers: {
      ce_specversion: '1.0',
      ce_id: event.id,
      ce_type: mapping.ceType,
      ce_source: CLOUD_EVENT_SOURCE,
      ce_time: event.recordedAt,
      ce_subject: caseId,
      'content-type': 'application/json',
    },
    value: JSON.stringify(body),
  };
}

/** A code or id (lower-case words, digits, dashes): anything else, such as free text, is left out. */
function code(value: unknown): string | undefined {
  return typeof value === 'string' && /^[a-z0-9][a-z0-9-]{0,63}$/.test(value) ? value : undefined;
}

function instant(value: unknown): string | undefined {
  return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(value) ? value : undefined;
}

function withoutUndefined<T extends object>(fields: T): T {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as T;
}

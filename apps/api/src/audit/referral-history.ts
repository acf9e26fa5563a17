import { streams, type ReferralReceived, type ReferralRouted } from '@spoc/domain';
import { ChainVerifier, type EventStore, type RecordedEvent } from '@spoc/event-store';
import type { EventCodec } from '@spoc/platform';

export interface HistoryEvent {
  position: string;
  streamId: string;
  revision: string;
  id: string;
  type: string;
  recordedAt: string;
  actor: unknown;
  /** Personal fields opened; null where they were erased (then `erased` is true). */
  data: unknown;
  erased: boolean;
  hash: string;
  previousHash: string | null;
}

export interface BrokenEvent {
  streamId: string;
  revision: string;
  position: string;
  eventId: string;
  reason: string;
}

export interface ReferralHistoryView {
  referralId: string;
  events: HistoryEvent[];
  chainValid: boolean;
  /** The earliest event (by position) at which a stream's chain breaks, or null. */
  firstBrokenEvent: BrokenEvent | null;
}

/** Where a referral's cases are found without scanning the log (the queues' read model, which has every case). */
export interface CaseIndex {
  casesOf(referralId: string): string[];
}

/**
 * Every event of a referral: its own stream, its cases' streams, its Operation Encompass notifications' streams
 * and its requests for a refuge unit, in log order, each stream's hash chain checked from revision 0. The chain is checked on the events as stored
 * (personal data still sealed) before anything is opened for the reader.
 */
export class ReferralHistory {
  constructor(
    private readonly store: EventStore,
    private readonly codec: EventCodec,
    private readonly cases: CaseIndex,
  ) {}

  /** null when the referral does not exist. */
  async of(referralId: string): Promise<ReferralHistoryView | null> {
    const referral = await collect(this.store.readStream(streams.referral(referralId)));
    if (referral.length === 0) return null;
    // The decisions name their cases and notifications too, so a case whose CaseOpened the read model has not
    // taken in yet is still read.
    const caseIds = new Set(this.cases.casesOf(referralId));
    const notificationIds = new Set<string>();
    // Whether a refuge unit may have been asked for: the person needed one (as referred, or as a reassessment said),
    // or a decision routed there. A request whose decision lost its race is shown too.
    let refugeRouted = referral.some((event) => event.type === 'NeedsRecorded') || this.neededRefugeOnReceipt(referral[0]);
    for (const event of referral) {
      if (event.type !== 'ReferralRouted') continue;
      const decision = event.data as ReferralRouted['data'];
      for (const routed of decision.cases ?? []) caseIds.add(routed.caseId);
      for (const notification of decision.encompass ?? []) notificationIds.add(notification.notificationId);
      refugeRouted ||= (decision.cases ?? []).some((routed) => routed.provision === 'refuge');
    }
    const caseStreams = await this.casesFrom(caseIds);
    const notifications = await Promise.all([...notificationIds].map((id) => collect(this.store.readStream(streams.encompass(id)))));
    // The refuge's one stream is everyone's: its chain is checked whole, and only this referral's part is shown.
    const refuge = refugeRouted ? await collect(this.store.readStream(streams.refuge())) : [];
    const all = [referral, ...caseStreams, ...notifications];
    const broken = [...all, refuge].map(firstBreak).filter((brokenAt): brokenAt is BrokenEvent => brokenAt !== null);
    broken.sort((a, b) => compare(BigInt(a.position), BigInt(b.position)));
    const events = [...all.flat(), ...refugeEventsOf(refuge, referralId)].sort((a, b) => compare(a.position, b.position));
    return {
      referralId,
      events: events.map((event) => this.view(event)),
      chainValid: broken.length === 0,
      firstBrokenEvent: broken[0] ?? null,
    };
  }

  private neededRefugeOnReceipt(first: RecordedEvent): boolean {
    try {
      return this.codec.decode<ReferralReceived['data']>(first).data.submission?.needs.safeAccommodation === true;
    } catch {
      return false; // sealed data that no longer opens: the chain check says why
    }
  }

  /**
   * The cases' streams, and those of the cases their moves opened (a transfer, a decline referred on), followed from
   * the log itself: straight after a move the read model may not know the new case yet.
   */
  private async casesFrom(caseIds: Set<string>): Promise<RecordedEvent[][]> {
    const read = new Map<string, RecordedEvent[]>();
    let next = [...caseIds];
    while (next.length > 0) {
      const streamsRead = await Promise.all(next.map((caseId) => collect(this.store.readStream(streams.case(caseId)))));
      next.forEach((caseId, index) => read.set(caseId, streamsRead[index]));
      const movedTo = streamsRead.flat().map((event) => (event.data as { toCaseId?: unknown } | null)?.toCaseId);
      next = [...new Set(movedTo.filter((id): id is string => typeof id === 'string' && !read.has(id)))];
    }
    return [...read.values()];
  }

  private view(event: RecordedEvent): HistoryEvent {
    let data: unknown = event.data;
    let erased = false;
    try {
      const decoded = this.codec.decode(event);
      data = decoded.data;
      erased = decoded.erased;
    } catch {
      // Sealed data that no longer authenticates (altered in the store): shown as stored; the chain says why.
    }
    return {
      position: event.position.toString(),
      streamId: event.streamId,
      revision: event.revision.toString(),
      id: event.id,
      type: event.type,
      recordedAt: event.recordedAt,
      actor: event.metadata?.actor ?? null,
      data,
      erased,
      hash: event.hash,
      previousHash: event.previousHash,
    };
  }
}

/** The referral's own requests for a refuge unit, and their releases (which name only the request). */
function refugeEventsOf(refuge: RecordedEvent[], referralId: string): RecordedEvent[] {
  const requests = new Set<string>();
  return refuge.filter((event) => {
    const data = event.data as { requestId?: string; referralId?: string };
    if (event.type === 'RefugeUnitRequested' && data.referralId === referralId && data.requestId) requests.add(data.requestId);
    return data.requestId !== undefined && requests.has(data.requestId);
  });
}

function firstBreak(events: RecordedEvent[]): BrokenEvent | null {
  const verifier = new ChainVerifier();
  for (const event of events) if (!verifier.add(event)) break;
  const verdict = verifier.verdict();
  return verdict.valid ? null : verdict.brokenAt;
}

async function collect(events: AsyncIterable<RecordedEvent>): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

function compare(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

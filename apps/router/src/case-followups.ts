import {
  caseDecider,
  caseOpenedElsewhere,
  endsRefugeHold,
  hasChildrenForPriority,
  streams,
  type CaseCommand,
  type CaseEvent,
  type CaseState,
  type ProvisionId,
  type RefugeEvent,
  type ReferralRouted,
  type RoutingPolicy,
} from '@spoc/domain';
import { WrongExpectedVersionError, type EventStore, type RecordedEvent } from '@spoc/event-store';
import { appendOnce, nameBasedUuid, type CommandContext, type EventCodec } from '@spoc/platform';
import { refugeRequestsOf } from './refuge-requests';
import type { RouterState } from './router-state';

/**
 * What the router does when a case moves: a declined case is referred on or returned to the referrer (policy
 * data decides which), a case opened elsewhere by a transfer or a referral-on is made sure of (healing a crash
 * between the two appends), and a refuge case that ends frees its unit for the longest-waiting person. Every
 * append is idempotent or made at the revision it was decided on, so replays and a second router are safe.
 */
export class CaseFollowUps {
  constructor(
    private readonly store: EventStore,
    private readonly codec: EventCodec,
    private readonly policy: RoutingPolicy,
    private readonly state: RouterState,
    private readonly now: () => Date,
  ) {}

  async handle(event: RecordedEvent): Promise<void> {
    const caseId = event.streamId.slice('case-'.length);
    const data = event.data as Record<string, unknown>;
    switch (event.type) {
      case 'CaseOpened':
        this.state.rememberCase(caseId, String(data.referralId), String(data.provision));
        // Another router may have freed the unit between this case's decision and its opening: offer it now.
        if (data.provision === 'refuge' && data.status === 'waitlisted') await this.offerFreedUnits(String(data.referralId), event);
        return;
      case 'CaseDeclined':
        await this.resolveDecline(caseId, event);
        break;
      case 'CaseTransferred':
        await this.openElsewhere(caseId, String(data.toProvision) as ProvisionId, String(data.toCaseId), String(data.transferredAt), 'transfer', event);
        break;
      case 'CaseReferredOn':
        await this.openElsewhere(caseId, String(data.toProvision) as ProvisionId, String(data.toCaseId), String(data.referredAt), 'decline', event);
        return;
      default:
        break;
    }
    const known = this.state.caseById(caseId);
    if (known?.provision !== 'refuge' || !endsRefugeHold({ type: event.type } as CaseEvent)) return;
    // A case held for consent never asked for a unit: when consent comes, the new decision asks for one and opens
    // a new refuge case, superseding the held one, and that must not give the new request's unit away.
    const { state } = await this.caseState(caseId);
    if (state.status !== 'none' && state.routeStatus === 'held-awaiting-consent') return;
    await this.releaseRefugeUnit(known.referralId, event.position, event);
  }

  private async resolveDecline(caseId: string, trigger: RecordedEvent): Promise<void> {
    const referralId = this.state.caseById(caseId)?.referralId ?? '';
    // Erased since the decline: there is no one left to refer on, and a case opened now could never be worked.
    if (await this.erased(referralId)) return;
    const triedProvisions = this.state.casesOf(referralId).map((known) => known.provision as ProvisionId);
    const toCaseId = nameBasedUuid(`decline\n${caseId}`);
    const decided = await this.decideOnCase(caseId, { type: 'ResolveDecline', data: { caseId, toCaseId, at: this.now().toISOString(), policy: this.policy, triedProvisions } }, trigger);
    const referredOn = decided.find((event) => event.type === 'CaseReferredOn');
    if (referredOn) await this.openElsewhere(caseId, referredOn.data.toProvision, toCaseId, referredOn.data.referredAt, 'decline', trigger);
  }

  /**
   * A decision that keeps open cases gives each the risk level, repeat and children it decided on: the queue orders
   * by them, and a transfer or a referral-on carries them on.
   */
  async reprioritiseKept(decision: ReferralRouted['data'], trigger: RecordedEvent): Promise<void> {
    for (const kept of decision.cases) if (!kept.opened) await this.reprioritise(kept.caseId, decision, trigger);
  }

  private async reprioritise(caseId: string, { facts, decisionNumber }: ReferralRouted['data'], trigger: RecordedEvent): Promise<void> {
    const priority = { riskLevel: facts.riskLevel, repeat: facts.repeat.isRepeat, hasChildren: hasChildrenForPriority(facts), decisionNumber, at: facts.routedAt };
    await this.decideOnCase(caseId, { type: 'Reprioritise', data: { caseId, ...priority } }, trigger);
  }

  /** Tells whoever follows the case (a provider's system, through the Kafka relay) that its personal data is gone. */
  async markDetailsErased(caseId: string, trigger: RecordedEvent): Promise<void> {
    const { state } = await this.caseState(caseId);
    if (state.status === 'none') return;
    const erased: CaseEvent = { type: 'CaseDetailsErased', data: { caseId, referralId: state.opened.referralId, status: state.status, erasedAt: this.now().toISOString() } };
    await appendOnce(this.store, this.codec, { streamId: streams.case(caseId), expected: 'any', idName: `details-erased\n${caseId}` }, erased, routerContext(trigger));
  }

  /** Whether the referral's personal data was erased (declines and transfers are rare: the stream is read). */
  private async erased(referralId: string): Promise<boolean> {
    for await (const event of this.store.readStream(streams.referral(referralId), { direction: 'backwards' })) if (event.type === 'ReferralErased') return true;
    return false;
  }

  /** Opens the case a transfer or referral-on names, with the same event id whoever gets there first. */
  private async openElsewhere(fromCaseId: string, toProvision: ProvisionId, toCaseId: string, at: string, kind: 'transfer' | 'decline', trigger: RecordedEvent): Promise<void> {
    const from = await this.caseState(fromCaseId);
    if (from.state.status === 'none' || (await this.erased(from.state.opened.referralId))) return;
    const opened = caseOpenedElsewhere(from.state.opened, { toProvision, toCaseId, at, kind }, this.policy);
    this.state.rememberCase(toCaseId, opened.data.referralId, toProvision);
    await appendOnce(this.store, this.codec, { streamId: streams.case(toCaseId), expected: 'no-stream', idName: `opened\n${toCaseId}` }, opened, routerContext(trigger));
    // A decision that kept the case it came from, whose reprioritising the move raced: the new case takes it. Only
    // such a decision: one that came after the move never had this case, and read again later must not reach it.
    const latest = await this.latestDecision(opened.data.referralId);
    if (latest?.cases.some((kept) => kept.caseId === fromCaseId && !kept.opened)) await this.reprioritise(toCaseId, latest, trigger);
  }

  private async latestDecision(referralId: string): Promise<ReferralRouted['data'] | null> {
    for await (const event of this.store.readStream(streams.referral(referralId), { direction: 'backwards' })) {
      if (event.type === 'ReferralRouted') return event.data as unknown as ReferralRouted['data'];
    }
    return null;
  }

  /**
   * Frees the referral's unit (or takes its request off the waiting list) and offers it on: the fold over the refuge
   * stream says who holds the units now, and each holder whose case still waits gets its clock started. Only a
   * request made before `endedAt` (the stay's end, or the decision that dropped the route) is this one's: a later
   * request is a new stay's, which an old end read again (a replay, a second router) must not free. `'any'`: the
   * referral can have no stay any more (it was erased), so whatever request it holds is released. `{ requestId }`:
   * that request only, wherever it stands (the one a decision that failed has just made).
   */
  async releaseRefugeUnit(referralId: string, endedAt: bigint | 'any' | { requestId: string }, trigger: RecordedEvent): Promise<void> {
    const live = (await refugeRequestsOf(this.store, this.capacity, referralId)).live;
    const ours = live && (endedAt === 'any' || (typeof endedAt === 'bigint' ? live.position < endedAt : live.requestId === endedAt.requestId));
    // Released once: the stream is long-lived, so a repeat append would not be recognised by the store as a retry.
    if (live && ours) {
      const release: RefugeEvent = { type: 'RefugeUnitReleased', data: { requestId: live.requestId, releasedAt: this.now().toISOString() } };
      await appendOnce(this.store, this.codec, { streamId: streams.refuge(), expected: 'any', idName: `refuge-release\n${live.requestId}` }, release, routerContext(trigger));
    }
    await this.offerFreedUnits(referralId, trigger);
  }

  /** Each holder of a unit whose refuge case still waits gets its clock started; read after any append of ours. */
  private async offerFreedUnits(referralId: string, trigger: RecordedEvent): Promise<void> {
    const { state, referralOf } = await refugeRequestsOf(this.store, this.capacity, referralId);
    for (const placed of state.placed) {
      for (const refugeCase of this.state.casesOf(referralOf.get(placed) ?? '').filter((known) => known.provision === 'refuge')) {
        await this.decideOnCase(refugeCase.caseId, { type: 'OfferRefugePlace', data: { caseId: refugeCase.caseId, at: this.now().toISOString(), policy: this.policy } }, trigger);
      }
    }
  }

  private get capacity(): number {
    return this.policy.provisions.refuge.capacityUnits ?? 0;
  }

  /**
   * Decides on a case and appends at the revision read. A conflict is another router that did it first, or a
   * caseworker acting on the case that moment: decided again on what the stream holds now (each of these commands
   * decides nothing once done), so a claim landing at the same time does not cost the person a refuge place.
   */
  private async decideOnCase(caseId: string, command: CaseCommand, trigger: RecordedEvent): Promise<CaseEvent[]> {
    for (let attempt = 1; ; attempt += 1) {
      const { state, revision } = await this.caseState(caseId);
      if (state.status === 'none' || revision === null) return [];
      const decided = caseDecider.decide(command, state);
      if (decided.length === 0) return [];
      try {
        await this.store.append(streams.case(caseId), this.codec.encode(decided, routerContext(trigger)), revision);
        return decided;
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError) || attempt >= 5) throw error;
      }
    }
  }

  private caseState(caseId: string) {
    return caseStateOf(this.store, caseId);
  }
}

/** A case as its stream has it now. Sealed free text (notes, reasons) stays sealed: the lifecycle never looks at it. */
export async function caseStateOf(store: EventStore, caseId: string): Promise<{ state: CaseState; revision: bigint | null }> {
  let state = caseDecider.initialState();
  let revision: bigint | null = null;
  for await (const event of store.readStream(streams.case(caseId))) {
    state = caseDecider.evolve(state, { type: event.type, data: event.data } as CaseEvent);
    revision = event.revision;
  }
  return { state, revision };
}

/** What the router appends is by the router, correlated with what caused it. */
export function routerContext(event: RecordedEvent): CommandContext {
  return { actor: { id: 'router', role: 'system' }, correlationId: event.metadata.correlationId, causationId: event.id };
}

import type Database from 'better-sqlite3';
import {
  buildDecision,
  caseEventsOf,
  evaluateRouting,
  refugeUnits,
  streams,
  type CaseOpened,
  type ConsentRecorded,
  type ReferralReceived,
  type ReferralRouted,
  type RefugeEvent,
  type RiskAssessed,
  type RoutingPolicy,
} from '@spoc/domain';
import { WrongExpectedVersionError, type EventStore, type RecordedEvent, type Subscription } from '@spoc/event-store';
import { appendOnce, nameBasedUuid, sealingKeyId, type EventCodec, type PersonalDataVault } from '@spoc/platform';
import { CaseFollowUps, caseStateOf, routerContext } from './case-followups';
import { findRepeats, gatherFacts } from './gather-facts';
import { RouterState } from './router-state';

const CHECKPOINT = 'router';

/**
 * The router: reads the log from its checkpoint and, for every received or reassessed referral, gathers the facts,
 * evaluates the policy and appends the decision to the referral stream at the revision it was made on (so of two
 * routers only one decision lands). Then it opens each new case and supersedes dropped ones, each by an idempotent
 * append, so a crash between steps is healed when the event is handled again.
 */
export class Router {
  private readonly state: RouterState;
  private readonly followUps: CaseFollowUps;
  private subscription: Subscription | null = null;
  private running: Promise<void> | null = null;
  private position: bigint | undefined;
  private waiters: Array<{ position: bigint; resolve: () => void }> = [];
  private failure: unknown = null;
  private unsaved = 0;

  constructor(
    private readonly store: EventStore,
    private readonly codec: EventCodec,
    private readonly vault: PersonalDataVault,
    private readonly policy: RoutingPolicy,
    private readonly db: Database.Database,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.state = new RouterState(db, vault.namedKey('person-match'));
    this.followUps = new CaseFollowUps(store, codec, policy, this.state, now);
    this.position = this.state.checkpoint(CHECKPOINT);
  }

  get failed(): unknown {
    return this.failure;
  }

  get checkpoint(): bigint | undefined {
    return this.position;
  }

  start(): void {
    if (this.running) return;
    // Unfiltered on purpose: the checkpoint must pass the case events this router appends itself, or a caller
    // waiting for the head of the log would wait for ever. Events that are not routing's business are skipped.
    const subscription = this.store.subscribeToAll({ fromPosition: this.position });
    this.subscription = subscription;
    this.running = (async () => {
      for await (const event of subscription) {
        await this.handle(event);
        this.position = event.position;
        // Every handling is idempotent, so the checkpoint may lag a little: a write per event (most of them not
        // routing's business) cost a commit each; a restart re-reads at most the last hundred.
        if ((this.unsaved += 1) >= 100) this.saveCheckpoint();
        if (this.waiters.length > 0) this.waiters = this.waiters.filter((waiter) => (waiter.position <= event.position ? (waiter.resolve(), false) : true));
      }
    })().catch((error: unknown) => {
      // Stop rather than skip a referral: health reports it, and a restart resumes at this event.
      this.failure = error;
      const where = error instanceof Error ? (error.stack ?? '').split('\n')[1]?.trim() : '';
      process.stderr.write(`router stopped after position ${this.position ?? 'start'}: ${error instanceof Error ? error.name : 'error'} ${where}\n`);
    });
  }

  /** Stops after the event in hand and closes the router's state file (the router owns it). */
  async stop(): Promise<void> {
    await this.subscription?.close();
    await this.running;
    this.running = null;
    if (this.db.open) this.saveCheckpoint();
    if (this.db.open) this.db.close();
  }

  private saveCheckpoint(): void {
    if (this.position !== undefined) this.state.saveCheckpoint(CHECKPOINT, this.position);
    this.unsaved = 0;
  }

  /** Resolves once the router has handled the log up to `position` (for callers that want the routes at once). */
  waitFor(position: bigint, timeoutMs = 5000): Promise<boolean> {
    if (this.position !== undefined && this.position >= position) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = { position, resolve: () => resolve(true) };
      this.waiters.push(waiter);
      setTimeout(() => {
        this.waiters = this.waiters.filter((other) => other !== waiter);
        resolve(false);
      }, timeoutMs).unref();
    });
  }

  private async handle(event: RecordedEvent): Promise<void> {
    if (event.streamId.startsWith('case-')) return this.followUps.handle(event);
    if (!event.streamId.startsWith('referral-')) return;
    switch (event.type) {
      case 'RiskAssessed':
      case 'ConsentRecorded':
        return this.decide(event);
      case 'ReferralReceived':
        // A perpetrator referral has no checklist, so its receipt is what gets routed.
        if ((event.data as { referralType?: string }).referralType === 'perpetrator') return this.decide(event);
        return;
      case 'ReferralRouted':
        return this.carryOut(this.codec.decode<ReferralRouted['data']>(event).data, event);
      default:
        return;
    }
  }

  private async decide(trigger: RecordedEvent): Promise<void> {
    const streamId = trigger.streamId;
    const recorded: RecordedEvent[] = [];
    for await (const event of this.store.readStream(streamId)) recorded.push(event);
    // A later event on the stream means this revision was decided already, or a newer assessment will be.
    if (recorded[recorded.length - 1].revision !== trigger.revision) return;
    const decoded = recorded.map((event) => this.codec.decode(event));
    const received = decoded.find((event) => event.type === 'ReferralReceived')!.data as unknown as ReferralReceived['data'];
    if (!received.submission) return; // erased before it was routed: nothing personal left to route on
    // The latest assessment and the latest consent, whichever of them (or the receipt) triggered this decision.
    const assessment = lastOf<RiskAssessed['data']>(decoded, 'RiskAssessed');
    const consent = lastOf<ConsentRecorded['data']>(decoded, 'ConsentRecorded');
    const previous = decoded.filter((event) => event.type === 'ReferralRouted').map((event) => event.data as unknown as ReferralRouted['data']);
    const routedAt = this.now().toISOString();

    const subject = received.submission.subject;
    const other = received.submission.otherParty;
    const person = {
      referralId: received.referralId,
      receivedAt: received.receivedAt,
      ...this.state.hashPerson(
        { ...subject, firstName: subject.firstName },
        other ? { lastName: other.lastName, dateOfBirth: other.dateOfBirth, policePersonId: other.policePersonId } : null,
      ),
    };
    const repeat = received.referralType === 'perpetrator'
      ? { isRepeat: false, previousReferralIds: [], repeatMarac: false, possibleMatchReferralIds: [] }
      : findRepeats(person, this.state, this.policy);
    if (received.referralType !== 'perpetrator') this.state.remember(person);

    const consentGiven = consent ? consent.given : received.submission.consent.given;
    const refugeUnitsFree = received.submission.needs.safeAccommodation && consentGiven
      ? await this.requestRefuge(received.referralId, routedAt)
      : 0;
    const facts = gatherFacts({ received, assessment, consent, repeat, refugeUnitsFree, routedAt, policy: this.policy });
    const outcome = evaluateRouting(facts, this.policy);
    const decisionNumber = previous.length;
    const openCases = await this.casesStillWorked(received.referralId, previous, outcome.routes.map((route) => route.provision));
    const decision = buildDecision({
      facts,
      outcome,
      decisionNumber,
      basedOnRevision: trigger.revision,
      openCases,
      possibleMatchReferralIds: repeat.possibleMatchReferralIds,
      caseIdFor: (provision) => nameBasedUuid(`case\n${received.referralId}\n${decisionNumber}\n${provision}`),
      notificationIdFor: (childIndex) => nameBasedUuid(`encompass\n${received.referralId}\n${childIndex}`),
      notifySchools: decisionNumber === 0,
    });
    const keyId = sealingKeyId(recorded[0]);
    const key = keyId ? this.vault.keyFor(keyId) : null;
    if (!keyId || !key) return;
    try {
      await this.store.append(streamId, this.codec.encode([decision], routerContext(trigger), { keyId, key }), trigger.revision);
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) return; // another router decided this revision
      throw error;
    }
    // Cases open at once rather than when this decision comes back round the log; that later pass finds them open.
    await this.carryOut(decision.data, trigger);
  }

  /** Opens the decision's new cases and supersedes dropped ones: each append is idempotent, so replays are safe. */
  private async carryOut(routed: ReferralRouted['data'], event: RecordedEvent): Promise<void> {
    if (routed.outcome.marac) this.state.recordMaracListing(routed.referralId, routed.facts.routedAt);
    const context = routerContext(event);
    const { opened, superseded } = caseEventsOf(routed);
    // Concurrent, so they share one group commit; a case already opened (a replay) is seen by a read, not a write.
    const toOpen: CaseOpened[] = [];
    for (const caseEvent of opened) if ((await this.store.streamRevision(streams.case(caseEvent.data.caseId))) === null) toOpen.push(caseEvent);
    await Promise.all([
      ...toOpen.map((caseEvent) =>
        appendOnce(this.store, this.codec, { streamId: streams.case(caseEvent.data.caseId), expected: 'no-stream', idName: `opened\n${caseEvent.data.caseId}` }, caseEvent, context),
      ),
      ...superseded.map((caseEvent) =>
        appendOnce(this.store, this.codec, { streamId: streams.case(caseEvent.data.caseId), expected: 'any', idName: `superseded\n${caseEvent.data.caseId}\n${caseEvent.data.decisionNumber}` }, caseEvent, context),
      ),
    ]);
  }

  /**
   * The cases a new decision may keep or supersede: those still being worked (awaiting or active). The last
   * decision's cases, unless they have ended since: a case transferred away, declined or closed is never kept, or
   * the new decision would point at a case nobody works. And a case a transfer or a decline's referral-on opened
   * since, where the new decision routes to its provision (it is kept there); elsewhere it is left alone, since a
   * caseworker put the person there and a new checklist does not undo that.
   */
  private async casesStillWorked(referralId: string, previous: ReferralRouted['data'][], routedTo: string[]): Promise<DecisionCase[]> {
    const fromDecision = openCasesOf(previous);
    const decided = new Set(fromDecision.map((open) => open.caseId));
    const movedHere = this.state.casesOf(referralId).filter((known) => !decided.has(known.caseId) && routedTo.includes(known.provision));
    const open: DecisionCase[] = [];
    for (const candidate of [...fromDecision, ...movedHere]) {
      const { state } = await caseStateOf(this.store, candidate.caseId);
      // Not opened yet: the decision's own cases open just after it is appended, so it stands as decided.
      if (state.status === 'none' && decided.has(candidate.caseId)) open.push(candidate as DecisionCase);
      else if (state.status === 'awaiting' || state.status === 'active') open.push({ provision: state.opened.provision, caseId: candidate.caseId, status: state.routeStatus });
    }
    return open;
  }

  /**
   * Requests a refuge place for the referral (one request per referral, however often it is routed) and reads who
   * holds the places. Returns the units that were free when this request was placed, or 0 if it waits.
   */
  private async requestRefuge(referralId: string, at: string): Promise<number> {
    const capacity = this.policy.provisions.refuge.capacityUnits ?? 0;
    const requestId = nameBasedUuid(`refuge\n${referralId}`);
    const request: RefugeEvent = { type: 'RefugeUnitRequested', data: { requestId, referralId, requestedAt: at } };
    const [encoded] = this.codec.encode([request], { actor: { id: 'router', role: 'system' }, correlationId: requestId, causationId: null });
    encoded.id = requestId;
    await this.store.append(streams.refuge(), [encoded], 'any');
    let state = refugeUnits.initialState();
    let before = 0;
    const evolve = refugeUnits.evolve(capacity);
    for await (const event of this.store.readStream(streams.refuge())) {
      if (event.type === 'RefugeUnitRequested' && (event.data as { requestId: string }).requestId === requestId) before = refugeUnits.unitsFree(state, capacity);
      state = evolve(state, { type: event.type, data: event.data } as RefugeEvent);
    }
    return refugeUnits.statusOf(state, requestId) === 'placed' ? Math.max(1, before) : 0;
  }
}

function lastOf<Data>(events: Array<{ type: string; data: unknown }>, type: string): Data | null {
  const found = events.filter((event) => event.type === type);
  return found.length > 0 ? (found[found.length - 1].data as Data) : null;
}

type DecisionCase = Pick<ReferralRouted['data']['cases'][number], 'provision' | 'caseId' | 'status'>;

function openCasesOf(previous: ReferralRouted['data'][]): DecisionCase[] {
  const last = previous[previous.length - 1];
  return last ? last.cases.map(({ provision, caseId, status }) => ({ provision, caseId, status })) : [];
}

import type Database from 'better-sqlite3';
import {
  buildDecision,
  caseEventsOf,
  evaluateRouting,
  refugeUnits,
  streams,
  type CaseOpened,
  type ConsentRecorded,
  type NeedsRecorded,
  type ReferralReceived,
  type ReferralRouted,
  type RefugeEvent,
  type RiskAssessed,
  type RoutingFailed,
  type RoutingPolicy,
} from '@spoc/domain';
import { checkpointAt, logReplaced, WrongExpectedVersionError, type EventStore, type LogCheckpoint, type RecordedEvent, type Subscription } from '@spoc/event-store';
import { AnchoredLogDigest, appendOnce, nameBasedUuid, sealingKeyId, SubjectKeyMissingError, type AnchorMismatch, type DecodedEvent, type EventCodec, type LogAnchors, type PersonalDataVault } from '@spoc/platform';
import { CaseFollowUps, caseStateOf, routerContext } from './case-followups';
import { errorKind, isDataFailure, logFailure, RouterStopped } from './failures';
import { findRepeats, gatherFacts } from './gather-facts';
import { refugeRequestsOf } from './refuge-requests';
import { RouterState } from './router-state';

const CHECKPOINT = 'router';
/** Decisions tried at once, each after reading the referral again, when another writer appended to it in between. */
const DECISION_ATTEMPTS = 3;
/** How often the log's digest is anchored while events come in (and once more at a clean stop). */
const ANCHOR_EVERY_MS = 60_000;

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
  /** The last event read and handled: where a restart reads on from. */
  private read: LogCheckpoint | null;
  private waiters: Array<{ position: bigint; resolve: () => void }> = [];
  private failure: unknown = null;
  private unsaved = 0;
  private stopping = false;
  private wakeFromBackOff: (() => void) | null = null;
  /** How many times in a row an event (or reading the log) has failed on the store or the router's own file. */
  retrying = 0;
  /** Referrals flagged for routing by hand since this process started (RoutingFailed appended). */
  referralsFailed = 0;
  /** The last receipt read, opened. */
  private received: { eventId: string; decoded: DecodedEvent } | null = null;
  /** The log folded up to `read`, checked against the anchors it passes. */
  private digest: AnchoredLogDigest | null = null;
  private anchoredAt: bigint | null = null;
  private anchorTimer: NodeJS.Timeout | null = null;
  private mismatchReported = false;

  constructor(
    private readonly store: EventStore,
    private readonly codec: EventCodec,
    private readonly vault: PersonalDataVault,
    private readonly policy: RoutingPolicy,
    private readonly db: Database.Database,
    private readonly now: () => Date = () => new Date(),
    /** Where the log's digest is anchored, apart from the log (null: not anchored, as in most tests). */
    private readonly anchors: LogAnchors | null = null,
    private readonly anchorEveryMs = ANCHOR_EVERY_MS,
  ) {
    this.state = new RouterState(db, vault.namedKey('person-match'));
    this.followUps = new CaseFollowUps(store, codec, policy, this.state, now);
    this.read = this.state.checkpoint(CHECKPOINT);
  }

  get failed(): unknown {
    return this.failure;
  }

  get checkpoint(): bigint | undefined {
    return this.read?.position;
  }

  /** Where the log stopped agreeing with its anchors (tampered with, or restored from an older copy); null if it agrees. */
  get logAnchorMismatch(): AnchorMismatch | null {
    return this.digest?.mismatch ?? null;
  }

  start(): void {
    if (this.running) return;
    this.stopping = false;
    if (this.anchors) this.anchorTimer ??= setInterval(() => this.anchor(), this.anchorEveryMs).unref();
    this.running = this.run();
  }

  private async run(): Promise<void> {
    for (let attempt = 1; !this.stopping; attempt += 1) {
      let subscription: Subscription | null = null;
      try {
        await this.alignWithLog();
        await this.resumeDigest();
        if (this.stopping) return;
        this.retrying = 0; // the store answered
        // Unfiltered on purpose: the checkpoint must pass the case events this router appends itself, or a caller
        // waiting for the head of the log would wait for ever. Events that are not routing's business are skipped.
        subscription = this.store.subscribeToAll({ fromPosition: this.read?.position });
        this.subscription = subscription;
        for await (const event of subscription) {
          await this.handleUntilDone(event);
          attempt = 0;
          this.read = checkpointAt(event);
          this.passed(event);
          // Every handling is idempotent, so the checkpoint may lag a little: a write per event (most of them not
          // routing's business) cost a commit each; a restart re-reads at most the last hundred.
          if ((this.unsaved += 1) >= 100) this.saveCheckpoint();
          if (this.waiters.length > 0) this.waiters = this.waiters.filter((waiter) => (waiter.position <= event.position ? (waiter.resolve(), false) : true));
        }
        if (this.stopping) return;
        // A subscription that ends on its own (a dropped connection to the server) is read again, not taken as done.
        throw new Error('the subscription to the log ended');
      } catch (error) {
        if (this.stopping) return;
        if (error instanceof RouterStopped) {
          // Only when even the failure could not be recorded: stop rather than skip a referral; health reports it.
          this.failure = error.cause;
          logFailure(`router stopped after position ${this.read?.position ?? 'start'}`, error.cause);
          return;
        }
        // Reading the log failed: read on from where the router got to, once the store answers again.
        if (this.retrying === 0 || attempt % 20 === 0) logFailure(`router resubscribing after position ${this.read?.position ?? 'start'}`, error);
        this.retrying += 1;
        await subscription?.close().catch(() => undefined);
        await this.backOff(attempt);
      }
    }
  }

  /**
   * A log that is not the one the state was read from (restored from a backup: shorter than the checkpoint, or
   * grown again with other events at its positions): the state may know people and cases that no longer exist, and
   * referrals appended from now on would be skipped up to the old checkpoint, never routed. The state is a cache of
   * the log: it is emptied, and the router reads the log again (every decision is made once per revision, so
   * re-reading decides nothing twice).
   */
  private async alignWithLog(): Promise<void> {
    const replaced = await logReplaced(this.store, this.read);
    if (replaced === null) return;
    process.stderr.write(`router: ${replaced} (was the log restored?); reading the log again from the start\n`);
    this.state.forgetAll();
    this.read = null;
  }

  /** Stops after the event in hand, anchors what it read, and closes its state file and its anchors (it owns them). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeFromBackOff?.();
    await this.subscription?.close();
    await this.running;
    this.running = null;
    if (this.anchorTimer) clearInterval(this.anchorTimer);
    this.anchorTimer = null;
    this.anchor();
    if (this.db.open) this.saveCheckpoint();
    if (this.db.open) this.db.close();
    this.anchors?.close();
  }

  private saveCheckpoint(): void {
    const digest = this.digest && this.digest.position === this.read?.position ? { position: this.digest.position!, value: this.digest.value } : undefined;
    if (this.read) this.state.saveCheckpoint(CHECKPOINT, this.read, digest);
    this.unsaved = 0;
  }

  /**
   * The log's digest at the checkpoint: saved with it, or (a state file from before it was kept) folded once from
   * the start of the log. A log that ends before its latest anchor was cut short or restored: said at once.
   */
  private async resumeDigest(): Promise<void> {
    const at = this.read?.position ?? null;
    if (this.digest?.position === at) return;
    const saved = at === null ? null : this.state.digestAt(CHECKPOINT);
    if (at === null || saved?.position === at) this.digest = new AnchoredLogDigest(this.anchors, saved?.value, at ?? null);
    else {
      const digest = new AnchoredLogDigest(this.anchors);
      for await (const event of this.store.readAll()) {
        if (event.position > at) break;
        digest.add(event);
      }
      this.digest = digest;
    }
    this.digest.checkHead(await this.store.headPosition());
    this.reportMismatch();
  }

  private passed(event: RecordedEvent): void {
    if (!this.digest) return;
    const agreed = this.digest.mismatch === null;
    this.digest.add(event);
    if (agreed) this.reportMismatch();
  }

  /** Once: the log is not the one anchored. Positions only; the router goes on routing (people still need it). */
  private reportMismatch(): void {
    const mismatch = this.digest?.mismatch;
    if (!mismatch || this.mismatchReported) return;
    this.mismatchReported = true;
    process.stderr.write(`router: the log differs from its anchors at position ${mismatch.position} (anchored ${mismatch.anchoredAt}): ${mismatch.reason}; run npm run audit:verify\n`);
  }

  /** The digest where the router has read to, past every anchor already kept, and only while the log agrees with them. */
  private anchor(): void {
    const digest = this.digest;
    if (!this.anchors || !digest || digest.position === null || digest.eventId === null || digest.mismatch || !digest.pastAnchors) return;
    if (this.anchoredAt === digest.position) return;
    try {
      this.anchors.record({ position: digest.position, eventId: digest.eventId, digest: digest.value, anchoredAt: this.now().toISOString() });
      this.anchoredAt = digest.position;
    } catch (error) {
      // The anchors' file busy or full: routing goes on, and the next interval anchors further on.
      logFailure('router could not anchor the log this time', error);
    }
  }

  /** Resolves once the router has handled the log up to `position` (for callers that want the routes at once). */
  waitFor(position: bigint, timeoutMs = 5000): Promise<boolean> {
    if (this.read && this.read.position >= position) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = { position, resolve: () => resolve(true) };
      this.waiters.push(waiter);
      setTimeout(() => {
        this.waiters = this.waiters.filter((other) => other !== waiter);
        resolve(false);
      }, timeoutMs).unref();
    });
  }

  /**
   * Handles one event until it is done, since an event skipped could be a referral never routed. A failure of the
   * store or of the router's own file is retried with back-off, for as long as it lasts (metrics and health show
   * it). A failure on the referral's own data (a rule's assumption broken, or a bug) would fail every retry and
   * hold up everyone's referrals behind it: it is recorded on that referral instead, which the SPOC team then
   * routes by hand, and the router goes on.
   */
  private async handleUntilDone(event: RecordedEvent): Promise<void> {
    let dataFailure: unknown = null;
    for (let attempt = 1; ; attempt += 1) {
      try {
        if (dataFailure) await this.recordRoutingFailed(event, dataFailure);
        else await this.handle(event);
        this.retrying = 0;
        return;
      } catch (error) {
        if (this.stopping || error instanceof RouterStopped) throw error;
        if (isDataFailure(error)) {
          if (dataFailure) throw new RouterStopped(error); // it cannot even be recorded
          dataFailure = error;
          continue;
        }
        if (this.retrying === 0 || attempt % 20 === 0) logFailure(`router retrying at position ${event.position}`, error);
        this.retrying += 1;
        await this.backOff(attempt);
        if (this.stopping) throw error;
      }
    }
  }

  private backOff(attempt: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.min(5000, 25 * 2 ** Math.min(attempt, 8)));
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeFromBackOff = done;
    });
  }

  private async recordRoutingFailed(event: RecordedEvent, error: unknown): Promise<void> {
    const referralId = event.streamId.startsWith('referral-')
      ? event.streamId.slice('referral-'.length)
      : this.state.caseById(event.streamId.slice('case-'.length))?.referralId ?? (event.data as { referralId?: string }).referralId;
    if (typeof referralId !== 'string') throw new RouterStopped(error);
    const failed: RoutingFailed = {
      type: 'RoutingFailed',
      data: { referralId, failedAt: this.now().toISOString(), errorKind: errorKind(error), onEventType: event.type },
    };
    const at = await appendOnce(this.store, this.codec, { streamId: streams.referral(referralId), expected: 'any', idName: `routing-failed\n${event.id}` }, failed, routerContext(event));
    if (at !== null) {
      this.referralsFailed += 1;
      // A refuge unit asked for just before the failure belongs to no decision, and no case of it will ever end.
      // The one asked for on this very event (by this router, or by one that stopped or crashed before deciding), if
      // it is still live and no decision stored since holds it (another router's, reusing it), whatever the decision
      // before holds (its stay may have ended) and wherever the failure stands (recorded before, by a router that
      // failed on the same event: older than the request). Otherwise one asked for before the failure, unless the
      // latest decision holds it.
      const latest = await this.latestDecisionOf(referralId);
      const live = (await refugeRequestsOf(this.store, this.policy.provisions.refuge.capacityUnits ?? 0, referralId)).live;
      const own = live && live.askedOn === event.id ? live : null;
      const held = latest !== null && holdsRefugeUnit(latest.data);
      if (own ? !(held && latest!.position > own.position) : !held) await this.followUps.releaseRefugeUnit(referralId, own ? { requestId: own.requestId } : at, event);
    }
    logFailure(`router could not handle the event at position ${event.position}; its referral is flagged for routing by hand`, error);
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
        // Every victim is indexed as the log is read, decided or not yet: a state file rebuilt from the log (or a
        // second router) must know every earlier referral, or a repeat victim would be taken for a first one.
        this.received = { eventId: event.id, decoded: this.codec.decode(event) };
        return this.index(this.received.decoded.data as unknown as ReferralReceived['data']);
      case 'NeedsRecorded':
        return this.state.noteNeedsRestated((event.data as unknown as NeedsRecorded['data']).referralId);
      case 'ReferralRouted':
        return this.carryOut(this.codec.decode<ReferralRouted['data']>(event).data, event, event.position);
      case 'ReferralErased':
        this.received = null; // nothing opened stays in memory past an erasure, whosever it was
        return this.forgetErased(event);
      default:
        return;
    }
  }

  /**
   * The API destroys the key right after recording an erasure; a crash between the two would leave the data
   * readable, so the router destroys it too (it is idempotent). The person leaves the repeat index: a referral made
   * in error, or kept past retention, is no one's earlier referral. Each case says so on its stream, which the Kafka
   * relay carries to the providers' own systems.
   */
  private async forgetErased(event: RecordedEvent): Promise<void> {
    const { referralId } = event.data as { referralId: string };
    for await (const first of this.store.readStream(event.streamId, { maxCount: 1 })) {
      const keyId = sealingKeyId(first);
      if (keyId) this.vault.destroyKey(keyId);
    }
    this.state.forgetPerson(referralId);
    for (const { caseId } of this.state.casesOf(referralId)) await this.followUps.markDetailsErased(caseId, event);
    // A unit asked for by a decision the erasure overtook (the append then lost its race) belongs to no case, even
    // one asked for after the erasure was recorded (the router read the stream before it): no stay can follow.
    await this.followUps.releaseRefugeUnit(referralId, 'any', event);
  }

  private async decide(trigger: RecordedEvent, attempt = 1): Promise<void> {
    const streamId = trigger.streamId;
    const recorded: RecordedEvent[] = [];
    for await (const event of this.store.readStream(streamId)) recorded.push(event);
    // A later event on the stream means this revision was decided already, or a newer assessment will be. A routing
    // failure recorded since is no decision: it must not hide a consent or an assessment still to be decided.
    const last = recorded.filter((event) => event.type !== 'RoutingFailed').pop()!;
    if (last.revision !== trigger.revision) return;
    const head = recorded[recorded.length - 1].revision;
    // The receipt was opened a moment ago to index the person (it is the event before its assessment): not twice.
    const decoded = recorded.map((event) => (event.id === this.received?.eventId ? this.received.decoded : this.codec.decode(event)));
    const received = decoded.find((event) => event.type === 'ReferralReceived')!.data as unknown as ReferralReceived['data'];
    if (!received.submission) {
      // A key the key file never held is a loss, not an erasure: the failure flags the referral for routing by hand.
      const keyId = sealingKeyId(recorded[0]);
      if (keyId && !this.vault.knowsKey(keyId)) throw new SubjectKeyMissingError();
      return; // erased before it was routed: nothing personal left to route on
    }
    // The latest assessment and the latest consent, whichever of them (or the receipt) triggered this decision.
    const assessment = lastOf<RiskAssessed['data']>(decoded, 'RiskAssessed');
    const consent = lastOf<ConsentRecorded['data']>(decoded, 'ConsentRecorded');
    const needs = lastOf<NeedsRecorded['data']>(decoded, 'NeedsRecorded');
    const previous = decoded.filter((event) => event.type === 'ReferralRouted').map((event) => event.data as unknown as ReferralRouted['data']);
    const routedAt = this.now().toISOString();

    const keyId = sealingKeyId(recorded[0]);
    const key = keyId ? this.vault.keyFor(keyId) : null;
    if (!keyId || !key) return;

    const repeat = received.referralType === 'perpetrator'
      ? { isRepeat: false, previousReferralIds: [], repeatMarac: false, maracReferralIds: [], possibleMatchReferralIds: [] }
      : findRepeats(this.personOf(received), this.state, this.policy);
    // Indexed on receipt already; again here (a no-op then) for a state file whose receipts were read by an older
    // router that indexed people only as it decided them.
    this.index(received);

    const consentGiven = consent ? consent.given : received.submission.consent.given;
    const factsWith = (refugeUnitsFree: number) => gatherFacts({ received, assessment, consent, needs, repeat, refugeUnitsFree, routedAt, policy: this.policy });
    let facts = factsWith(0);
    let outcome = evaluateRouting(facts, this.policy);
    // Whether the refuge is a route does not depend on a unit being free (only routed or waitlisted does), so a unit
    // is asked for only when the decision sends the person there: a request with no refuge case would never be
    // released, and the unit would be lost to everyone.
    // Without consent no unit is asked for, but whether one is free now still decides whether a national search is
    // flagged: the route waits for consent either way.
    if (outcome.routes.some((route) => route.provision === 'refuge')) {
      facts = factsWith(consentGiven ? await this.requestRefuge(received.referralId, routedAt, this.releasedByFailure(recorded, previous), trigger) : await this.refugeUnitsFree(received.referralId));
      outcome = evaluateRouting(facts, this.policy);
    }
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
    let decidedAt: bigint;
    try {
      decidedAt = (await this.store.append(streamId, this.codec.encode([decision], routerContext(trigger), { keyId, key }), head)).position;
    } catch (error) {
      // The stream moved on since it was read. Read it again: if another router decided (or a newer assessment came),
      // there is nothing left to do; if all it added was a routing failure, that is no decision, and this one stands.
      // Past a few lost races in a row, the usual retry with back-off takes over.
      if (error instanceof WrongExpectedVersionError && attempt < DECISION_ATTEMPTS) return this.decide(trigger, attempt + 1);
      throw error;
    }
    // Cases open at once rather than when this decision comes back round the log; that later pass finds them open.
    // Whether a unit may have been asked for: the referral, or any reassessment since, said the person needed one.
    const everNeeded = received.submission.needs.safeAccommodation || decoded.some((event) => event.type === 'NeedsRecorded' && (event.data as unknown as NeedsRecorded['data']).needs.safeAccommodation);
    await this.carryOut(decision.data, trigger, decidedAt, everNeeded);
  }

  /** Opens the decision's new cases and supersedes dropped ones: each append is idempotent, so replays are safe. */
  private async carryOut(routed: ReferralRouted['data'], event: RecordedEvent, decidedAt: bigint, everNeeded = false): Promise<void> {
    if (routed.outcome.marac) this.state.recordMaracListing(routed.referralId, routed.facts.routedAt);
    const context = routerContext(event);
    const { opened, superseded } = caseEventsOf(routed);
    // Known at once, not only when each CaseOpened comes back round the log: a decline or a freed refuge unit
    // handled before then must already see these cases.
    for (const caseEvent of opened) this.state.rememberCase(caseEvent.data.caseId, caseEvent.data.referralId, caseEvent.data.provision);
    // The latest decision no longer sends the person to the refuge (or holds the route for consent): whatever
    // request the referral has ends with it. Otherwise a request whose decision lost a race to a newer one, or whose
    // route a later decision dropped before its case opened, or whose need a reassessment took back, would keep a
    // unit from everyone for good.
    if ((routed.facts.needsSafeAccommodation || everNeeded || this.state.needsWereRestated(routed.referralId)) && !holdsRefugeUnit(routed) && (await this.latestDecisionOf(routed.referralId))?.data.decisionNumber === routed.decisionNumber) {
      await this.followUps.releaseRefugeUnit(routed.referralId, decidedAt, event);
    }
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
    await this.followUps.reprioritiseKept(routed, event);
  }

  /** The referral's latest decision, as stored (its sealed parts left sealed). */
  private async latestDecisionOf(referralId: string): Promise<{ data: ReferralRouted['data']; position: bigint } | null> {
    let latest: { data: ReferralRouted['data']; position: bigint } | null = null;
    for await (const event of this.store.readStream(streams.referral(referralId))) {
      if (event.type === 'ReferralRouted') latest = { data: event.data as unknown as ReferralRouted['data'], position: event.position };
    }
    return latest;
  }

  private personOf(received: ReferralReceived['data'] & { submission: NonNullable<ReferralReceived['data']['submission']> }) {
    const subject = received.submission.subject;
    const other = received.submission.otherParty;
    return {
      referralId: received.referralId,
      receivedAt: received.receivedAt,
      ...this.state.hashPerson(
        { ...subject, firstName: subject.firstName },
        other ? { firstName: other.firstName, lastName: other.lastName, dateOfBirth: other.dateOfBirth, policePersonId: other.policePersonId } : null,
      ),
    };
  }

  private index(received: ReferralReceived['data']): void {
    if (received.submission && received.referralType !== 'perpetrator') this.state.remember(this.personOf({ ...received, submission: received.submission }));
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
   * The referral's refuge request (asked for when it has none that holds or waits for a unit; one per stay), and
   * the units that were free when it was placed, or 0 if it waits.
   */
  /**
   * Where on the stream the last routing failure is, when whoever recorded it releases any refuge unit the referral
   * asked for before it (no decision holds one: see `recordRoutingFailed`); otherwise null.
   */
  private releasedByFailure(recorded: RecordedEvent[], previous: ReferralRouted['data'][]): bigint | null {
    const failure = recorded.filter((event) => event.type === 'RoutingFailed').pop();
    const latest = previous[previous.length - 1];
    return failure && !(latest && holdsRefugeUnit(latest)) ? failure.position : null;
  }

  private async refugeUnitsFree(referralId: string): Promise<number> {
    const capacity = this.policy.provisions.refuge.capacityUnits ?? 0;
    const { state, live } = await refugeRequestsOf(this.store, capacity, referralId);
    // A unit this person holds already (consent given, now withdrawn) is one they could have: theirs is no search.
    const own = live && refugeUnits.statusOf(state, live.requestId) === 'placed' ? 1 : 0;
    return refugeUnits.unitsFree(state, capacity) + own;
  }

  private async requestRefuge(referralId: string, at: string, releasedBefore: bigint | null, trigger: RecordedEvent): Promise<number> {
    const capacity = this.policy.provisions.refuge.capacityUnits ?? 0;
    let requests = await refugeRequestsOf(this.store, capacity, referralId);
    // A request made before a routing failure (another router's, recorded while this one decided) is that router's
    // to release, perhaps only after this read: released here first (the same release, so it counts once) and asked
    // for anew, or this decision would hold a unit that is about to go to someone else.
    if (requests.live && releasedBefore !== null && requests.live.position < releasedBefore) {
      await this.followUps.releaseRefugeUnit(referralId, releasedBefore, trigger);
      requests = await refugeRequestsOf(this.store, capacity, referralId);
    }
    // Asked once: the stream is long-lived, so a repeat append would not be recognised by the store as a retry.
    if (!requests.live) {
      const requestId = requests.nextRequestId;
      const request: RefugeEvent = { type: 'RefugeUnitRequested', data: { requestId, referralId, requestedAt: at } };
      // Its causation names the event it was asked for on: a failure on that event finds it, after a restart too.
      const [encoded] = this.codec.encode([request], { actor: { id: 'router', role: 'system' }, correlationId: requestId, causationId: trigger.id });
      encoded.id = requestId;
      await this.store.append(streams.refuge(), [encoded], 'any');
      requests = await refugeRequestsOf(this.store, capacity, referralId);
    }
    const live = requests.live;
    return live && refugeUnits.statusOf(requests.state, live.requestId) === 'placed' ? Math.max(1, live.unitsFreeBefore) : 0;
  }
}

function holdsRefugeUnit(decision: ReferralRouted['data']): boolean {
  return decision.cases.some((route) => route.provision === 'refuge' && route.status !== 'held-awaiting-consent');
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

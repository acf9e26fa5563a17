import Database from 'better-sqlite3';
import { streams } from '@spoc/domain';
import {
  InvalidAppendError,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeOptions,
} from '@spoc/event-store';
import { appendOnce, nameBasedUuid } from '@spoc/platform';
import { needsRefuge, oneRefugeUnit, routerTestKit } from './testing/router-test-kit';

type Matches = (streamId: string, events: readonly NewEvent[]) => boolean;

const isDecision: Matches = (streamId, events) => streamId.startsWith('referral-') && events.some((event) => event.type === 'ReferralRouted');

/**
 * The real store, except that the next append a test names is refused once, before it reaches SQLite: the only way
 * to make one particular step of the router fail at the moment the race needs it.
 */
class RefusingStore implements EventStore {
  private refusal: { matches: Matches; error: Error } | null = null;
  private interposed: { matches: Matches; run: () => Promise<void> } | null = null;
  refused = 0;

  constructor(private readonly inner: EventStore) {}

  refuseNext(matches: Matches, error: Error): void {
    this.refusal = { matches, error };
  }

  /** Runs `run` (another writer's append) just before the next matching append reaches the store. */
  interposeBeforeNext(matches: Matches, run: () => Promise<void>): void {
    this.interposed = { matches, run };
  }

  async append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision) {
    const refusal = this.refusal;
    if (refusal?.matches(streamId, events)) {
      this.refusal = null;
      this.refused += 1;
      throw refusal.error;
    }
    const interposed = this.interposed;
    if (interposed?.matches(streamId, events)) {
      this.interposed = null;
      await interposed.run();
    }
    return this.inner.append(streamId, events, expected);
  }
  readStream(streamId: string, options?: ReadStreamOptions) {
    return this.inner.readStream(streamId, options);
  }
  readAll(options?: ReadAllOptions) {
    return this.inner.readAll(options);
  }
  subscribeToAll(options?: SubscribeOptions) {
    return this.inner.subscribeToAll(options);
  }
  streamRevision(streamId: string) {
    return this.inner.streamRevision(streamId);
  }
  headPosition() {
    return this.inner.headPosition();
  }
  close() {
    return this.inner.close();
  }
}

describe('the router, when a refuge unit is asked for in the middle of a race or a failure', () => {
  let refusing: RefusingStore;
  const kit = routerTestKit({ directoryPrefix: 'spoc-router-refuge-races-', wrapStore: (store) => (refusing = new RefusingStore(store)) });
  const { stopRouter, read, closeCase, decisionsOf, refugeRoute, typesOf, settle } = kit;
  const startRouter = () => kit.startRouter(oneRefugeUnit);
  const receive = (reference: string) => kit.receive(reference, needsRefuge, 'victim', oneRefugeUnit);
  /** The next decision's append is refused: by default as an error of the referral's own, which flags it. */
  const refuseDecision = (error: Error = new InvalidAppendError('refused by the test')) => refusing.refuseNext(isDecision, error);

  it('releases the unit asked for by a referral whose decision could not be stored, so the next person is placed', async () => {
    const router = startRouter();
    // Not a failure that passes with time: the router must flag the referral rather than retry it for ever.
    refuseDecision();
    const failed = await receive('DECISION-REFUSED');
    await settle(router);

    expect(refusing.refused).toBe(1);
    expect(router.failed).toBeNull();
    expect(await decisionsOf(failed)).toEqual([]);
    expect((await typesOf(streams.referral(failed))).slice(-1)).toEqual(['RoutingFailed']);
    const refuge = await read(streams.refuge());
    expect(refuge.map((event) => event.type)).toEqual(['RefugeUnitRequested', 'RefugeUnitReleased']);
    expect(refuge.map((event) => event.data)).toEqual([
      expect.objectContaining({ referralId: failed }),
      expect.objectContaining({ requestId: (refuge[0].data as { requestId: string }).requestId }),
    ]);

    const next = await receive('NEXT-FOR-THE-UNIT');
    await settle(router);
    expect((await refugeRoute(next)).status).toBe('routed');
  });

  it('releases the unit asked for by a router that stopped before deciding, when the next one fails on the same event', async () => {
    refuseDecision();
    const first = startRouter();
    await receive('ASKED-THEN-STOPPED');
    await settle(first);
    await stopRouter(first);
    // A second router asks for a unit anew and stops (or crashes) while its decision waits out a busy store: the
    // request outlives it, and the failure on this event is already recorded, older than the request.
    refuseDecision(Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }));
    const second = kit.startRouter(oneRefugeUnit, 'second-router-state.sqlite');
    while (refusing.refused < 2) await new Promise((resolve) => setTimeout(resolve, 2));
    await stopRouter(second);
    expect(await typesOf(streams.refuge())).toEqual(['RefugeUnitRequested', 'RefugeUnitReleased', 'RefugeUnitRequested']);
    // A third, knowing nothing of it but the log, decides on the same event and fails again.
    refuseDecision();
    const third = kit.startRouter(oneRefugeUnit, 'third-router-state.sqlite');
    await settle(third);

    expect(refusing.refused).toBe(3);
    expect(await typesOf(streams.refuge())).toEqual(['RefugeUnitRequested', 'RefugeUnitReleased', 'RefugeUnitRequested', 'RefugeUnitReleased']);
    const next = await receive('NEXT-AFTER-THE-STOPPED-ROUTER');
    await settle(third);
    expect((await refugeRoute(next)).status).toBe('routed');
  });

  it('releases the unit a second reader asks for again on a referral whose decision fails again', async () => {
    refuseDecision();
    const first = startRouter();
    await receive('FAILS-TWICE');
    await settle(first);
    await stopRouter(first);
    // A second router, or a state file rebuilt from the log: the failure does not hide the assessment, so it is
    // decided again, a unit asked for anew, and the decision fails again (the failure it records is the first one).
    refuseDecision();
    const second = kit.startRouter(oneRefugeUnit, 'another-router-state.sqlite');
    await settle(second);

    expect(refusing.refused).toBe(2);
    expect(await typesOf(streams.refuge())).toEqual(['RefugeUnitRequested', 'RefugeUnitReleased', 'RefugeUnitRequested', 'RefugeUnitReleased']);
    const next = await receive('NEXT-AFTER-TWO-FAILURES');
    await settle(second);
    expect((await refugeRoute(next)).status).toBe('routed');
  });

  it('releases the unit a reassessment asked for when its decision failed, after the stay of the decision before had ended', async () => {
    const router = startRouter();
    const referralId = await receive('STAYED-THEN-REASSESSED');
    await settle(router);
    await closeCase((await refugeRoute(referralId)).caseId, referralId);
    await settle(router);
    refuseDecision();
    await kit.reassess(referralId, 15, oneRefugeUnit);
    await settle(router);

    expect(refusing.refused).toBe(1);
    // The decision before still routes to the refuge, but its stay has ended: the request belongs to no one.
    expect(await typesOf(streams.refuge())).toEqual(['RefugeUnitRequested', 'RefugeUnitReleased', 'RefugeUnitRequested', 'RefugeUnitReleased']);
    const next = await receive('NEXT-AFTER-FAILED-REASSESSMENT');
    await settle(router);
    expect((await refugeRoute(next)).status).toBe('routed');
  });

  it('keeps the unit of a stored decision when opening its refuge case fails afterwards', async () => {
    const router = startRouter();
    refusing.refuseNext(
      (streamId, events) => streamId.startsWith('case-') && events.some((event) => event.type === 'CaseOpened' && (event.data as { provision?: string }).provision === 'refuge'),
      new InvalidAppendError('refused by the test'),
    );
    const first = await receive('DECIDED-THEN-OPENING-FAILED');
    await settle(router);
    expect(refusing.refused).toBe(1);
    expect(await decisionsOf(first)).toHaveLength(1);
    expect(await typesOf(streams.refuge())).toEqual(['RefugeUnitRequested']);
    const next = await receive('NEXT-FOR-THE-HELD-UNIT');
    await settle(router);
    expect((await refugeRoute(next)).status).toBe('waitlisted');
  });

  it('keeps the unit another router reused for a newer decision before this attempt failed', async () => {
    const router = startRouter();
    const referralId = nameBasedUuid('test\nREUSED-BY-ANOTHER');
    refusing.interposeBeforeNext(isDecision, async () => {
      // This router has asked for the unit and is about to store its decision: a reassessment comes in, another
      // router decides it (the unit's request is live, so it is that decision's), and then this attempt fails.
      await kit.reassess(referralId, 15, oneRefugeUnit);
      const other = kit.startRouter(oneRefugeUnit, 'another-router-state.sqlite');
      await settle(other);
      await stopRouter(other);
      throw new InvalidAppendError('refused by the test');
    });
    expect(await receive('REUSED-BY-ANOTHER')).toBe(referralId);
    await settle(router);
    expect((await decisionsOf(referralId)).map((decision) => decision.cases.find((route) => route.provision === 'refuge')?.status)).toEqual(['routed']);
    const next = await receive('NEXT-AFTER-THE-REUSE');
    await settle(router);
    expect((await refugeRoute(next)).status).toBe('waitlisted');
  });

  it('offers the unit at once to a waitlisted case whose request was placed before its opening was read', async () => {
    let router = startRouter();
    const first = await receive('IN-REFUGE');
    await settle(router);
    const stay = await refugeRoute(first);
    expect(stay.status).toBe('routed');
    await stopRouter(router);

    // While the router is behind: a second person needing refuge, then the end of the first stay. The waitlisted
    // case's opening is refused once for a while (SQLite busy), as a crash between the decision and the opening
    // would leave it: the decision's own pass does not open it again, so it opens only when the decision comes back
    // round the log, after the first stay's end has been read and its unit handed to this request.
    const waiting = await receive('WAITING');
    await closeCase(stay.caseId, first);
    refusing.refuseNext(
      (streamId, events) => streamId.startsWith('case-') && events.some((event) => event.type === 'CaseOpened' && (event.data as { status?: string }).status === 'waitlisted'),
      new Database.SqliteError('database is locked', 'SQLITE_BUSY'),
    );
    router = startRouter();
    await settle(router);

    expect(refusing.refused).toBe(1);
    const route = await refugeRoute(waiting);
    expect(route.status).toBe('waitlisted');
    const log: RecordedEvent[] = [];
    for await (const event of kit.store.readAll()) log.push(event);
    const released = log.find((event) => event.type === 'RefugeUnitReleased')!;
    const opened = log.find((event) => event.streamId === streams.case(route.caseId) && event.type === 'CaseOpened')!;
    // The ordering this test is about: the unit was this request's before the waitlisted case existed.
    expect(released.position).toBeLessThan(opened.position);
    expect(await typesOf(streams.case(route.caseId))).toEqual(['CaseOpened', 'RefugePlaceOffered']);
  });

  it('decides a referral on which another router recorded only a routing failure between its read and its decision', async () => {
    const router = startRouter();
    const referralId = nameBasedUuid('test\nOTHER-ROUTER-FAILED'); // the id the kit derives from the reference
    // What a second router that failed on the same assessment appends, landing just before this router's decision:
    // the failure, and the release of the unit asked for (which no decision holds).
    refusing.interposeBeforeNext(
      (streamId, events) => streamId.startsWith('referral-') && events.some((event) => event.type === 'ReferralRouted'),
      async () => {
        const failedAt = new Date().toISOString();
        await kit.appendToReferral(referralId, [{ type: 'RoutingFailed', data: { referralId, failedAt, errorKind: 'TypeError', onEventType: 'RiskAssessed' } }]);
        const request = (await read(streams.refuge()))[0].data as { requestId: string };
        await kit.store.append(streams.refuge(), kit.codec.encode([{ type: 'RefugeUnitReleased', data: { requestId: request.requestId, releasedAt: failedAt } }], { actor: { id: 'router', role: 'system' }, correlationId: 'c', causationId: null }), 'any');
      },
    );
    expect(await receive('OTHER-ROUTER-FAILED')).toBe(referralId);
    await settle(router);

    expect((await typesOf(streams.referral(referralId))).slice(-2)).toEqual(['RoutingFailed', 'ReferralRouted']);
    expect(await decisionsOf(referralId)).toHaveLength(1);
    // The unit the failure released is asked for again, and the person is placed.
    expect((await refugeRoute(referralId)).status).toBe('routed');
    expect(await typesOf(streams.refuge())).toEqual(['RefugeUnitRequested', 'RefugeUnitReleased', 'RefugeUnitRequested']);
  });

  it('keeps one person to a unit when the other router releases the unit only after this one has read it again', async () => {
    const router = startRouter();
    const referralId = nameBasedUuid('test\nRELEASED-LATE');
    // The other router's failure lands before this router's first decision; its release of the unit asked for
    // before it (recorded once, whoever appends it) only before the decision made after reading the referral again.
    refusing.interposeBeforeNext(isDecision, async () => {
      const failedAt = new Date().toISOString();
      await kit.appendToReferral(referralId, [{ type: 'RoutingFailed', data: { referralId, failedAt, errorKind: 'TypeError', onEventType: 'RiskAssessed' } }]);
      refusing.interposeBeforeNext(isDecision, async () => {
        const { requestId } = (await read(streams.refuge()))[0].data as { requestId: string };
        await appendOnce(kit.store, kit.codec, { streamId: streams.refuge(), expected: 'any', idName: `refuge-release\n${requestId}` }, { type: 'RefugeUnitReleased', data: { requestId, releasedAt: failedAt } }, { actor: { id: 'router', role: 'system' }, correlationId: 'c', causationId: null });
      });
    });
    expect(await receive('RELEASED-LATE')).toBe(referralId);
    await settle(router);
    const next = await receive('NEXT-AFTER-LATE-RELEASE');
    await settle(router);

    expect((await refugeRoute(referralId)).status).toBe('routed');
    expect((await refugeRoute(next)).status).toBe('waitlisted');
    const refuge = (await read(streams.refuge())).map((event) => [event.type, (event.data as { referralId?: string }).referralId ?? null]);
    expect(refuge).toEqual([
      ['RefugeUnitRequested', referralId],
      ['RefugeUnitReleased', null],
      ['RefugeUnitRequested', referralId],
      ['RefugeUnitRequested', next],
    ]);
  });

  it('releases the unit asked for by a decision that an erasure overtook', async () => {
    const router = startRouter();
    let erasedFirst = '';
    // What the API's erasure appends, landing between the router's request for a unit and its decision.
    refusing.interposeBeforeNext(
      (streamId, events) => streamId.startsWith('referral-') && events.some((event) => event.type === 'ReferralRouted'),
      async () => {
        const referralId = (erasedFirst = (await kit.read(streams.refuge())).map((event) => (event.data as { referralId?: string }).referralId).find(Boolean) ?? '');
        await kit.appendToReferral(referralId, [{ type: 'ReferralErased', data: { referralId, reason: 'made-in-error', erasedAt: new Date().toISOString() } }]);
      },
    );
    const erased = await receive('ERASED-MID-DECISION');
    await kit.settle(router);
    expect(erasedFirst).toBe(erased);
    expect(await kit.decisionsOf(erased)).toEqual([]);
    expect(await kit.typesOf(streams.refuge())).toEqual(['RefugeUnitRequested', 'RefugeUnitReleased']);

    const next = await receive('NEXT-NEEDING-REFUGE');
    await kit.settle(router);
    expect((await kit.refugeRoute(next)).status).toBe('routed');
  });

  it('releases the unit asked for after an erasure was recorded, by a router that had read the stream before it', async () => {
    const router = startRouter();
    const referralId = nameBasedUuid('test\nERASED-EARLY'); // the id the kit derives from the reference
    refusing.interposeBeforeNext(
      (streamId, events) => streamId === streams.refuge() && events.some((event) => event.type === 'RefugeUnitRequested'),
      () => kit.appendToReferral(referralId, [{ type: 'ReferralErased', data: { referralId, reason: 'made-in-error', erasedAt: new Date().toISOString() } }]),
    );
    expect(await receive('ERASED-EARLY')).toBe(referralId);
    await kit.settle(router);
    expect(await kit.decisionsOf(referralId)).toEqual([]);
    expect(await kit.typesOf(streams.refuge())).toEqual(['RefugeUnitRequested', 'RefugeUnitReleased']);

    const next = await receive('NEXT-AFTER-EARLY-ERASURE');
    await kit.settle(router);
    expect((await kit.refugeRoute(next)).status).toBe('routed');
  });
});

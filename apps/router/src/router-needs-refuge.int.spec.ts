import Database from 'better-sqlite3';
import { referralDecider, streams, type RiskAssessment } from '@spoc/domain';
import type { EventStore, ExpectedRevision, NewEvent, ReadAllOptions, ReadStreamOptions, SubscribeOptions } from '@spoc/event-store';
import { ReferralHistory } from '../../api/src/audit/referral-history';
import { needsRefuge, oneRefugeUnit, routerTestKit } from './testing/router-test-kit';

/** The real store; a test may run another writer's append before the next decision, and refuse one release once (SQLite busy). */
class TestStore implements EventStore {
  private interposed: (() => Promise<void>) | null = null;
  refuseNextRelease = false;
  refused = 0;
  constructor(private readonly inner: EventStore) {}
  beforeNextDecision(run: () => Promise<void>): void {
    this.interposed = run;
  }
  async append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision) {
    if (this.refuseNextRelease && streamId === streams.refuge() && events.some((event) => event.type === 'RefugeUnitReleased')) {
      this.refuseNextRelease = false;
      this.refused += 1;
      throw new Database.SqliteError('database is locked', 'SQLITE_BUSY');
    }
    const run = this.interposed;
    if (run && streamId.startsWith('referral-') && events.some((event) => event.type === 'ReferralRouted')) {
      this.interposed = null;
      await run();
    }
    return this.inner.append(streamId, events, expected);
  }
  readStream(streamId: string, options?: ReadStreamOptions) { return this.inner.readStream(streamId, options); }
  readAll(options?: ReadAllOptions) { return this.inner.readAll(options); }
  subscribeToAll(options?: SubscribeOptions) { return this.inner.subscribeToAll(options); }
  streamRevision(streamId: string) { return this.inner.streamRevision(streamId); }
  headPosition() { return this.inner.headPosition(); }
  close() { return this.inner.close(); }
}

describe('a refuge unit asked for by a decision that lost its race to a reassessment taking the need back', () => {
  let store: TestStore;
  const kit = routerTestKit({ directoryPrefix: 'spoc-router-needs-', wrapStore: (inner) => (store = new TestStore(inner)) });

  async function lostRace(reference: string): Promise<string> {
    const answers = Object.fromEntries(Array.from({ length: 24 }, (_, n) => [`Q${n + 1}`, n < 11 ? 'yes' : 'no']));
    const riskAssessment = { tool: 'DASH', answers, professionalJudgement: { highRisk: false, rationale: null }, policeCalloutsLast12Months: 1, assessedAt: new Date().toISOString() } as unknown as RiskAssessment;
    let first = '';
    store.beforeNextDecision(async () => {
      const state = { status: 'received' as const, referralId: first, agency: 'hampshire-police', referralType: 'victim' as const, submissionDigest: 'd', assessments: 1, erased: false };
      await kit.appendToReferral(first, referralDecider.decide({ type: 'ReassessRisk', data: { referralId: first, riskAssessment, needs: { safeAccommodation: false }, reassessedAt: new Date().toISOString(), policy: oneRefugeUnit } }, state));
    });
    first = await kit.receive(reference, needsRefuge, 'victim', oneRefugeUnit);
    return first;
  }

  it('leaves no refuge unit held by a referral that no decision sends to the refuge', async () => {
    const router = kit.startRouter(oneRefugeUnit);
    const first = await lostRace('NEEDS-WITHDRAWN');
    await kit.settle(router);
    const decisions = await kit.decisionsOf(first);
    expect(decisions).toHaveLength(1);
    expect(decisions[0].facts.needsSafeAccommodation).toBe(false);
    expect(decisions[0].cases.map((route) => route.provision)).not.toContain('refuge');

    // The only unit must be free for the next person who needs it.
    const next = await kit.receive('NEXT-NEEDS-REFUGE', needsRefuge, 'victim', oneRefugeUnit);
    await kit.settle(router);
    expect(await kit.typesOf(streams.refuge())).toEqual(['RefugeUnitRequested', 'RefugeUnitReleased', 'RefugeUnitRequested']);
    expect((await kit.refugeRoute(next)).status).toBe('routed');
  });

  it('still releases the unit when the release after the decision fails once (SQLite busy) and is retried', async () => {
    const router = kit.startRouter(oneRefugeUnit);
    store.refuseNextRelease = true;
    const first = await lostRace('BUSY');
    await kit.settle(router);
    expect(store.refused).toBe(1);
    const decisions = await kit.decisionsOf(first);
    expect(decisions.map((decision) => decision.cases.map((route) => route.provision))).toEqual([expect.not.arrayContaining(['refuge'])]);

    const next = await kit.receive('BUSY-NEXT', needsRefuge, 'victim', oneRefugeUnit);
    await kit.settle(router);
    // The retry (and a restart likewise) handles the decision as it comes round the log: carryOut without `everNeeded`.
    expect(await kit.typesOf(streams.refuge())).toEqual(['RefugeUnitRequested', 'RefugeUnitReleased', 'RefugeUnitRequested']);
    expect((await kit.refugeRoute(next)).status).toBe('routed');
  });

  it("shows that referral's request for a unit and its release in the audit history", async () => {
    const router = kit.startRouter(oneRefugeUnit);
    const first = await lostRace('HISTORY');
    await kit.settle(router);
    expect(await kit.typesOf(streams.refuge())).toEqual(['RefugeUnitRequested', 'RefugeUnitReleased']);

    const history = new ReferralHistory(kit.store, kit.codec, { casesOf: () => [] });
    const view = (await history.of(first))!;
    expect(view.events.filter((event) => event.streamId === streams.refuge()).map((event) => event.type)).toEqual(['RefugeUnitRequested', 'RefugeUnitReleased']);
  });
});

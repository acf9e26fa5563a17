import { referralDecider, streams, type RiskAssessment } from '@spoc/domain';
import type { EventStore, ExpectedRevision, NewEvent, ReadAllOptions, ReadStreamOptions, SubscribeOptions } from '@spoc/event-store';
import { needsRefuge, oneRefugeUnit, routerTestKit } from './testing/router-test-kit';

/** The real store, except that a test may run another writer's append just before the router's next decision. */
class InterposingStore implements EventStore {
  private interposed: (() => Promise<void>) | null = null;
  constructor(private readonly inner: EventStore) {}
  beforeNextDecision(run: () => Promise<void>): void {
    this.interposed = run;
  }
  async append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision) {
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

describe('a reassessment that says the refuge is no longer needed, landing while the router decides', () => {
  let interposing: InterposingStore;
  const kit = routerTestKit({ directoryPrefix: 'spoc-router-needs-', wrapStore: (store) => (interposing = new InterposingStore(store)) });

  it('leaves no refuge unit held by a referral that no decision sends to the refuge', async () => {
    const router = kit.startRouter(oneRefugeUnit);
    const answers = Object.fromEntries(Array.from({ length: 24 }, (_, n) => [`Q${n + 1}`, n < 11 ? 'yes' : 'no']));
    const riskAssessment = { tool: 'DASH', answers, professionalJudgement: { highRisk: false, rationale: null }, policeCalloutsLast12Months: 1, assessedAt: new Date().toISOString() } as unknown as RiskAssessment;
    let first = '';
    // The caseworker's reassessment (needs: safe accommodation no longer) is appended after the router asked for a
    // unit on the first checklist, and before its decision lands: that decision loses the race, as designed.
    interposing.beforeNextDecision(async () => {
      const state = { status: 'received' as const, referralId: first, agency: 'hampshire-police', referralType: 'victim' as const, submissionDigest: 'd', assessments: 1, erased: false };
      await kit.appendToReferral(first, referralDecider.decide({ type: 'ReassessRisk', data: { referralId: first, riskAssessment, needs: { safeAccommodation: false }, reassessedAt: new Date().toISOString(), policy: oneRefugeUnit } }, state));
    });
    first = await kit.receive('NEEDS-WITHDRAWN', needsRefuge, 'victim', oneRefugeUnit);
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
});

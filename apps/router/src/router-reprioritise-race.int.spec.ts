import { streams, type RiskAssessment } from '@spoc/domain';
import type { EventStore, NewEvent, ExpectedRevision } from '@spoc/event-store';
import { nameBasedUuid } from '@spoc/platform';
import { basePolicy, routerTestKit } from './testing/router-test-kit';

const answers = (yes: number) => Object.fromEntries(Array.from({ length: 24 }, (_, n) => [`Q${n + 1}`, n < yes ? 'yes' : 'no']));

let beforeReprioritise: ((streamId: string) => Promise<void>) | null = null;

describe('the router reprioritising kept cases: a transfer landing as the router reprioritises', () => {
  const kit = routerTestKit({
    directoryPrefix: 'probe-repri-race-',
    wrapStore: (store) => new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'append') {
          return async (streamId: string, events: readonly NewEvent[], expected: ExpectedRevision) => {
            if (beforeReprioritise && events[0]?.type === 'CaseReprioritised') {
              const hook = beforeReprioritise;
              beforeReprioritise = null;
              await hook(streamId);
            }
            return target.append(streamId, events, expected);
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as EventStore,
  });
  const { startRouter, receive, read, reassess, decisionsOf, settle, appendToCase } = kit;

  it('brings the case a transfer opened meanwhile to the new level', async () => {
    const router = startRouter();
    const id = await receive('RACE-1', { riskAssessment: { tool: 'DASH', answers: answers(11), professionalJudgement: { highRisk: false, rationale: null }, policeCalloutsLast12Months: 0, assessedAt: new Date().toISOString() } as unknown as RiskAssessment });
    await settle(router);
    const mash = (await decisionsOf(id))[0].cases.find((c) => c.provision === 'mash')!;
    const toCaseId = nameBasedUuid(`transfer\n${mash.caseId}`);
    beforeReprioritise = async (streamId) => {
      const at = new Date().toISOString();
      await appendToCase(mash.caseId, id, [{ type: 'CaseTransferred', data: { caseId: mash.caseId, toProvision: 'victim-support', toCaseId, reason: 'adult support', transferredAt: at } }]);
      expect(streamId).toBe(streams.case(mash.caseId));
    };
    await reassess(id, 16, basePolicy);
    await settle(router);
    expect((await decisionsOf(id)).pop()!.facts.riskLevel).toBe('high');
    // Opened from the case as it stood (medium), then brought to the latest decision.
    const moved = (await read(streams.case(toCaseId))).map((event) => `${event.type}:${(event.data as { riskLevel?: string }).riskLevel}`);
    expect(moved).toEqual(['CaseOpened:medium', 'CaseReprioritised:high']);
  }, 60_000);
});

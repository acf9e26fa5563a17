import { streams } from '@spoc/domain';
import { nameBasedUuid } from '@spoc/platform';
import { basePolicy, routerTestKit } from './testing/router-test-kit';

const answers = (yes: number) => Object.fromEntries(Array.from({ length: 24 }, (_, n) => [`Q${n + 1}`, n < yes ? 'yes' : 'no']));

describe('the router reprioritising kept cases: a case moved before a later decision', () => {
  const kit = routerTestKit({ directoryPrefix: 'spoc-repri-moved-' });
  const { startRouter, stopRouter, receive, read, reassess, decisionsOf, settle, appendToCase } = kit;

  it('is not touched by a decision that never had it, live or read again by a rebuilt router', async () => {
    const router = startRouter();
    const id = await receive('TRREP-1', { riskAssessment: { tool: 'DASH', answers: answers(11), professionalJudgement: { highRisk: false, rationale: null }, policeCalloutsLast12Months: 0, assessedAt: new Date().toISOString() } as never });
    await settle(router);
    const d0 = (await decisionsOf(id))[0];
    const mash = d0.cases.find((c) => c.provision === 'mash')!;
    const toCaseId = nameBasedUuid(`transfer\n${mash.caseId}`);
    await appendToCase(mash.caseId, id, [{ type: 'CaseTransferred', data: { caseId: mash.caseId, toProvision: 'victim-support', toCaseId, reason: 'adult support', transferredAt: new Date().toISOString() } }]);
    await settle(router);
    await reassess(id, 16, basePolicy);
    await settle(router);
    const fmt = async () => (await read(streams.case(toCaseId))).map((e) => `${e.type}:${(e.data as { riskLevel?: string }).riskLevel ?? ''}:${(e.data as { decisionNumber?: number }).decisionNumber ?? ''}`);
    const before = await fmt();
    await stopRouter(router);
    const rebuilt = startRouter(basePolicy, 'router-state-rebuilt.sqlite');
    await settle(rebuilt);
    const after = await fmt();
    expect(before).toEqual(['CaseOpened:medium:0']);
    expect(after).toEqual(before);
  }, 60_000);
});

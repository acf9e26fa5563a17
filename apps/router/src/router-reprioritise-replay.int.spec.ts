import { streams } from '@spoc/domain';
import { basePolicy, routerTestKit } from './testing/router-test-kit';

const answers = (yes: number) => Object.fromEntries(Array.from({ length: 24 }, (_, n) => [`Q${n + 1}`, n < yes ? 'yes' : 'no']));

describe('the router reprioritising kept cases: CaseReprioritised on a router re-reading the log', () => {
  const kit = routerTestKit({ directoryPrefix: 'probe-repri-' });
  const { startRouter, stopRouter, receive, read, reassess, decisionsOf, settle } = kit;

  it('appends nothing when a rebuilt state reads old decisions again: an older decision moves no case', async () => {
    const router = startRouter();
    const id = await receive('REPRI-1', { riskAssessment: { tool: 'DASH', answers: answers(11), professionalJudgement: { highRisk: false, rationale: null }, policeCalloutsLast12Months: 0, assessedAt: new Date().toISOString() } });
    await settle(router);
    const d0 = (await decisionsOf(id))[0];
    const mash = d0.cases.find((c) => c.provision === 'mash')!;
    expect(mash).toBeDefined();
    await reassess(id, 16, basePolicy);
    await settle(router);
    await reassess(id, 11, basePolicy);
    await settle(router);
    // Medium, high, medium again.
    const before = (await read(streams.case(mash.caseId))).map((e) => `${e.type}:${(e.data as { riskLevel?: string }).riskLevel ?? ''}`);
    await stopRouter(router);
    const rebuilt = startRouter(basePolicy, 'router-state-rebuilt.sqlite');
    await settle(rebuilt);
    const after = (await read(streams.case(mash.caseId))).map((e) => `${e.type}:${(e.data as { riskLevel?: string }).riskLevel ?? ''}`);
    expect(before).toEqual(['CaseOpened:medium', 'CaseReprioritised:high', 'CaseReprioritised:medium']);
    expect(after).toEqual(before);
  }, 60_000);
});

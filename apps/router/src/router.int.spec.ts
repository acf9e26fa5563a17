import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parsePolicy, referralDecider, streams, type ReferralRouted, type ReferralSubmission, type RoutingPolicy } from '@spoc/domain';
import { SqliteEventStore, type RecordedEvent } from '@spoc/event-store';
import { EventCodec, nameBasedUuid, openReadModelDb, PersonalDataVault, sealingKeyId } from '@spoc/platform';
import { toReferralSubmission } from '../../api/src/referrals/referral.mapper';
import { validVictimReferral } from '../../api/src/referrals/referral.fixtures';
import type { CreateReferralDto } from '../../api/src/referrals/referral.dto';
import { Router } from './router';
import { whatIf } from './what-if';

const policy: RoutingPolicy = parsePolicy(JSON.parse(readFileSync(path.resolve(__dirname, '../../../policies/portsmouth-2026-1.json'), 'utf8')));
const context = { actor: { id: 'test-referrer', role: 'referrer' as const, agency: 'hampshire-police' }, correlationId: 'c', causationId: null };

describe('the router', () => {
  let directory: string;
  let store: SqliteEventStore;
  let vault: PersonalDataVault;
  let codec: EventCodec;
  const routers: Router[] = [];

  beforeEach(() => {
    directory = mkdtempSync(path.join(tmpdir(), 'spoc-router-'));
    store = new SqliteEventStore(path.join(directory, 'events.sqlite'));
    vault = new PersonalDataVault(path.join(directory, 'keys.sqlite'));
    codec = new EventCodec(vault);
  });
  afterEach(async () => {
    for (const router of routers.splice(0)) await router.stop();
    await store.close();
    vault.close();
    rmSync(directory, { recursive: true, force: true });
  });

  function startRouter(stateFile = 'router-state.sqlite'): Router {
    const router = new Router(store, codec, vault, policy, openReadModelDb(path.join(directory, stateFile)));
    routers.push(router);
    router.start();
    return router;
  }

  /** Receives a referral through the same decider and codec as the API, without HTTP. */
  async function receive(reference: string, overrides: Record<string, unknown> = {}): Promise<string> {
    const submission: ReferralSubmission = toReferralSubmission(validVictimReferral({ agencyReference: reference, subject: { lastName: `Person-${reference}` }, ...overrides }) as CreateReferralDto);
    const referralId = nameBasedUuid(`test\n${reference}`);
    const subject = await vault.newKey();
    const events = referralDecider.decide(
      { type: 'ReceiveReferral', data: { referralId, agency: 'hampshire-police', submission, submissionDigest: 'd', receivedAt: new Date().toISOString(), policy } },
      referralDecider.initialState(),
    );
    await store.append(streams.referral(referralId), codec.encode(events, context, subject), 'no-stream');
    return referralId;
  }

  async function decisionsOf(referralId: string): Promise<RecordedEvent[]> {
    const decisions: RecordedEvent[] = [];
    for await (const event of store.readStream(streams.referral(referralId))) if (event.type === 'ReferralRouted') decisions.push(event);
    return decisions;
  }

  async function settle(...active: Router[]): Promise<void> {
    const head = (await store.headPosition())!;
    for (const router of active) expect(await router.waitFor(head, 10_000)).toBe(true);
  }

  it('routes each referral once and opens its cases, and a restarted router routes nothing twice', async () => {
    const ids = [await receive('R1'), await receive('R2')];
    const first = startRouter();
    await settle(first);
    await first.stop();
    routers.splice(0);

    const second = startRouter();
    await receive('R3');
    await settle(second);

    for (const id of [...ids, await Promise.resolve(nameBasedUuid('test\nR3'))]) expect(await decisionsOf(id)).toHaveLength(1);
    const [decision] = await decisionsOf(ids[0]);
    const { cases } = codec.decode<ReferralRouted['data']>(decision).data;
    for (const routed of cases) expect(await store.streamRevision(streams.case(routed.caseId))).toBe(0n);
  });

  it('re-reads the events after a lagging checkpoint (a crash) without deciding or opening anything twice', async () => {
    const ids = [await receive('LAG-1'), await receive('LAG-2', { needs: { safeAccommodation: true } })];
    const first = startRouter();
    await settle(first);
    await first.stop();
    routers.splice(0);
    const head = (await store.headPosition())!;
    // As if the process died before its checkpoint caught up: the state file knows nothing of what it handled.
    const db = openReadModelDb(path.join(directory, 'router-state.sqlite'));
    db.prepare('DELETE FROM checkpoints').run();
    db.close();

    const second = startRouter();
    await settle(second);

    expect(await store.headPosition()).toBe(head);
    for (const id of ids) expect(await decisionsOf(id)).toHaveLength(1);
  });

  it('lets two routers at once produce one decision per referral revision', async () => {
    const ids = await Promise.all(Array.from({ length: 20 }, (_, n) => receive(`TWO-${n}`)));
    const a = startRouter('router-a.sqlite');
    const b = startRouter('router-b.sqlite');
    await settle(a, b);
    await settle(a, b); // the decisions they appended, handled by both

    for (const id of ids) expect(await decisionsOf(id)).toHaveLength(1);
  });

  it('places exactly 16 of 100 concurrent safe-accommodation referrals in refuge, and waitlists the rest in order', async () => {
    const ids = await Promise.all(Array.from({ length: 100 }, (_, n) => receive(`REF-${n}`, { needs: { safeAccommodation: true }, children: [] })));
    const router = startRouter();
    await settle(router);

    const outcomes: Array<{ position: bigint; status: string }> = [];
    for (const id of ids) {
      const [decision] = await decisionsOf(id);
      const refuge = codec.decode<ReferralRouted['data']>(decision).data.cases.find((routed) => routed.provision === 'refuge');
      const [received] = await collectFirst(store.readStream(streams.referral(id)));
      outcomes.push({ position: received.position, status: refuge!.status });
    }
    outcomes.sort((x, y) => (x.position < y.position ? -1 : 1));
    expect(outcomes.filter((outcome) => outcome.status === 'routed')).toHaveLength(16);
    expect(outcomes.slice(0, 16).every((outcome) => outcome.status === 'routed')).toBe(true);
    expect(outcomes.slice(16).every((outcome) => outcome.status === 'waitlisted')).toBe(true);
  }, 60_000);

  /** The case a referral's first decision opened at `provision`. */
  async function caseAt(referralId: string, provision: string): Promise<string> {
    const [decision] = await decisionsOf(referralId);
    return codec.decode<ReferralRouted['data']>(decision).data.cases.find((routed) => routed.provision === provision)!.caseId;
  }
  async function caseEvents(caseId: string): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    for await (const event of store.readStream(streams.case(caseId))) events.push(event);
    return events;
  }
  async function appendToCase(caseId: string, events: Array<{ type: string; data: object }>, referralId: string): Promise<void> {
    const revision = (await store.streamRevision(streams.case(caseId)))!;
    const [first] = await collectFirst(store.readStream(streams.referral(referralId)));
    const keyId = sealingKeyId(first)!;
    await store.append(streams.case(caseId), codec.encode(events, context, { keyId, key: vault.keyFor(keyId)! }), revision);
  }

  it('opens the target case of a transfer whose second append was lost in a crash', async () => {
    const referralId = await receive('TR-1', { children: [], riskAssessment: { answers: Object.fromEntries(Array.from({ length: 24 }, (_, n) => [`Q${n + 1}`, n < 15 ? 'yes' : 'no'])) } });
    const router = startRouter();
    await settle(router);
    const caseId = await caseAt(referralId, 'idva');
    const toCaseId = nameBasedUuid(`transfer\n${caseId}`);
    // Only the transfer itself is written, as if the API process died before opening the new case.
    await appendToCase(caseId, [{ type: 'CaseTransferred', data: { caseId, toProvision: 'outreach', toCaseId, reason: 'wants community support', transferredAt: new Date().toISOString() } }], referralId);
    await settle(router);

    const [opened] = await caseEvents(toCaseId);
    expect(opened).toMatchObject({ type: 'CaseOpened', data: { provision: 'outreach', referralId, origin: { kind: 'transfer', fromCaseId: caseId } } });
  });

  it('resolves a decline once with two routers: referred on to the fallback, whose case opens once', async () => {
    const referralId = await receive('DEC-1', { children: [] });
    const a = startRouter('router-a.sqlite');
    const b = startRouter('router-b.sqlite');
    await settle(a, b);
    const caseId = await caseAt(referralId, 'victim-support');
    await appendToCase(caseId, [{ type: 'CaseDeclined', data: { caseId, reason: 'out of our area', declinedAt: new Date().toISOString() } }], referralId);
    await settle(a, b);
    await settle(a, b);

    const types = (await caseEvents(caseId)).map((event) => event.type);
    expect(types).toEqual(['CaseOpened', 'CaseDeclined', 'CaseReferredOn']);
    const toCaseId = nameBasedUuid(`decline\n${caseId}`);
    expect((await caseEvents(toCaseId)).map((event) => [event.type, (event.data as { provision: string }).provision])).toEqual([['CaseOpened', 'outreach']]);
  });

  it('frees a refuge unit when its case closes and offers it to the first person waiting, not twice after a restart', async () => {
    const small = { ...policy, provisions: { ...policy.provisions, refuge: { ...policy.provisions.refuge, capacityUnits: 1 } } };
    const make = (file: string) => {
      const router = new Router(store, codec, vault, small, openReadModelDb(path.join(directory, file)));
      routers.push(router);
      router.start();
      return router;
    };
    const ids = [await receive('RU-1', { needs: { safeAccommodation: true }, children: [] })];
    let router = make('router-state.sqlite');
    await settle(router);
    ids.push(await receive('RU-2', { needs: { safeAccommodation: true }, children: [] }), await receive('RU-3', { needs: { safeAccommodation: true }, children: [] }));
    await settle(router);
    const [placed, next, last] = await Promise.all(ids.map((id) => caseAt(id, 'refuge')));
    const at = new Date().toISOString();
    await appendToCase(placed, [{ type: 'CaseClaimed', data: { caseId: placed, assignee: 'w', claimedAt: at } }, { type: 'CaseClosed', data: { caseId: placed, outcome: 'moved-away', note: null, closedAt: at } }], ids[0]);
    await settle(router);
    await router.stop();
    routers.splice(0);
    // A restarted router on a fresh state file handles the whole log again.
    router = make('router-fresh.sqlite');
    await settle(router);

    expect((await caseEvents(next)).map((event) => event.type)).toEqual(['CaseOpened', 'RefugePlaceOffered']);
    expect((await caseEvents(last)).map((event) => event.type)).toEqual(['CaseOpened']);
  });
});

describe('the what-if replay', () => {
  it('changes nothing under the same policy, and shows what a stricter high band would move, writing nothing', async () => {
    const directory = mkdtempSync(path.join(tmpdir(), 'spoc-whatif-'));
    const store = new SqliteEventStore(path.join(directory, 'events.sqlite'));
    const vault = new PersonalDataVault(path.join(directory, 'keys.sqlite'));
    const codec = new EventCodec(vault);
    const router = new Router(store, codec, vault, policy, openReadModelDb(path.join(directory, 'router.sqlite')));
    router.start();
    const yes = (n: number) => Object.fromEntries(Array.from({ length: 24 }, (_, q) => [`Q${q + 1}`, q < n ? 'yes' : 'no']));
    const ids: string[] = [];
    for (const [reference, score] of [['W-MED', 11], ['W-STD', 3]] as const) {
      const body = validVictimReferral({ agencyReference: reference, subject: { lastName: reference }, children: [], riskAssessment: { tool: 'DASH', answers: yes(score), professionalJudgement: { highRisk: false, rationale: null }, policeCalloutsLast12Months: 0, assessedAt: '2026-11-20T10:00:00Z' } });
      const referralId = nameBasedUuid(`whatif\n${reference}`);
      const events = referralDecider.decide(
        { type: 'ReceiveReferral', data: { referralId, agency: 'a', submission: toReferralSubmission(body as CreateReferralDto), submissionDigest: 'd', receivedAt: new Date().toISOString(), policy } },
        referralDecider.initialState(),
      );
      await store.append(streams.referral(referralId), codec.encode(events, context, await vault.newKey()), 'no-stream');
      ids.push(referralId);
    }
    expect(await router.waitFor((await store.headPosition())!, 10_000)).toBe(true);
    expect(await router.waitFor((await store.headPosition())!, 10_000)).toBe(true);
    await router.stop();
    const head = await store.headPosition();

    const same = await whatIf(store, policy);
    const stricter = await whatIf(store, { ...policy, id: 'candidate', riskThresholds: { ...policy.riskThresholds, highDashScore: 10 } });

    expect(same).toMatchObject({ referrals: 2, changed: 0 });
    expect(stricter).toMatchObject({ candidatePolicy: 'candidate', referrals: 2, changed: 1 });
    expect(stricter.byProvision).toMatchObject({ idva: { gained: 1, examples: [ids[0]] }, outreach: { lost: 1 } });
    expect(stricter.byRule['high-risk']).toMatchObject({ changed: 1 });
    expect(await store.headPosition()).toBe(head);
    await store.close();
    vault.close();
    rmSync(directory, { recursive: true, force: true });
  }, 30_000);
});

async function collectFirst<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  for await (const item of iterable) return [item];
  return [];
}

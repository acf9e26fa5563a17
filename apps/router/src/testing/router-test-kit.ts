import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parsePolicy, referralDecider, streams, type ReferralRouted, type RiskAssessment, type RoutingPolicy } from '@spoc/domain';
import { SqliteEventStore, type EventStore, type RecordedEvent } from '@spoc/event-store';
import { EventCodec, LogAnchors, nameBasedUuid, openReadModelDb, PersonalDataVault, sealingKeyId, type DomainEvent } from '@spoc/platform';
import type { CreateReferralDto } from '../../../api/src/referrals/referral.dto';
import { validPerpetratorReferral, validVictimReferral } from '../../../api/src/referrals/referral.fixtures';
import { toReferralSubmission } from '../../../api/src/referrals/referral.mapper';
import { Router } from '../router';

export const basePolicy: RoutingPolicy = parsePolicy(JSON.parse(readFileSync(path.resolve(__dirname, '../../../../policies/portsmouth-2026-1.json'), 'utf8')));
export const oneRefugeUnit: RoutingPolicy = { ...basePolicy, provisions: { ...basePolicy.provisions, refuge: { ...basePolicy.provisions.refuge, capacityUnits: 1 } } };
export const context = { actor: { id: 'test-referrer', role: 'referrer' as const, agency: 'hampshire-police' }, correlationId: 'c', causationId: null };
export const needsRefuge = { needs: { safeAccommodation: true }, children: [] };

export interface RouterTestKitOptions {
  directoryPrefix: string;
  /**
   * What the routers see in place of the store, to make chosen appends fail; the test's own writes and reads go to
   * the real store underneath. Called again whenever a test sets `store`.
   */
  wrapStore?: (store: EventStore) => EventStore;
}

/**
 * A fresh directory, event store and vault for each test of the calling `describe` (it registers the beforeEach and
 * afterEach), and the writes and reads the router tests make through them. Every router a test starts is stopped
 * after it, so a failing test leaves none running.
 */
export function routerTestKit({ directoryPrefix, wrapStore = (store) => store }: RouterTestKitOptions) {
  let directory: string;
  let store: SqliteEventStore;
  let routerStore: EventStore;
  let vault: PersonalDataVault;
  let codec: EventCodec;
  let routers: Router[];

  beforeEach(() => {
    directory = mkdtempSync(path.join(tmpdir(), directoryPrefix));
    store = new SqliteEventStore(path.join(directory, 'events.sqlite'));
    routerStore = wrapStore(store);
    vault = new PersonalDataVault(path.join(directory, 'keys.sqlite'));
    codec = new EventCodec(vault);
    routers = [];
  });
  afterEach(async () => {
    for (const router of routers.splice(0)) await router.stop();
    await store.close();
    vault.close();
    rmSync(directory, { recursive: true, force: true });
  });

  function startRouter(policy: RoutingPolicy = basePolicy, stateFile = 'router-state.sqlite'): Router {
    // Anchored as in production (at the clean stop, the interval being a minute), beside the test's key file.
    const router = new Router(routerStore, codec, vault, policy, openReadModelDb(path.join(directory, stateFile)), undefined, new LogAnchors(path.join(directory, 'log-anchors.sqlite')));
    routers.push(router);
    router.start();
    return router;
  }

  async function stopRouter(router: Router): Promise<void> {
    await router.stop();
    routers.splice(routers.indexOf(router), 1);
  }

  async function receive(reference: string, overrides: Record<string, unknown> = {}, kind: 'victim' | 'perpetrator' = 'victim', policy = basePolicy): Promise<string> {
    const body = kind === 'victim'
      ? validVictimReferral({ agencyReference: reference, subject: { lastName: `Person-${reference}` }, ...overrides })
      : validPerpetratorReferral({ agencyReference: reference, ...overrides });
    const referralId = nameBasedUuid(`test\n${reference}`);
    const events = referralDecider.decide(
      { type: 'ReceiveReferral', data: { referralId, agency: 'hampshire-police', submission: toReferralSubmission(body as CreateReferralDto), submissionDigest: 'd', receivedAt: new Date().toISOString(), policy } },
      referralDecider.initialState(),
    );
    await store.append(streams.referral(referralId), codec.encode(events, context, await vault.newKey()), 'no-stream');
    return referralId;
  }

  async function read(streamId: string): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    for await (const event of store.readStream(streamId)) events.push(event);
    return events;
  }

  async function appendToReferral(referralId: string, events: DomainEvent[]): Promise<void> {
    const stored = await read(streams.referral(referralId));
    const keyId = sealingKeyId(stored[0])!;
    await store.append(streams.referral(referralId), codec.encode(events, context, { keyId, key: vault.keyFor(keyId)! }), stored[stored.length - 1].revision);
  }

  async function appendToCase(caseId: string, referralId: string, events: DomainEvent[]): Promise<void> {
    const keyId = sealingKeyId((await read(streams.referral(referralId)))[0])!;
    await store.append(streams.case(caseId), codec.encode(events, context, { keyId, key: vault.keyFor(keyId)! }), (await store.streamRevision(streams.case(caseId)))!);
  }

  /** A new checklist with `yes` answers yes, as a reassessment through the API would append it. */
  async function reassess(referralId: string, yes: number, policy: RoutingPolicy): Promise<void> {
    const answers = Object.fromEntries(Array.from({ length: 24 }, (_, n) => [`Q${n + 1}`, n < yes ? 'yes' : 'no']));
    const riskAssessment = { tool: 'DASH', answers, professionalJudgement: { highRisk: false, rationale: null }, policeCalloutsLast12Months: 1, assessedAt: new Date().toISOString() } as unknown as RiskAssessment;
    const state = { status: 'received' as const, referralId, agency: 'hampshire-police', referralType: 'victim' as const, submissionDigest: 'd', assessments: 1, erased: false };
    await appendToReferral(referralId, referralDecider.decide({ type: 'ReassessRisk', data: { referralId, riskAssessment, reassessedAt: new Date().toISOString(), policy } }, state));
  }

  /** A caseworker claims the case and closes it (for a refuge case, the end of the stay). */
  async function closeCase(caseId: string, referralId: string): Promise<void> {
    const at = new Date().toISOString();
    await appendToCase(caseId, referralId, [
      { type: 'CaseClaimed', data: { caseId, assignee: 'worker', claimedAt: at } },
      { type: 'CaseClosed', data: { caseId, outcome: 'moved-away', note: null, closedAt: at } },
    ]);
  }

  async function decisionsOf(referralId: string): Promise<ReferralRouted['data'][]> {
    return (await read(streams.referral(referralId))).filter((event) => event.type === 'ReferralRouted').map((event) => codec.decode<ReferralRouted['data']>(event).data);
  }

  const refugeRoute = async (referralId: string, decision = 0) => (await decisionsOf(referralId))[decision].cases.find((route) => route.provision === 'refuge')!;
  const typesOf = async (streamId: string) => (await read(streamId)).map((event) => event.type);

  /** Until the router has handled everything, including what it appended itself on the way. */
  async function settle(router: Router): Promise<void> {
    for (let round = 0; round < 3; round += 1) {
      expect(await router.waitFor((await store.headPosition())!, 15_000)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  return {
    get directory() {
      return directory;
    },
    get store() {
      return store;
    },
    /** For a test that replaces the log (a restore): the routers it starts after this read the new store. */
    set store(next: SqliteEventStore) {
      store = next;
      routerStore = wrapStore(next);
    },
    get vault() {
      return vault;
    },
    get codec() {
      return codec;
    },
    startRouter,
    stopRouter,
    receive,
    read,
    appendToReferral,
    appendToCase,
    closeCase,
    reassess,
    decisionsOf,
    refugeRoute,
    typesOf,
    settle,
  };
}

import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parsePolicy, referralDecider, streams, type ReferralRouted, type RoutingPolicy } from '@spoc/domain';
import {
  InvalidAppendError,
  SqliteEventStore,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeOptions,
} from '@spoc/event-store';
import { EventCodec, nameBasedUuid, openReadModelDb, PersonalDataVault, sealingKeyId, type DomainEvent } from '@spoc/platform';
import type { CreateReferralDto } from '../../api/src/referrals/referral.dto';
import { validVictimReferral } from '../../api/src/referrals/referral.fixtures';
import { toReferralSubmission } from '../../api/src/referrals/referral.mapper';
import { Router } from './router';

const basePolicy: RoutingPolicy = parsePolicy(JSON.parse(readFileSync(path.resolve(__dirname, '../../../policies/portsmouth-2026-1.json'), 'utf8')));
const oneRefugeUnit: RoutingPolicy = { ...basePolicy, provisions: { ...basePolicy.provisions, refuge: { ...basePolicy.provisions.refuge, capacityUnits: 1 } } };
const context = { actor: { id: 'test-referrer', role: 'referrer' as const, agency: 'hampshire-police' }, correlationId: 'c', causationId: null };
const needsRefuge = { needs: { safeAccommodation: true }, children: [] };

type Matches = (streamId: string, events: readonly NewEvent[]) => boolean;

/**
 * The real store, except that the next append a test names is refused once, before it reaches SQLite: the only way
 * to make one particular step of the router fail at the moment the race needs it.
 */
class RefusingStore implements EventStore {
  private refusal: { matches: Matches; error: Error } | null = null;
  refused = 0;

  constructor(private readonly inner: EventStore) {}

  refuseNext(matches: Matches, error: Error): void {
    this.refusal = { matches, error };
  }

  append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision) {
    const refusal = this.refusal;
    if (refusal?.matches(streamId, events)) {
      this.refusal = null;
      this.refused += 1;
      return Promise.reject(refusal.error);
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
  let directory: string;
  let store: SqliteEventStore;
  let refusing: RefusingStore;
  let vault: PersonalDataVault;
  let codec: EventCodec;
  let routers: Router[];

  beforeEach(() => {
    directory = mkdtempSync(path.join(tmpdir(), 'spoc-router-refuge-races-'));
    store = new SqliteEventStore(path.join(directory, 'events.sqlite'));
    refusing = new RefusingStore(store);
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

  function startRouter(): Router {
    const router = new Router(refusing, codec, vault, oneRefugeUnit, openReadModelDb(path.join(directory, 'router-state.sqlite')));
    routers.push(router);
    router.start();
    return router;
  }

  async function stopRouter(router: Router): Promise<void> {
    await router.stop();
    routers.splice(routers.indexOf(router), 1);
  }

  async function receive(reference: string): Promise<string> {
    const body = validVictimReferral({ agencyReference: reference, subject: { lastName: `Person-${reference}` }, ...needsRefuge });
    const referralId = nameBasedUuid(`test\n${reference}`);
    const events = referralDecider.decide(
      { type: 'ReceiveReferral', data: { referralId, agency: 'hampshire-police', submission: toReferralSubmission(body as CreateReferralDto), submissionDigest: 'd', receivedAt: new Date().toISOString(), policy: oneRefugeUnit } },
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

  async function appendToCase(caseId: string, referralId: string, events: DomainEvent[]): Promise<void> {
    const keyId = sealingKeyId((await read(streams.referral(referralId)))[0])!;
    await store.append(streams.case(caseId), codec.encode(events, context, { keyId, key: vault.keyFor(keyId)! }), (await store.streamRevision(streams.case(caseId)))!);
  }

  /** A caseworker claims the refuge case and closes it: the end of the stay. */
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

  const refugeRoute = async (referralId: string) => (await decisionsOf(referralId))[0].cases.find((route) => route.provision === 'refuge')!;
  const typesOf = async (streamId: string) => (await read(streamId)).map((event) => event.type);

  async function settle(router: Router): Promise<void> {
    for (let round = 0; round < 3; round += 1) {
      expect(await router.waitFor((await store.headPosition())!, 15_000)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('releases the unit asked for by a referral whose decision could not be stored, so the next person is placed', async () => {
    const router = startRouter();
    // Not a failure that passes with time: the router must flag the referral rather than retry it for ever.
    refusing.refuseNext((streamId, events) => streamId.startsWith('referral-') && events.some((event) => event.type === 'ReferralRouted'), new InvalidAppendError('refused by the test'));
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
    for await (const event of store.readAll()) log.push(event);
    const released = log.find((event) => event.type === 'RefugeUnitReleased')!;
    const opened = log.find((event) => event.streamId === streams.case(route.caseId) && event.type === 'CaseOpened')!;
    // The ordering this test is about: the unit was this request's before the waitlisted case existed.
    expect(released.position).toBeLessThan(opened.position);
    expect(await typesOf(streams.case(route.caseId))).toEqual(['CaseOpened', 'RefugePlaceOffered']);
  });
});

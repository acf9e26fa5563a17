import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { streams } from '@spoc/domain';
import { SqliteEventStore } from '@spoc/event-store';
import { EventCodec, openReadModelDb, PersonalDataVault, ProjectionRunner, type CommandContext } from '@spoc/platform';
import { QueueProjection } from '../queues/queue.projection';
import { ReferralHistory } from './referral-history';

const police: CommandContext = { actor: { id: 'p-1', role: 'referrer', agency: 'hampshire-police' }, correlationId: 'c-1', causationId: null };
const router: CommandContext = { actor: { id: 'router', role: 'system' }, correlationId: 'c-1', causationId: null };

describe('the history of a referral', () => {
  let directory: string;
  let store: SqliteEventStore;
  let vault: PersonalDataVault;
  let codec: EventCodec;
  let readDb: Database.Database;
  let runner: ProjectionRunner;
  let history: ReferralHistory;

  beforeEach(() => {
    directory = mkdtempSync(path.join(tmpdir(), 'spoc-history-'));
    store = new SqliteEventStore(path.join(directory, 'events.sqlite'));
    vault = new PersonalDataVault(path.join(directory, 'keys.sqlite'));
    codec = new EventCodec(vault);
    readDb = openReadModelDb(path.join(directory, 'read-models.sqlite'));
    const cases = new QueueProjection();
    runner = new ProjectionRunner('test', store, readDb, codec, [cases]);
    runner.start();
    history = new ReferralHistory(store, codec, cases);
  });
  afterEach(async () => {
    await runner.stop();
    await store.close();
    vault.close();
    readDb.close();
    rmSync(directory, { recursive: true, force: true });
  });

  /** A case opened as the router opens one (the case read model refuses a malformed one). */
  function caseOpened(caseId: string, referralId: string, provision: string) {
    return {
      type: 'CaseOpened',
      data: { caseId, referralId, provision, ruleIds: ['high-risk'], status: 'routed', riskLevel: 'high', repeat: false, hasChildren: false, routedAt: new Date().toISOString(), dueBy: null, decisionNumber: 0 },
    };
  }

  /** A referral received and routed to one case with one school notified, as intake and the router store it. */
  async function routedReferral() {
    const referralId = randomUUID();
    const caseId = randomUUID();
    const notificationId = randomUUID();
    const subject = await vault.newKey();
    const submission = { subject: { firstName: 'Sam', lastName: 'Taylor' } };
    await store.append(streams.referral(referralId), codec.encode([{ type: 'ReferralReceived', data: { referralId, submission, contact: { phone: '07700 900123' } } }], police, subject), 'no-stream');
    await store.append(streams.referral(randomUUID()), codec.encode([{ type: 'EncompassNotificationSent', data: {} }], police), 'any');
    const decision = { referralId, decisionNumber: 0, facts: { consent: { given: true } }, cases: [{ caseId, provision: 'idva', opened: true }], encompass: [{ notificationId, childIndex: 0 }], schools: { 0: 'Example Primary School' } };
    await store.append(streams.referral(referralId), codec.encode([{ type: 'ReferralRouted', data: decision }], router, subject), 0n);
    await store.append(streams.case(caseId), codec.encode([caseOpened(caseId, referralId, 'idva')], router), 'no-stream');
    await store.append(streams.encompass(notificationId), codec.encode([{ type: 'EncompassNotificationSent', data: { notificationId, referralId } }], police), 'no-stream');
    return { referralId, caseId, notificationId, subject };
  }

  it('lists the referral, its cases and its school notifications in log order, personal data opened, chain valid', async () => {
    const { referralId, caseId, notificationId } = await routedReferral();

    const view = (await history.of(referralId))!;

    expect(view.events.map((event) => [event.streamId, event.type])).toEqual([
      [streams.referral(referralId), 'ReferralReceived'],
      [streams.referral(referralId), 'ReferralRouted'],
      [streams.case(caseId), 'CaseOpened'],
      [streams.encompass(notificationId), 'EncompassNotificationSent'],
    ]);
    const positions = view.events.map((event) => BigInt(event.position));
    expect([...positions].sort((a, b) => (a < b ? -1 : 1))).toEqual(positions);
    expect(view.events[0]).toMatchObject({ revision: '0', actor: { id: 'p-1', role: 'referrer', agency: 'hampshire-police' }, data: { submission: { subject: { lastName: 'Taylor' } } }, erased: false, previousHash: null });
    expect(view.events[1]).toMatchObject({ revision: '1', previousHash: view.events[0].hash, data: { schools: { 0: 'Example Primary School' } } });
    expect(view).toMatchObject({ chainValid: true, firstBrokenEvent: null });
  });

  it('reads a case the decisions do not name (opened by a transfer) through the case read model', async () => {
    const { referralId } = await routedReferral();
    const transferred = randomUUID();
    const { position } = await store.append(streams.case(transferred), codec.encode([caseOpened(transferred, referralId, 'outreach')], router), 'no-stream');
    await runner.waitFor(position);

    const view = (await history.of(referralId))!;

    expect(view.events.map((event) => event.streamId)).toContain(streams.case(transferred));
  });

  it('follows a transfer, and the referral-on after it, from the log before the case read model has them', async () => {
    const { referralId, caseId, subject } = await routedReferral();
    await runner.stop(); // the read model stands still: it knows only the case routing opened
    const transferredTo = randomUUID();
    const referredOnTo = randomUUID();
    await store.append(streams.case(caseId), codec.encode([{ type: 'CaseTransferred', data: { caseId, toProvision: 'outreach', toCaseId: transferredTo, reason: 'r', transferredAt: new Date().toISOString() } }], police, subject), 0n);
    await store.append(streams.case(transferredTo), codec.encode([caseOpened(transferredTo, referralId, 'outreach'), { type: 'CaseReferredOn', data: { caseId: transferredTo, referralId, toProvision: 'victim-support', toCaseId: referredOnTo, referredAt: new Date().toISOString() } }], router), 'no-stream');
    await store.append(streams.case(referredOnTo), codec.encode([caseOpened(referredOnTo, referralId, 'victim-support')], router), 'no-stream');

    const view = (await history.of(referralId))!;

    expect(view.events.map((event) => event.streamId)).toEqual(expect.arrayContaining([streams.case(transferredTo), streams.case(referredOnTo)]));
    expect(view.chainValid).toBe(true);
  });

  it("shows the referral's own requests for a refuge unit and their releases, not anyone else's, and checks the refuge's chain", async () => {
    const referralId = randomUUID();
    const subject = await vault.newKey();
    await store.append(streams.referral(referralId), codec.encode([{ type: 'ReferralReceived', data: { referralId, submission: { subject: { lastName: 'Taylor' } } } }], police, subject), 'no-stream');
    const decision = { referralId, decisionNumber: 0, facts: { consent: { given: true } }, cases: [{ caseId: randomUUID(), provision: 'refuge', opened: true }], encompass: [], schools: {} };
    await store.append(streams.referral(referralId), codec.encode([{ type: 'ReferralRouted', data: decision }], router, subject), 0n);
    const at = new Date().toISOString();
    await store.append(streams.refuge(), codec.encode([
      { type: 'RefugeUnitRequested', data: { requestId: 'q-other', referralId: randomUUID(), requestedAt: at } },
      { type: 'RefugeUnitRequested', data: { requestId: 'q-mine', referralId, requestedAt: at } },
      { type: 'RefugeUnitReleased', data: { requestId: 'q-other', releasedAt: at } },
      { type: 'RefugeUnitReleased', data: { requestId: 'q-mine', releasedAt: at } },
    ], router), 'no-stream');

    const view = (await history.of(referralId))!;

    expect(view.events.filter((event) => event.streamId === streams.refuge()).map((event) => [event.type, (event.data as { requestId: string }).requestId])).toEqual([
      ['RefugeUnitRequested', 'q-mine'],
      ['RefugeUnitReleased', 'q-mine'],
    ]);
    expect(view.chainValid).toBe(true);

    const file = new Database(path.join(directory, 'events.sqlite'));
    file.prepare(`UPDATE events SET data = json_set(data, '$.requestId', 'q-forged') WHERE stream_id = ? AND revision = 0`).run(streams.refuge());
    file.close();
    expect((await history.of(referralId))!).toMatchObject({ chainValid: false, firstBrokenEvent: { streamId: streams.refuge(), revision: '0' } });
  });

  it('shows erased personal data as null once the subject key is destroyed, the chain still intact', async () => {
    const { referralId, subject } = await routedReferral();
    vault.destroyKey(subject.keyId);

    const view = (await history.of(referralId))!;

    expect(view.events[0]).toMatchObject({ type: 'ReferralReceived', data: { submission: null }, erased: true });
    expect(view.chainValid).toBe(true);
  });

  it('names the earliest altered event when rows are changed in the file behind the store', async () => {
    const { referralId, caseId } = await routedReferral();
    const file = new Database(path.join(directory, 'events.sqlite'));
    // Two alterations: the case's first event and the referral's second; the referral's comes first in the log.
    file.prepare(`UPDATE events SET data = json_set(data, '$.provision', 'refuge') WHERE stream_id = ?`).run(streams.case(caseId));
    file.prepare(`UPDATE events SET data = json_set(data, '$.decisionNumber', 7) WHERE stream_id = ? AND revision = 1`).run(streams.referral(referralId));
    file.close();

    const view = (await history.of(referralId))!;

    expect(view.chainValid).toBe(false);
    expect(view.firstBrokenEvent).toEqual({
      streamId: streams.referral(referralId),
      revision: '1',
      position: view.events[1].position,
      eventId: view.events[1].id,
      reason: 'content does not match its hash',
    });
    expect(view.events).toHaveLength(4);
  });

  it('answers null for a referral that does not exist', async () => {
    expect(await history.of(randomUUID())).toBeNull();
  });
});

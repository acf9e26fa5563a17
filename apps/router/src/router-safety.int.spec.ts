import Database from 'better-sqlite3';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { referralDecider, streams, type RiskAssessment, type RoutingPolicy } from '@spoc/domain';
import { SqliteEventStore } from '@spoc/event-store';
import { EventCodec, nameBasedUuid, PersonalDataVault, sealingKeyId } from '@spoc/platform';
import type { CreateReferralDto } from '../../api/src/referrals/referral.dto';
import { validVictimReferral } from '../../api/src/referrals/referral.fixtures';
import { toReferralSubmission } from '../../api/src/referrals/referral.mapper';
import { basePolicy, context, needsRefuge, oneRefugeUnit, routerTestKit } from './testing/router-test-kit';

const answers = (yes: number) => Object.fromEntries(Array.from({ length: 24 }, (_, n) => [`Q${n + 1}`, n < yes ? 'yes' : 'no']));

/**
 * What the router must get right when things do not go in the usual order: consent that comes later, a state file
 * rebuilt from the log, a router that is behind, a store that refuses for a while, a referral whose data breaks a rule.
 */
describe('the router, when things do not go in the usual order', () => {
  const kit = routerTestKit({ directoryPrefix: 'spoc-router-safety-' });
  const { startRouter, stopRouter, receive, read, appendToReferral, appendToCase, closeCase, reassess, decisionsOf, refugeRoute, typesOf, settle } = kit;

  /** The referrer records the victim's consent (or its withdrawal) on the referral, as the API would. */
  async function recordConsent(referralId: string, given: boolean): Promise<void> {
    const consent = { given, lawfulBasis: 'consent' as const, notes: null };
    await appendToReferral(referralId, referralDecider.decide({ type: 'RecordConsent', data: { referralId, consent, recordedAt: new Date().toISOString() } }, { status: 'received' } as never));
  }

  it('keeps the refuge unit of a person whose consent came later, and the next person waits for it', async () => {
    const router = startRouter(oneRefugeUnit);
    const first = await receive('LATE-CONSENT', { ...needsRefuge, consent: { given: false, lawfulBasis: 'consent', notes: null } }, 'victim', oneRefugeUnit);
    await settle(router);
    expect((await refugeRoute(first)).status).toBe('held-awaiting-consent');
    expect(await typesOf(streams.refuge())).toEqual([]);

    await recordConsent(first, true);
    await settle(router);
    // The held refuge case was superseded by the new decision's: that ended no stay, so nothing was released.
    expect((await refugeRoute(first, 1)).status).toBe('routed');
    expect(await typesOf(streams.refuge())).toEqual(['RefugeUnitRequested']);

    const second = await receive('NEXT-IN-LINE', needsRefuge, 'victim', oneRefugeUnit);
    await settle(router);
    expect((await refugeRoute(second)).status).toBe('waitlisted');
  });

  it('asks anew for a person who needs the refuge again after a stay ended, ahead of those who come later', async () => {
    const router = startRouter(oneRefugeUnit);
    const again = await receive('TWICE', needsRefuge, 'victim', oneRefugeUnit);
    await settle(router);
    const stay = await refugeRoute(again);
    await closeCase(stay.caseId, again);
    await settle(router);
    await reassess(again, 15, oneRefugeUnit);
    await settle(router);
    expect((await refugeRoute(again, 1)).status).toBe('routed');
    expect(await typesOf(streams.refuge())).toEqual(['RefugeUnitRequested', 'RefugeUnitReleased', 'RefugeUnitRequested']);

    // A second router (a state file of its own) reads the whole log: the first stay's end must not free the second's.
    const second = startRouter(oneRefugeUnit, 'second-router-state.sqlite');
    await settle(second);
    expect(await typesOf(streams.refuge())).toEqual(['RefugeUnitRequested', 'RefugeUnitReleased', 'RefugeUnitRequested']);

    const later = await receive('LATER', needsRefuge, 'victim', oneRefugeUnit);
    await settle(router);
    await settle(second);
    expect((await refugeRoute(later)).status).toBe('waitlisted');
  });

  it('ends the refuge request of a referral whose latest decision holds the refuge route for consent', async () => {
    const router = startRouter(oneRefugeUnit);
    const first = await receive('WITHDRAWN', needsRefuge, 'victim', oneRefugeUnit);
    await settle(router);
    expect((await refugeRoute(first)).status).toBe('routed');
    await recordConsent(first, false);
    await settle(router);
    const types = await typesOf(streams.refuge());
    expect(types).toEqual(['RefugeUnitRequested', 'RefugeUnitReleased']);
    // The unit was theirs, so no national search is asked for: it is free again the moment consent returns.
    expect((await decisionsOf(first))[1].outcome.flags).not.toContain('search-national-refuge-vacancies');

    const next = await receive('NEXT-FOR-THE-UNIT', needsRefuge, 'victim', oneRefugeUnit);
    await settle(router);
    expect((await refugeRoute(next)).status).toBe('routed');
  });

  it('flags a national refuge search for a person without consent only when no unit is free, and asks for none', async () => {
    const router = startRouter(oneRefugeUnit);
    const noConsent = { ...needsRefuge, consent: { given: false, lawfulBasis: 'safeguarding', notes: 'high risk: proceeding without consent' } };
    const first = await receive('NO-CONSENT-UNIT-FREE', noConsent, 'victim', oneRefugeUnit);
    await settle(router);
    expect((await refugeRoute(first)).status).toBe('held-awaiting-consent');
    expect((await decisionsOf(first))[0].outcome.flags).not.toContain('search-national-refuge-vacancies');
    expect(await typesOf(streams.refuge())).toEqual([]);

    const placed = await receive('TAKES-THE-UNIT', needsRefuge, 'victim', oneRefugeUnit);
    const second = await receive('NO-CONSENT-NONE-FREE', noConsent, 'victim', oneRefugeUnit);
    await settle(router);
    expect((await refugeRoute(placed)).status).toBe('routed');
    expect((await decisionsOf(second))[0].outcome.flags).toContain('search-national-refuge-vacancies');
    expect(await typesOf(streams.refuge())).toEqual(['RefugeUnitRequested']);
  });

  it('asks for a refuge unit only when the decision routes to the refuge (a perpetrator, a child under 13)', async () => {
    const router = startRouter(oneRefugeUnit);
    const perpetrator = await receive('PERP', { needs: { safeAccommodation: true } }, 'perpetrator', oneRefugeUnit);
    const child = await receive('CHILD', { ...needsRefuge, subject: { lastName: 'Person-CHILD', dateOfBirth: '2016-01-01' } }, 'victim', oneRefugeUnit);
    await settle(router);
    expect((await decisionsOf(perpetrator))[0].cases.map((route) => route.provision)).toEqual(['up2u']);
    expect((await decisionsOf(child))[0].cases.map((route) => route.provision)).not.toContain('refuge');
    expect(await typesOf(streams.refuge())).toEqual([]);

    const adult = await receive('ADULT', needsRefuge, 'victim', oneRefugeUnit);
    await settle(router);
    expect((await refugeRoute(adult)).status).toBe('routed');
  });

  it('recognises a repeat victim listed at MARAC after its state file was rebuilt from the log', async () => {
    const high = { riskAssessment: { tool: 'DASH', answers: answers(15), professionalJudgement: { highRisk: false, rationale: null }, policeCalloutsLast12Months: 1, assessedAt: new Date().toISOString() } };
    let router = startRouter();
    const before = await receive('FIRST', { subject: { lastName: 'Same' }, children: [], ...high });
    await settle(router);
    expect((await decisionsOf(before))[0].outcome.marac).not.toBeNull();
    await stopRouter(router);
    // As after a machine crash: the marker beside the state file names another boot, so the file is thrown away.
    writeFileSync(path.join(kit.directory, 'router-state.sqlite.open'), 'an-earlier-boot');
    router = startRouter();
    await settle(router);

    const again = await receive('SECOND', { subject: { lastName: 'Same' }, children: [] });
    await settle(router);
    const [decision] = await decisionsOf(again);
    expect(decision.facts.repeat).toMatchObject({ isRepeat: true, previousReferralIds: [before], repeatMarac: true });
    expect(decision.facts.riskLevel).toBe('high');
  });

  it('reads the log again after an upgrade of its index, deciding nothing twice, and still knows who was at MARAC', async () => {
    const high = { riskAssessment: { tool: 'DASH', answers: answers(15), professionalJudgement: { highRisk: false, rationale: null }, policeCalloutsLast12Months: 1, assessedAt: new Date().toISOString() } };
    let router = startRouter();
    const before = await receive('BEFORE-UPGRADE', { subject: { lastName: 'Upgraded' }, children: [], ...high });
    await settle(router);
    await stopRouter(router);
    const file = new Database(path.join(kit.directory, 'router-state.sqlite'));
    file.exec('UPDATE index_version SET version = 1');
    file.close();
    router = startRouter();
    await settle(router);

    const again = await receive('AFTER-UPGRADE', { subject: { lastName: 'Upgraded' }, children: [] });
    await settle(router);
    expect(await decisionsOf(before)).toHaveLength(1);
    expect((await decisionsOf(again))[0].facts.repeat).toMatchObject({ isRepeat: true, previousReferralIds: [before], repeatMarac: true });
  });

  it('anchors the log it read, and reading it again from the start notices an event changed before the anchor', async () => {
    let router = startRouter();
    await receive('ANCHORED', { subject: { lastName: 'Anchored' }, children: [] });
    await settle(router);
    await stopRouter(router); // a clean stop anchors the log as far as it was read
    const anchors = new Database(path.join(kit.directory, 'log-anchors.sqlite'), { readonly: true });
    expect(anchors.prepare('SELECT count(*) AS n FROM anchors').get()).toEqual({ n: 1 });
    anchors.close();
    const reread = async () => {
      writeFileSync(path.join(kit.directory, 'router-state.sqlite.open'), 'an-earlier-boot'); // the state file is thrown away
      const again = startRouter();
      await settle(again);
      return again;
    };
    router = await reread();
    expect(router.logAnchorMismatch).toBeNull();
    await stopRouter(router);

    const file = new Database(path.join(kit.directory, 'events.sqlite'));
    file.prepare("UPDATE events SET hash = ? WHERE position = 1").run('f'.repeat(64));
    file.close();
    router = await reread();
    expect(router.logAnchorMismatch).toMatchObject({ reason: 'the log before this position is not the one anchored' });
  });

  it('offers a freed refuge unit to the person waiting even when the router was behind both the wait and the release', async () => {
    let router = startRouter(oneRefugeUnit);
    const first = await receive('IN-REFUGE', needsRefuge, 'victim', oneRefugeUnit);
    await settle(router);
    const stay = await refugeRoute(first);
    await stopRouter(router);

    const waiting = await receive('WAITING', needsRefuge, 'victim', oneRefugeUnit);
    await closeCase(stay.caseId, first);
    router = startRouter(oneRefugeUnit);
    await settle(router);
    const route = await refugeRoute(waiting);
    expect(route.status).toBe('waitlisted');
    expect(await typesOf(streams.case(route.caseId))).toEqual(['CaseOpened', 'RefugePlaceOffered']);
  });

  it('never refers a decline on to a provision the router has just opened a case at for the same referral', async () => {
    let router = startRouter();
    const referralId = await receive('DECLINED', { children: [] });
    await settle(router);
    const victimSupport = (await decisionsOf(referralId))[0].cases.find((route) => route.provision === 'victim-support')!;
    await stopRouter(router);

    // While the router is behind: a reassessment at medium risk (outreach), then Victim Support declines.
    await reassess(referralId, 11, basePolicy);
    await appendToCase(victimSupport.caseId, referralId, [{ type: 'CaseDeclined', data: { caseId: victimSupport.caseId, reason: 'not for us', declinedAt: new Date().toISOString() } }]);
    router = startRouter();
    await settle(router);

    const outreachCases = new Set<string>();
    for await (const event of kit.store.readAll()) {
      const data = event.data as { referralId?: string; provision?: string };
      if (event.type === 'CaseOpened' && data.referralId === referralId && data.provision === 'outreach') outreachCases.add(event.streamId);
    }
    expect(outreachCases.size).toBe(1);
  });

  it('asks for and releases each refuge unit once, even when a rebuilt state reads a long refuge stream again', async () => {
    let router = startRouter(oneRefugeUnit);
    const first = await receive('STAYED', needsRefuge, 'victim', oneRefugeUnit);
    await settle(router);
    const stay = await refugeRoute(first);
    await closeCase(stay.caseId, first);
    // Far more requests after the release than the store looks back over for a retried append to the stream.
    for (let n = 0; n < 40; n += 1) await receive(`LATER-${n}`, needsRefuge, 'victim', oneRefugeUnit);
    await settle(router);
    const before = await typesOf(streams.refuge());
    await stopRouter(router);

    rmSync(path.join(kit.directory, 'router-state.sqlite'));
    router = startRouter(oneRefugeUnit);
    await settle(router);
    expect(await typesOf(streams.refuge())).toEqual(before);
    expect(before.filter((type) => type === 'RefugeUnitReleased')).toHaveLength(1);
    expect(before.filter((type) => type === 'RefugeUnitRequested')).toHaveLength(41);
  }, 30_000);

  // A restore leaves a log shorter than the checkpoint; appended to before the router starts again, it may be
  // longer, with other events at the checkpoint's position.
  it.each([
    ['shorter than its checkpoint', 1],
    ['that has grown past its checkpoint', 12],
  ])('reads a restored log %s from the start, and routes what comes next', async (_, referrals) => {
    let router = startRouter();
    for (const reference of ['OLD-1', 'OLD-2', 'OLD-3']) await receive(reference);
    await settle(router);
    const checkpoint = router.checkpoint!;
    await stopRouter(router);

    await kit.store.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(path.join(kit.directory, `events.sqlite${suffix}`), { force: true });
    kit.store = new SqliteEventStore(path.join(kit.directory, 'events.sqlite'));
    const restored: string[] = [];
    for (let n = 0; n < referrals; n += 1) restored.push(await receive(`RESTORED-${n}`));
    expect((await kit.store.headPosition())! > checkpoint).toBe(referrals > 1);
    router = startRouter();
    await settle(router);
    const next = await receive('AFTER-RESTORE');
    await settle(router);
    for (const referralId of [...restored, next]) expect(await decisionsOf(referralId)).toHaveLength(1);
  });

  it('finishes an erasure the API recorded but could not finish (the key still there): the key is destroyed', async () => {
    const router = startRouter();
    const referralId = await receive('ERASED-HALFWAY');
    await settle(router);
    const [received] = await read(streams.referral(referralId));
    const keyId = sealingKeyId(received)!;
    expect(kit.vault.keyFor(keyId)).not.toBeNull();
    // What the API appends before it destroys the key; here it stopped in between.
    await appendToReferral(referralId, [{ type: 'ReferralErased', data: { referralId, reason: 'made-in-error', erasedAt: new Date().toISOString() } }]);
    await settle(router);
    expect(kit.vault.keyFor(keyId)).toBeNull();
    expect(kit.codec.decode(received).erased).toBe(true);
  });

  it('opens no case for an erased referral from a decline it reads after the erasure', async () => {
    let router = kit.startRouter();
    const referralId = await kit.receive('DECLINED-THEN-ERASED', { children: [] });
    await kit.settle(router);
    const declined = (await kit.decisionsOf(referralId))[0].cases.find((route) => route.provision === 'victim-support')!;
    await kit.stopRouter(router);
    // Both were recorded while the router was behind; the API refuses the erasure then, so this is a race lost.
    await kit.appendToCase(declined.caseId, referralId, [{ type: 'CaseDeclined', data: { caseId: declined.caseId, reason: 'not for us', declinedAt: new Date().toISOString() } }]);
    await kit.appendToReferral(referralId, [{ type: 'ReferralErased', data: { referralId, reason: 'made-in-error', erasedAt: new Date().toISOString() } }]);
    router = kit.startRouter();
    await kit.settle(router);
    const opened: string[] = [];
    for await (const event of kit.store.readAll()) if (event.type === 'CaseOpened' && (event.data as { referralId: string }).referralId === referralId) opened.push(event.streamId);
    expect(opened).toHaveLength((await kit.decisionsOf(referralId))[0].cases.filter((route) => route.opened).length);
    expect(await kit.typesOf(streams.case(declined.caseId))).toEqual(['CaseOpened', 'CaseDeclined', 'CaseDetailsErased']);
  });

  it('flags a referral whose data breaks a rule for routing by hand, and goes on routing everyone else', async () => {
    const router = startRouter();
    // What the API now refuses, but the log may already hold: a list inside the list of children.
    const child = validVictimReferral().children![0];
    const broken = await receive('BROKEN', { children: [[child]] });
    const next = await receive('NEXT');
    await settle(router);

    expect(router.failed).toBeNull();
    expect(router.referralsFailed).toBe(1);
    const failed = (await read(streams.referral(broken))).filter((event) => event.type === 'RoutingFailed');
    expect(failed.map((event) => event.data)).toEqual([expect.objectContaining({ referralId: broken, errorKind: 'TypeError', onEventType: 'RiskAssessed' })]);
    expect(await decisionsOf(broken)).toEqual([]);
    expect(await decisionsOf(next)).toHaveLength(1);

    // Read again from the start (a lost state file): the failure is recorded once, and nothing is decided twice.
    await stopRouter(router);
    rmSync(path.join(kit.directory, 'router-state.sqlite'));
    const again = startRouter();
    await settle(again);
    expect((await read(streams.referral(broken))).filter((event) => event.type === 'RoutingFailed')).toHaveLength(1);
    expect(await decisionsOf(next)).toHaveLength(1);
  });

  it('flags a referral whose sealed data does not open (a plain Error, not a TypeError) and goes on', async () => {
    const router = startRouter();
    const referralId = nameBasedUuid('test\nTAMPERED');
    const body = validVictimReferral({ agencyReference: 'TAMPERED', subject: { lastName: 'Person-TAMPERED' } });
    const events = kit.codec.encode(referralDecider.decide(
      { type: 'ReceiveReferral', data: { referralId, agency: 'hampshire-police', submission: toReferralSubmission(body as CreateReferralDto), submissionDigest: 'd', receivedAt: new Date().toISOString(), policy: basePolicy } },
      referralDecider.initialState(),
    ), context, await kit.vault.newKey());
    // The authentication tag of the sealed submission no longer matches: opening it fails.
    const sealed = (events[0].data as { submission: { tag: string } }).submission;
    sealed.tag = Buffer.alloc(16, 7).toString('base64');
    await kit.store.append(streams.referral(referralId), events, 'no-stream');
    const next = await receive('AFTER-TAMPERED');
    await settle(router);

    expect(router.retrying).toBe(0);
    // Once where the receipt is read (to index the person) and once where it is decided.
    const failures = (await read(streams.referral(referralId))).filter((event) => event.type === 'RoutingFailed').map((event) => event.data);
    expect(failures).toEqual([
      expect.objectContaining({ errorKind: 'Error', onEventType: 'ReferralReceived' }),
      expect.objectContaining({ errorKind: 'Error', onEventType: 'RiskAssessed' }),
    ]);
    expect(await decisionsOf(next)).toHaveLength(1);
  });

  it('flags a referral sealed with a key the key file never held for routing by hand: lost, not erased', async () => {
    const router = startRouter();
    const referralId = nameBasedUuid('test\nFOREIGN-KEY');
    const body = validVictimReferral({ agencyReference: 'FOREIGN-KEY', subject: { lastName: 'Person-FOREIGN' } });
    // Sealed with a key of another key file, as if this one were restored from a backup taken before it was made.
    const elsewhere = new PersonalDataVault(path.join(kit.directory, 'other-keys.sqlite'), 10, path.join(kit.directory, 'other-erased.sqlite'));
    const events = new EventCodec(elsewhere).encode(referralDecider.decide(
      { type: 'ReceiveReferral', data: { referralId, agency: 'hampshire-police', submission: toReferralSubmission(body as CreateReferralDto), submissionDigest: 'd', receivedAt: new Date().toISOString(), policy: basePolicy } },
      referralDecider.initialState(),
    ), context, await elsewhere.newKey());
    elsewhere.close();
    await kit.store.append(streams.referral(referralId), events, 'no-stream');
    const next = await receive('AFTER-FOREIGN-KEY');
    await settle(router);

    const failures = (await read(streams.referral(referralId))).filter((event) => event.type === 'RoutingFailed').map((event) => event.data);
    expect(failures).toEqual([expect.objectContaining({ errorKind: 'SubjectKeyMissingError', onEventType: 'RiskAssessed' })]);
    expect(await decisionsOf(referralId)).toEqual([]);
    expect(kit.vault.missingKeyCount).toBe(1);
    expect(await decisionsOf(next)).toHaveLength(1);
  });

  it('still decides a consent recorded before a routing failure was flagged on the same referral', async () => {
    let router = startRouter();
    const referralId = await receive('HELD', { children: [], consent: { given: false, lawfulBasis: 'consent', notes: null } });
    await settle(router);
    const held = (await decisionsOf(referralId))[0].cases[0];
    await stopRouter(router);

    // While the router is down: a case event it cannot follow (a transfer to a provision the policy has not got),
    // then the victim's consent on the referral.
    await appendToCase(held.caseId, referralId, [{ type: 'CaseTransferred', data: { caseId: held.caseId, toProvision: 'nowhere', toCaseId: nameBasedUuid('nowhere'), reason: 'x', transferredAt: new Date().toISOString() } }]);
    await recordConsent(referralId, true);
    router = startRouter();
    await settle(router);

    const types = await typesOf(streams.referral(referralId));
    expect(types.slice(-3)).toEqual(['ConsentRecorded', 'RoutingFailed', 'ReferralRouted']);
    expect((await decisionsOf(referralId))[1].cases.every((route) => route.status === 'routed')).toBe(true);
  });

  it('waits out a store that refuses its writes for a while, then routes what came in meanwhile', async () => {
    const first = await receive('DURING-LOCK');
    // Another connection (a backup, another process) holds the write lock past the writer's 10 s busy timeout.
    const lock = new Database(path.join(kit.directory, 'events.sqlite'));
    lock.exec('BEGIN IMMEDIATE');
    const router = startRouter();
    await new Promise((resolve) => setTimeout(resolve, 10_500));
    expect(router.failed).toBeNull();
    expect(router.retrying).toBeGreaterThan(0);
    lock.exec('ROLLBACK');
    lock.close();

    const second = await receive('AFTER-LOCK');
    await settle(router);
    expect(router.retrying).toBe(0);
    expect(await decisionsOf(first)).toHaveLength(1);
    expect(await decisionsOf(second)).toHaveLength(1);
  }, 30_000);
});

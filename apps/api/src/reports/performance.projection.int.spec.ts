import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parsePolicy, streams, type RoutingPolicy } from '@spoc/domain';
import { SqliteEventStore } from '@spoc/event-store';
import { EventCodec, openReadModelDb, PersonalDataVault, ProjectionRunner, type DomainEvent } from '@spoc/platform';
import { buildPerformanceReport, reportJson, reportPeriod } from './performance-report';
import { PerformanceProjection } from './performance.projection';
import { PerformanceQuery } from './performance.query';

const basePolicy: RoutingPolicy = parsePolicy(JSON.parse(readFileSync(path.resolve(__dirname, '../../../../policies/portsmouth-2026-1.json'), 'utf8')));
// One refuge unit, so that two requests make a waitlist.
const policy: RoutingPolicy = { ...basePolicy, provisions: { ...basePolicy.provisions, refuge: { ...basePolicy.provisions.refuge, capacityUnits: 1 } } };
const context = { actor: { id: 'spec', role: 'system' as const }, correlationId: 'spec', causationId: null };
const HOUR = 3_600_000;
const at = (iso: string) => new Date(iso).toISOString();
const plusHours = (iso: string, hours: number) => new Date(Date.parse(iso) + hours * HOUR).toISOString();

interface ReferralSpec {
  id: string;
  receivedAt: string;
  agency?: string;
  type?: 'victim' | 'perpetrator' | 'child-to-parent';
  gender?: string;
  level?: 'high' | 'medium' | 'standard' | null;
  repeat?: boolean;
  children?: Array<{ ageYears: number; livesInHousehold: boolean }>;
  routes?: Array<{ provision: string; caseId: string; status?: string; dueBy?: string | null }>;
  marac?: { meetingId: string; date: string; repeat: boolean };
  encompass?: Array<{ notificationId: string; dueBy: string }>;
}

describe('the performance read model, fed from a real SQLite log', () => {
  let directory: string;
  let store: SqliteEventStore;
  let vault: PersonalDataVault;
  let codec: EventCodec;
  let runner: ProjectionRunner;
  let projection: PerformanceProjection;
  let db: ReturnType<typeof openReadModelDb>;
  const keys = new Map<string, { keyId: string; key: Buffer }>();

  beforeEach(() => {
    directory = mkdtempSync(path.join(tmpdir(), 'spoc-report-'));
    store = new SqliteEventStore(path.join(directory, 'events.sqlite'), { writer: 'inline' });
    vault = new PersonalDataVault(path.join(directory, 'keys.sqlite'));
    codec = new EventCodec(vault);
    projection = new PerformanceProjection(policy);
    db = openReadModelDb(path.join(directory, 'read.sqlite'));
    runner = new ProjectionRunner('spec', store, db, codec, [projection]);
    runner.start();
  });

  afterEach(async () => {
    await runner.stop();
    await store.close();
    vault.close();
    rmSync(directory, { recursive: true, force: true });
  });

  async function append(streamId: string, events: DomainEvent[], referralId: string) {
    const key = keys.get(referralId) ?? (await vault.newKey());
    keys.set(referralId, key);
    await store.append(streamId, codec.encode(events, context, key), 'any');
  }

  async function referral(spec: ReferralSpec) {
    const type = spec.type ?? 'victim';
    const level = spec.level === undefined ? 'standard' : spec.level;
    const events: DomainEvent[] = [
      { type: 'ReferralReceived', data: { referralId: spec.id, agency: spec.agency ?? 'hampshire-police', agencyReference: spec.id, referralType: type, receivedAt: spec.receivedAt, submissionDigest: 'd', subjectGender: spec.gender ?? 'female', submission: {}, contact: {} } },
    ];
    if (level) events.push({ type: 'RiskAssessed', data: { referralId: spec.id, assessmentNumber: 0, dashScore: 0, level, criteria: [], policyId: policy.id, inputs: {}, assessedAt: spec.receivedAt, assessment: {} } });
    const routes = spec.routes ?? [];
    events.push({
      type: 'ReferralRouted',
      data: {
        referralId: spec.id,
        decisionNumber: 0,
        basedOnRevision: '1',
        policyId: policy.id,
        facts: {
          referralId: spec.id, referralType: type, routedAt: spec.receivedAt, riskLevel: level,
          repeat: { isRepeat: spec.repeat ?? false, previousReferralIds: [], repeatMarac: spec.marac?.repeat ?? false },
          children: (spec.children ?? []).map((child, index) => ({ index, presentAtIncident: false, hasSchool: false, ...child })),
        },
        outcome: { policyId: policy.id, status: 'routed', routes: [], marac: spec.marac ? { ...spec.marac, kind: 'daily', startsAt: `${spec.marac.date}T09:30:00.000Z`, hasChildren: false } : null, rulesFired: [], flags: [], reasons: [] },
        cases: routes.map((route) => ({ provision: route.provision, caseId: route.caseId, ruleIds: [], status: route.status ?? 'routed', dueBy: route.dueBy ?? null, opened: true })),
        supersededCaseIds: [],
        encompass: (spec.encompass ?? []).map((notification, childIndex) => ({ ...notification, childIndex })),
        possibleMatchReferralIds: [],
        schools: {},
      },
    });
    await append(streams.referral(spec.id), events, spec.id);
    for (const route of routes) {
      await append(streams.case(route.caseId), [{
        type: 'CaseOpened',
        data: { caseId: route.caseId, referralId: spec.id, provision: route.provision, ruleIds: [], status: route.status ?? 'routed', riskLevel: level, repeat: false, hasChildren: false, routedAt: spec.receivedAt, dueBy: route.dueBy ?? null, decisionNumber: 0 },
      }], spec.id);
    }
  }

  const caseEvent = (referralId: string, caseId: string, type: string, data: Record<string, unknown>) => append(streams.case(caseId), [{ type, data: { caseId, ...data } }], referralId);

  async function reportFor(from: string, to: string, now: string) {
    await runner.catchUp();
    const period = reportPeriod(from, to, policy.calendar.timeZone);
    const data = new PerformanceQuery(db).period(from, to, period, Date.parse(now));
    return reportJson(buildPerformanceReport(data, period, policy, Date.parse(now)), false) as any;
  }

  it('puts a referral in the period by its local received date, in the policy time zone', async () => {
    await referral({ id: 'feb-late-utc', receivedAt: at('2026-02-28T23:30:00Z') }); // 23:30 GMT: 28 February
    await referral({ id: 'mar-first', receivedAt: at('2026-03-01T00:15:00Z') });
    await referral({ id: 'mar-last', receivedAt: at('2026-03-31T22:30:00Z') }); // 23:30 BST: still 31 March
    await referral({ id: 'apr-first-bst', receivedAt: at('2026-03-31T23:30:00Z') }); // 00:30 BST on 1 April
    const report = await reportFor('2026-03-01', '2026-03-31', '2026-06-01T00:00:00Z');
    expect(report.referrals.total).toBe(2);
  });

  it('counts referrals by agency, type, risk level, route and status, and victims by repeat, gender and children', async () => {
    const t = '2026-03-02T10:00:00.000Z';
    await referral({ id: 'a', receivedAt: t, level: 'high', children: [{ ageYears: 7, livesInHousehold: true }], routes: [{ provision: 'idva', caseId: 'c-a-idva', dueBy: plusHours(t, 24) }, { provision: 'mash', caseId: 'c-a-mash', dueBy: plusHours(t, 24) }] });
    await referral({ id: 'b', receivedAt: t, agency: 'gp-practices', gender: 'male', level: 'medium', repeat: true, children: [{ ageYears: 19, livesInHousehold: true }], routes: [{ provision: 'outreach', caseId: 'c-b', dueBy: plusHours(t, 48) }] });
    await referral({ id: 'c', receivedAt: t, type: 'perpetrator', gender: 'male', level: null, children: [{ ageYears: 4, livesInHousehold: false }], routes: [{ provision: 'up2u', caseId: 'c-c', dueBy: plusHours(t, 120) }] });
    await referral({ id: 'd', receivedAt: t, type: 'child-to-parent', level: 'standard', repeat: true, routes: [{ provision: 'whos-in-charge', caseId: 'c-d', dueBy: plusHours(t, 120) }] });

    const report = await reportFor('2026-03-01', '2026-03-31', '2026-06-01T00:00:00Z');
    expect(report.referrals).toMatchObject({
      total: 4,
      byAgency: { 'hampshire-police': 3, 'gp-practices': 1 },
      byType: { victim: 2, perpetrator: 1, 'child-to-parent': 1 },
      byRiskLevel: { high: 1, medium: 1, standard: 1, 'not-assessed': 1 },
      byRoute: { idva: 1, mash: 1, outreach: 1, up2u: 1, 'whos-in-charge': 1, refuge: 0 },
      byStatus: { routed: 4, 'not-yet-routed': 0 },
      // A 19-year-old is not a child; a child who lives elsewhere is not in the household.
      withChildren: { count: 1, share: 0.25 },
    });
    // The perpetrator's subject is not a victim: three victim referrals, two repeats, one male.
    expect(report.victims).toMatchObject({ total: 3, repeat: { count: 2, rate: 0.6667 }, byGender: { female: 2, male: 1 }, maleShare: 0.3333 });
    expect(report.suppressed).toEqual(expect.arrayContaining(['referrals.total', 'victims.repeat.rate']));
  });

  it('times first contact per provision and counts overdue cases, but not one that ended before it was due', async () => {
    const t = '2026-03-02T10:00:00.000Z';
    const idvaCases = ['h1', 'h2', 'h3', 'h4', 'h5'];
    const hoursToContact = [2, 4, 6, 30, 10];
    for (const [index, caseId] of idvaCases.entries()) {
      await referral({ id: `r-${caseId}`, receivedAt: t, level: 'high', routes: [{ provision: 'idva', caseId, dueBy: plusHours(t, 24) }] });
      await caseEvent(`r-${caseId}`, caseId, 'CaseClaimed', { assignee: 'w', claimedAt: plusHours(t, 1) });
      await caseEvent(`r-${caseId}`, caseId, 'ContactAttempted', { outcome: 'no-answer', note: null, attemptedAt: plusHours(t, hoursToContact[index]) });
      await caseEvent(`r-${caseId}`, caseId, 'ContactAttempted', { outcome: 'contacted', note: null, attemptedAt: plusHours(t, 40) });
    }
    await referral({ id: 'r-never', receivedAt: t, level: 'high', routes: [{ provision: 'idva', caseId: 'never', dueBy: plusHours(t, 24) }] });
    await referral({ id: 'r-declined', receivedAt: t, level: 'high', routes: [{ provision: 'idva', caseId: 'declined', dueBy: plusHours(t, 24) }] });
    await caseEvent('r-declined', 'declined', 'CaseDeclined', { reason: 'x', declinedAt: plusHours(t, 3) });
    await referral({ id: 'r-future', receivedAt: '2026-03-30T10:00:00.000Z', level: 'high', routes: [{ provision: 'idva', caseId: 'not-yet-due', dueBy: '2026-04-02T10:00:00.000Z' }] });

    const report = await reportFor('2026-03-01', '2026-03-31', '2026-04-01T00:00:00Z');
    // 2, 4, 6, 10, 30 hours: median 6, nearest-rank p90 the 5th of 5 (30). h4 (30 h) and "never" were overdue.
    expect(report.firstContact.idva).toEqual({ cases: 8, contacted: 5, medianHours: 6, p90Hours: 30, overdue: 2 });
    expect(report.firstContact.outreach).toEqual({ cases: 0, contacted: 0, medianHours: null, p90Hours: null, overdue: 0 });
  });

  it('counts outcomes of the cases closed in the period, by provision', async () => {
    const t = '2026-02-20T10:00:00.000Z';
    await referral({ id: 'o1', receivedAt: t, routes: [{ provision: 'victim-support', caseId: 'vs1', dueBy: plusHours(t, 120) }] });
    await referral({ id: 'o2', receivedAt: t, routes: [{ provision: 'victim-support', caseId: 'vs2', dueBy: plusHours(t, 120) }] });
    await referral({ id: 'o3', receivedAt: t, routes: [{ provision: 'victim-support', caseId: 'vs3', dueBy: plusHours(t, 120) }] });
    await caseEvent('o1', 'vs1', 'CaseClosed', { outcome: 'engaged-risk-reduced', note: null, closedAt: '2026-03-10T10:00:00.000Z' });
    await caseEvent('o2', 'vs2', 'CaseClosed', { outcome: 'no-contact', note: null, closedAt: '2026-03-11T10:00:00.000Z' });
    await caseEvent('o3', 'vs3', 'CaseClosed', { outcome: 'no-contact', note: null, closedAt: '2026-04-11T10:00:00.000Z' });
    const report = await reportFor('2026-03-01', '2026-03-31', '2026-06-01T00:00:00Z');
    expect(report.outcomes['victim-support']).toMatchObject({ closed: 2, 'engaged-risk-reduced': 1, 'no-contact': 1, other: 0 });
    expect(report.referrals.total).toBe(0);
  });

  it('lists MARAC cases by meeting date, replacing a listing whose meeting has not begun when the referral is decided again', async () => {
    await referral({ id: 'm1', receivedAt: '2026-03-02T10:00:00.000Z', level: 'high', marac: { meetingId: 'meet-1', date: '2026-03-03', repeat: false } });
    await referral({ id: 'm2', receivedAt: '2026-03-02T11:00:00.000Z', level: 'high', marac: { meetingId: 'meet-1', date: '2026-03-03', repeat: true } });
    await referral({ id: 'm3', receivedAt: '2026-02-27T11:00:00.000Z', level: 'high', marac: { meetingId: 'meet-0', date: '2026-03-02', repeat: false } });
    // m2 reassessed the same day: listed at another meeting instead.
    await append(streams.referral('m2'), [{
      type: 'ReferralRouted',
      data: { referralId: 'm2', decisionNumber: 1, basedOnRevision: '3', policyId: policy.id, facts: { referralId: 'm2', routedAt: '2026-03-02T12:00:00.000Z', riskLevel: 'high', repeat: { isRepeat: true, previousReferralIds: [], repeatMarac: true }, children: [] }, outcome: { status: 'routed', marac: { meetingId: 'meet-2', date: '2026-04-02', kind: 'fortnightly', startsAt: '2026-04-02T09:30:00.000Z', repeat: true } }, cases: [], supersededCaseIds: [], encompass: [], possibleMatchReferralIds: [], schools: {} },
    }], 'm2');
    // m1 reassessed once its meeting had begun, the same day: it was heard there, and is listed again later.
    await append(streams.referral('m1'), [{
      type: 'ReferralRouted',
      data: { referralId: 'm1', decisionNumber: 1, basedOnRevision: '3', policyId: policy.id, facts: { referralId: 'm1', routedAt: '2026-03-03T09:45:00.000Z', riskLevel: 'high', repeat: { isRepeat: false, previousReferralIds: [], repeatMarac: false }, children: [] }, outcome: { status: 'routed', marac: { meetingId: 'meet-2', date: '2026-04-02', kind: 'fortnightly', startsAt: '2026-04-02T09:30:00.000Z', repeat: false } }, cases: [], supersededCaseIds: [], encompass: [], possibleMatchReferralIds: [], schools: {} },
    }], 'm1');
    const report = await reportFor('2026-03-01', '2026-03-31', '2026-06-01T00:00:00Z');
    expect(report.marac).toMatchObject({ meetings: 2, cases: 2, repeatCases: 0, repeatRate: 0, meetingsOverCapacity: 0 });
  });

  it('counts Encompass notifications of the period and those sent strictly before they were due', async () => {
    const t = '2026-03-02T20:00:00.000Z';
    const due = '2026-03-03T08:30:00.000Z';
    await referral({ id: 'e1', receivedAt: t, encompass: [{ notificationId: 'n1', dueBy: due }, { notificationId: 'n2', dueBy: due }, { notificationId: 'n3', dueBy: due }] });
    await append(streams.encompass('n1'), [{ type: 'EncompassNotificationSent', data: { notificationId: 'n1', referralId: 'e1', sentAt: '2026-03-03T07:00:00.000Z' } }], 'e1');
    await append(streams.encompass('n2'), [{ type: 'EncompassNotificationSent', data: { notificationId: 'n2', referralId: 'e1', sentAt: due } }], 'e1');
    const report = await reportFor('2026-03-01', '2026-03-31', '2026-06-01T00:00:00Z');
    expect(report.encompass).toEqual({ notifications: 3, sent: 2, sentOnTime: 1, onTimeShare: 0.3333 });
  });

  it('follows refuge units from placement to release, with the waitlist, cut to the period and to now', async () => {
    const request = (id: string, requestedAt: string) => append(streams.refuge(), [{ type: 'RefugeUnitRequested', data: { requestId: id, referralId: id, requestedAt } }], 'refuge');
    const release = (id: string, releasedAt: string) => append(streams.refuge(), [{ type: 'RefugeUnitReleased', data: { requestId: id, releasedAt } }], 'refuge');
    await request('u1', '2026-02-25T12:00:00.000Z'); // placed before the period
    await request('u2', '2026-03-10T12:00:00.000Z'); // waits: the one unit is taken
    await request('u3', '2026-03-12T12:00:00.000Z'); // waits behind u2, then withdraws
    await release('u3', '2026-03-13T12:00:00.000Z');
    await release('u1', '2026-03-15T12:00:00.000Z'); // u2 is placed at once
    const now = '2026-03-20T12:00:00.000Z';
    const report = await reportFor('2026-03-01', '2026-03-31', now);

    const start = Date.parse('2026-03-01T00:00:00Z');
    const end = Date.parse(now);
    const occupied = Date.parse('2026-03-15T12:00:00Z') - start + (end - Date.parse('2026-03-15T12:00:00Z'));
    const waiting = Date.parse('2026-03-15T12:00:00Z') - Date.parse('2026-03-10T12:00:00Z') + (Date.parse('2026-03-13T12:00:00Z') - Date.parse('2026-03-12T12:00:00Z'));
    expect(report.refuge).toEqual({
      capacityUnits: 1,
      households: 2,
      placementsStarted: 1,
      averageOccupiedUnits: Math.round((occupied / (end - start)) * 100) / 100,
      occupancyRate: 1,
      peakOccupiedUnits: 1,
      householdsWaiting: 2,
      waitlisted: 2,
      averageWaitlist: Math.round((waiting / (end - start)) * 100) / 100,
      peakWaitlist: 2,
    });
  });

  it('rebuilds the same figures from the log when the read model is dropped', async () => {
    const t = '2026-03-02T10:00:00.000Z';
    await referral({ id: 'x', receivedAt: t, level: 'high', routes: [{ provision: 'idva', caseId: 'cx', dueBy: plusHours(t, 24) }] });
    await caseEvent('x', 'cx', 'ContactAttempted', { outcome: 'contacted', note: null, attemptedAt: plusHours(t, 5) });
    const before = await reportFor('2026-03-01', '2026-03-31', '2026-06-01T00:00:00Z');
    await runner.stop();
    db = openReadModelDb(path.join(directory, 'rebuilt.sqlite'));
    runner = new ProjectionRunner('spec-rebuilt', store, db, codec, [new PerformanceProjection(policy)]);
    runner.start();
    const after = await reportFor('2026-03-01', '2026-03-31', '2026-06-01T00:00:00Z');
    expect({ ...after, generatedAt: null }).toEqual({ ...before, generatedAt: null });
  });
});

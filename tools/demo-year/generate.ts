import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { instantAt, isWorkingDay, localDateOf, nextWorkingDay, type RoutingPolicy } from '@spoc/domain';
import { EVENT_STORE, type EventStore } from '@spoc/event-store';
import type { ProjectionRunner } from '@spoc/platform';
import { createApp } from '../../apps/api/src/app';
import { loadConfig } from '../../apps/api/src/config';
import { POLICY, PROJECTIONS, ROUTER } from '../../apps/api/src/infrastructure/tokens';
import type { Router } from '../../apps/router/src/router';
import { periodEnd, planReferrals, type DemoOptions, type PlannedReferral } from './plan';
import { Prng } from './prng';

/** What was generated, as the service answered it: the proof test and the printed totals are worked out from it. */
export interface Ledger {
  from: string;
  to: string;
  referrals: LedgerReferral[];
  cases: LedgerCase[];
  notifications: LedgerNotification[];
  refuge: LedgerRefugeRequest[];
}

export interface LedgerReferral {
  referralId: string;
  agency: string;
  referralType: string;
  gender: string;
  plannedAt: number;
  /** As the service stamped it (the simulated clock). */
  receivedAt: number;
  expected: PlannedReferral['expected'];
  riskLevel: string | null;
  isRepeat: boolean;
  status: string;
  routes: Array<{ provision: string; caseId: string; status: string }>;
  marac: { meetingId: string; date: string; repeat: boolean } | null;
}

export interface LedgerCase {
  caseId: string;
  referralId: string;
  provision: string;
  /** When the first-contact clock started (routing, a refuge place offered, a transfer or referral-on); null while held or waitlisted. */
  clockStartMs: number | null;
  dueByMs: number | null;
  attempts: Array<{ at: number; outcome: string }>;
  endedMs: number | null;
  closed: { at: number; outcome: string } | null;
  origin: 'routing' | 'transfer' | 'decline';
}

export interface LedgerNotification {
  notificationId: string;
  referralId: string;
  dueByMs: number;
  sentMs: number | null;
}

export interface LedgerRefugeRequest {
  referralId: string;
  requestedMs: number;
  placedMs: number | null;
  releasedMs: number | null;
}

export interface GenerateOptions extends DemoOptions {
  dataDir: string;
  /** Days of case activity after the last referral (closing what is still open), cut at the real now. Default 90. */
  runOutDays?: number;
  /** Progress lines (totals, never anything personal). */
  progress?: (line: string) => void;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const AGENCIES = ['hampshire-police', 'gp-practices', 'schools', 'housing', 'substance-misuse', 'mash', 'self-referral'];
const PROVISIONS = ['idva', 'outreach', 'refuge', 'victim-support', 'up2u', 'ypva', 'whos-in-charge', 'mash'] as const;
type Provision = (typeof PROVISIONS)[number];

/**
 * How each provision's caseworkers work (estimates): median hours from routing to the claim (before office hours
 * are applied), how long a case stays open, and how often it is declined (the policy's fallback or the referrer
 * then has it) or transferred.
 */
const PROFILES: Record<Provision, { claimHours: number; openDays: [number, number]; decline: number; transfer: { to: Provision; share: number } | null }> = {
  idva: { claimHours: 3, openDays: [20, 90], decline: 0, transfer: null },
  outreach: { claimHours: 14, openDays: [20, 70], decline: 0, transfer: { to: 'victim-support', share: 0.03 } },
  refuge: { claimHours: 4, openDays: [40, 150], decline: 0, transfer: null },
  'victim-support': { claimHours: 30, openDays: [7, 40], decline: 0.04, transfer: { to: 'outreach', share: 0.02 } },
  up2u: { claimHours: 40, openDays: [70, 120], decline: 0.05, transfer: null },
  ypva: { claimHours: 12, openDays: [30, 90], decline: 0.03, transfer: null },
  'whos-in-charge': { claimHours: 50, openDays: [70, 100], decline: 0, transfer: null },
  mash: { claimHours: 4, openDays: [1, 10], decline: 0, transfer: null },
};

interface Task {
  at: number;
  seq: number;
  run: () => Promise<void>;
}

/**
 * Writes the planned referrals, and the work on their cases, through the real HTTP API of an in-process app whose
 * clock is simulated: each action is taken with the clock set to its moment, and the router and read models are
 * let catch up before the clock moves on, so everything the service stamps (receivedAt, routedAt, attemptedAt...)
 * is the simulated time. See docs/decisions/0006-simulated-clock-for-demo-data.md.
 */
export async function generateDemo(options: GenerateOptions): Promise<Ledger> {
  if (existsSync(path.join(options.dataDir, 'events.sqlite'))) throw new Error(`${options.dataDir} already holds a log: generate into a fresh data directory`);
  // The service refuses referrals assessed in the future by the real clock, so a simulated period must be past.
  if (Date.parse(`${periodEnd(options.from, options.years)}T23:59:59Z`) >= Date.now()) throw new Error(`the period from ${options.from} must end before today`);
  const run = await DemoRun.start(options);
  try {
    return await run.generate();
  } finally {
    await run.close();
  }
}

class DemoRun {
  private readonly tasks: Task[] = [];
  private seq = 0;
  private readonly tokens = new Map<string, string>();
  private readonly random: Prng;
  private readonly ledger: Ledger;
  private readonly waitlisted = new Map<string, LedgerCase>();
  private readonly refugeByReferral = new Map<string, LedgerRefugeRequest>();
  private readonly knownCases = new Set<string>();
  /** Waitlisted refuge cases already contacted: closed once placed and the stay is over. */
  private readonly closeWhenPlaced = new Set<string>();

  private constructor(
    private readonly options: GenerateOptions,
    private readonly app: NestFastifyApplication,
    private readonly bootstrap: string,
    private readonly policy: RoutingPolicy,
    private readonly planned: PlannedReferral[],
    to: string,
    /** The simulated now that the app's clock reads. */
    private readonly clock: { ms: number },
  ) {
    this.random = new Prng(options.seed ^ 0x5eed);
    this.ledger = { from: options.from, to, referrals: [], cases: [], notifications: [], refuge: [] };
  }

  static async start(options: GenerateOptions): Promise<DemoRun> {
    // A one-off admin token for this run only: the principals it creates stay in the log, the token does not.
    const bootstrap = randomBytes(24).toString('hex');
    const clock = { ms: Date.parse(`${options.from}T00:00:00Z`) };
    const config = loadConfig({ SPOC_DATA_DIR: options.dataDir, SPOC_BOOTSTRAP_ADMIN_TOKEN: bootstrap, PORT: '0', SPOC_RATE_LIMIT: '0', ...(process.env.SPOC_POLICY_FILE ? { SPOC_POLICY_FILE: process.env.SPOC_POLICY_FILE } : {}) });
    const app = await createApp(config, { logger: false, clock: () => new Date(clock.ms) });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    const policy = app.get<RoutingPolicy>(POLICY);
    const { referrals, to } = planReferrals(options, policy);
    return new DemoRun(options, app, bootstrap, policy, referrals, to, clock);
  }

  async generate(): Promise<Ledger> {
    for (const agency of AGENCIES) this.tokens.set(`referrer:${agency}`, await this.principal({ role: 'referrer', name: `Demo ${agency}`, agency }));
    for (const provision of PROVISIONS) this.tokens.set(provision, await this.principal({ role: 'caseworker', name: `Demo ${provision} caseworker`, provision }));
    this.tokens.set('auditor', await this.principal({ role: 'auditor', name: 'Demo performance board' }));
    for (const referral of this.planned) this.schedule(referral.at, () => this.refer(referral));
    const lastReferral = this.planned.length > 0 ? this.planned[this.planned.length - 1].at : this.clock.ms;
    const horizon = Math.min(lastReferral + (this.options.runOutDays ?? 90) * DAY, Date.now() - HOUR);
    let done = 0;
    while (this.tasks.length > 0) {
      const task = this.pop();
      if (task.at > horizon) break;
      this.clock.ms = Math.max(this.clock.ms, task.at);
      await task.run();
      if (++done % 5000 === 0) this.options.progress?.(`  ${done} actions, simulated ${new Date(this.clock.ms).toISOString().slice(0, 10)}`);
    }
    await this.settle();
    return this.ledger;
  }

  async close(): Promise<void> {
    await this.app.close();
  }

  // ---- referrals ---------------------------------------------------------------------------------------------

  private async refer(planned: PlannedReferral): Promise<void> {
    const referrer = this.tokens.get(`referrer:${planned.agency}`)!;
    const posted = await this.call('POST', '/v1/referrals', referrer, planned.body, 202);
    await this.settle();
    const referralId = posted.referralId as string;
    const seen = await this.call('GET', `/v1/referrals/${referralId}`, this.tokens.get('auditor')!);
    // Routes held for the victim's consent are listed apart from the routed and waitlisted ones.
    const held = ((seen.heldForConsent as Array<{ provision: Provision; caseId: string }>) ?? []).map((route) => ({ ...route, status: 'held-awaiting-consent', dueBy: null }));
    const routes = [...((seen.routes as Array<{ provision: Provision; caseId: string; status: string; dueBy: string | null }>) ?? []), ...held];
    this.ledger.referrals.push({
      referralId,
      agency: planned.agency,
      referralType: planned.body.referralType,
      gender: planned.body.subject.gender,
      plannedAt: planned.at,
      receivedAt: Date.parse(seen.receivedAt as string),
      expected: planned.expected,
      riskLevel: (seen.riskLevel as string | null) ?? null,
      isRepeat: Boolean((seen.repeat as { isRepeat?: boolean } | null)?.isRepeat),
      status: seen.status as string,
      routes: routes.map(({ provision, caseId, status }) => ({ provision, caseId, status })),
      marac: seen.marac ? { meetingId: (seen.marac as { meetingId: string }).meetingId, date: (seen.marac as { meetingDate: string }).meetingDate, repeat: (seen.marac as { repeat: boolean }).repeat } : null,
    });
    for (const route of routes) {
      // Routed and waitlisted cases are worked from routing; a held one waits for consent that never comes here.
      const worked = route.status !== 'held-awaiting-consent';
      const ledgerCase = this.openCase(route.caseId, referralId, route.provision, worked ? this.clock.ms : null, route.dueBy, 'routing');
      if (route.provision === 'refuge') {
        const request = { referralId, requestedMs: this.clock.ms, placedMs: route.status === 'routed' ? this.clock.ms : null, releasedMs: null };
        this.ledger.refuge.push(request);
        this.refugeByReferral.set(referralId, request);
        if (route.status === 'waitlisted') this.waitlisted.set(route.caseId, ledgerCase);
      }
      if (worked) this.work(ledgerCase);
    }
    for (const notification of (seen.encompass as Array<{ notificationId: string; dueBy: string }>) ?? []) this.notifySchool(referralId, notification);
  }

  /** Schools hear mostly before the school day starts; some notifications go late (estimate: one in eight). */
  private notifySchool(referralId: string, notification: { notificationId: string; dueBy: string }): void {
    const dueBy = Date.parse(notification.dueBy);
    const entry: LedgerNotification = { notificationId: notification.notificationId, referralId, dueByMs: dueBy, sentMs: null };
    this.ledger.notifications.push(entry);
    const earliest = this.clock.ms + 10 * 60_000;
    const at = this.random.chance(0.88) && dueBy - 5 * 60_000 > earliest
      ? Math.max(earliest, dueBy - 5 * 60_000 - this.random.next() * 14 * HOUR)
      : dueBy + 10 * 60_000 + this.random.lognormal(3 * HOUR, 1);
    this.schedule(at, async () => {
      await this.call('POST', `/v1/encompass/notifications/${notification.notificationId}/sent`, this.tokens.get('idva')!, {});
      entry.sentMs = this.clock.ms;
    });
  }

  // ---- cases -------------------------------------------------------------------------------------------------

  private openCase(caseId: string, referralId: string, provision: Provision, clockStartMs: number | null, dueBy: string | null, origin: LedgerCase['origin']): LedgerCase {
    const ledgerCase: LedgerCase = { caseId, referralId, provision, clockStartMs, dueByMs: dueBy ? Date.parse(dueBy) : null, attempts: [], endedMs: null, closed: null, origin };
    this.ledger.cases.push(ledgerCase);
    this.knownCases.add(caseId);
    return ledgerCase;
  }

  /** A caseworker claims the case (or declines it), tries to make contact, and closes it, in office hours. */
  private work(ledgerCase: LedgerCase): void {
    const profile = PROFILES[ledgerCase.provision as Provision];
    const token = this.tokens.get(ledgerCase.provision)!;
    // Estimate: one case in twenty waits far longer than it should (leave, sickness, a full caseload).
    const slow = this.random.chance(0.05) ? 6 : 1;
    const claimAt = this.officeHours(this.clock.ms + this.random.lognormal(profile.claimHours * HOUR, 0.7) * slow);
    const declines = this.random.chance(profile.decline);
    this.schedule(claimAt, async () => {
      if (declines) {
        await this.call('POST', `/v1/cases/${ledgerCase.caseId}/decline`, token, { reason: 'Needs are beyond what this service offers.' });
        ledgerCase.endedMs = this.clock.ms;
        await this.settle();
        await this.findNewCases(ledgerCase, this.policy.provisions[ledgerCase.provision as Provision].declineFallback ?? null, 'decline');
        return;
      }
      await this.call('POST', `/v1/cases/${ledgerCase.caseId}/claim`, token, {});
      this.attempt(ledgerCase, 1, this.clock.ms + this.random.lognormal(40 * 60_000, 0.6));
    });
  }

  private attempt(ledgerCase: LedgerCase, number: number, at: number): void {
    const token = this.tokens.get(ledgerCase.provision)!;
    this.schedule(this.officeHours(at), async () => {
      const outcome = this.random.weighted({ contacted: 0.55, 'no-answer': 0.25, 'message-left': 0.15, 'unsafe-to-contact': 0.05 });
      await this.call('POST', `/v1/cases/${ledgerCase.caseId}/contact-attempts`, token, { outcome, note: null });
      ledgerCase.attempts.push({ at: this.clock.ms, outcome });
      if (outcome === 'contacted') return this.afterContact(ledgerCase);
      if (number < 3) return this.attempt(ledgerCase, number + 1, this.clock.ms + this.random.int(1, 3) * DAY);
      this.closeCase(ledgerCase, this.clock.ms + this.random.int(3, 10) * DAY, false);
    });
  }

  private afterContact(ledgerCase: LedgerCase): void {
    const transfer = PROFILES[ledgerCase.provision as Provision].transfer;
    if (transfer && this.random.chance(transfer.share)) {
      this.schedule(this.officeHours(this.clock.ms + this.random.int(2, 10) * DAY), async () => {
        await this.call('POST', `/v1/cases/${ledgerCase.caseId}/transfer`, this.tokens.get(ledgerCase.provision)!, { toProvision: transfer.to, reason: 'Risk and needs have changed.' });
        ledgerCase.endedMs = this.clock.ms;
        await this.settle();
        await this.findNewCases(ledgerCase, transfer.to, 'transfer');
      });
      return;
    }
    if (this.waitlisted.has(ledgerCase.caseId)) {
      // Estimate: a household still waiting after three to eight weeks has been placed out of area by the national search.
      this.closeWhenPlaced.add(ledgerCase.caseId);
      this.closeCase(ledgerCase, this.clock.ms + this.random.int(21, 56) * DAY, true, 'other', () => this.waitlisted.has(ledgerCase.caseId));
      return;
    }
    const [shortest, longest] = PROFILES[ledgerCase.provision as Provision].openDays;
    this.closeCase(ledgerCase, this.clock.ms + this.random.int(shortest, longest) * DAY, true);
  }

  /** `still` is asked when the moment comes: a close planned only if the household is still waiting, say. */
  private closeCase(ledgerCase: LedgerCase, at: number, contacted: boolean, fixedOutcome?: string, still: () => boolean = () => true): void {
    this.schedule(this.officeHours(at), async () => {
      if (ledgerCase.closed || !still()) return;
      const outcome = fixedOutcome ?? (contacted
        ? this.random.weighted({ 'engaged-risk-reduced': 50, 'engaged-ongoing-risk': 18, 'declined-support': 14, 'moved-away': 6, other: 12 })
        : this.random.weighted({ 'no-contact': 75, 'declined-support': 10, 'moved-away': 8, other: 7 }));
      await this.call('POST', `/v1/cases/${ledgerCase.caseId}/close`, this.tokens.get(ledgerCase.provision)!, { outcome, note: null });
      ledgerCase.closed = { at: this.clock.ms, outcome };
      ledgerCase.endedMs = this.clock.ms;
      // Closing a case still waiting for a unit withdraws it from the waitlist.
      this.waitlisted.delete(ledgerCase.caseId);
      if (ledgerCase.provision === 'refuge') await this.refugeUnitFreed(ledgerCase);
    });
  }

  /** The router frees the unit and offers it to whoever waited longest: their stay starts now. */
  private async refugeUnitFreed(closed: LedgerCase): Promise<void> {
    const request = this.refugeByReferral.get(closed.referralId);
    if (request) request.releasedMs = this.clock.ms;
    await this.settle();
    for (const [caseId, waiting] of this.waitlisted) {
      const seen = await this.call('GET', `/v1/cases/${caseId}`, this.tokens.get('refuge')!);
      if (seen.routeStatus !== 'routed') continue;
      this.waitlisted.delete(caseId);
      const placed = this.refugeByReferral.get(waiting.referralId);
      if (placed) placed.placedMs = this.clock.ms;
      if (this.closeWhenPlaced.delete(caseId)) this.afterContact(waiting);
    }
  }

  /** A transfer or a referral-on opens a case at another provision: found in that provision's queue. */
  private async findNewCases(from: LedgerCase, provision: string | null, origin: 'transfer' | 'decline'): Promise<void> {
    if (!provision) return; // returned to the referrer: no case follows
    let cursor: string | null = null;
    do {
      const page = await this.call('GET', `/v1/queues/${provision}?status=awaiting&limit=500${cursor ? `&cursor=${cursor}` : ''}`, this.tokens.get(provision)!);
      for (const item of page.items as Array<{ caseId: string; referralId: string; dueBy: string | null }>) {
        if (item.referralId !== from.referralId || this.knownCases.has(item.caseId)) continue;
        // Opened by the move, at this simulated moment (the router has settled since).
        this.work(this.openCase(item.caseId, item.referralId, provision as Provision, this.clock.ms, item.dueBy, origin));
      }
      cursor = page.nextCursor as string | null;
    } while (cursor);
  }

  // ---- plumbing ----------------------------------------------------------------------------------------------

  /** A moment moved into office hours (09:00-17:30 on working days, local time), a little after the start if moved. */
  private officeHours(ms: number): number {
    const { timeZone } = this.policy.calendar;
    const date = localDateOf(new Date(ms), timeZone);
    const opens = (day: string) => instantAt(day, '09:00', timeZone).getTime() + this.random.int(0, 90) * 60_000;
    if (isWorkingDay(date, this.policy.calendar)) {
      if (ms < instantAt(date, '09:00', timeZone).getTime()) return opens(date);
      if (ms < instantAt(date, '17:30', timeZone).getTime()) return ms;
    }
    return opens(nextWorkingDay(date, this.policy.calendar));
  }

  /** Waits until the router and the read models have taken in everything in the log, so the clock may move on. */
  private async settle(): Promise<void> {
    const store = this.app.get<EventStore>(EVENT_STORE);
    const router = this.app.get<Router | null>(ROUTER);
    const projections = this.app.get<ProjectionRunner>(PROJECTIONS);
    for (;;) {
      const head = await store.headPosition();
      if (head === null) return;
      if (router && !(await router.waitFor(head, 30_000))) throw new Error('the router did not catch up within 30 s');
      if (!(await projections.waitFor(head, 30_000))) throw new Error('the read models did not catch up within 30 s');
      if ((await store.headPosition()) === head) return;
    }
  }

  private schedule(at: number, run: () => Promise<void>): void {
    // Never in the simulated past, and after anything already due at the same moment.
    const task = { at: Math.max(Math.round(at), this.clock.ms + 1000), seq: (this.seq += 1), run };
    const heap = this.tasks;
    heap.push(task);
    for (let index = heap.length - 1; index > 0; ) {
      const parent = (index - 1) >> 1;
      if (before(heap[parent], heap[index])) break;
      [heap[parent], heap[index]] = [heap[index], heap[parent]];
      index = parent;
    }
  }

  private pop(): Task {
    const heap = this.tasks;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let index = 0; ; ) {
        const left = 2 * index + 1;
        const right = left + 1;
        let smallest = index;
        if (left < heap.length && before(heap[left], heap[smallest])) smallest = left;
        if (right < heap.length && before(heap[right], heap[smallest])) smallest = right;
        if (smallest === index) break;
        [heap[smallest], heap[index]] = [heap[index], heap[smallest]];
        index = smallest;
      }
    }
    return top;
  }

  private async principal(body: Record<string, string>): Promise<string> {
    return (await this.call('POST', '/v1/admin/principals', this.bootstrap, body, 201)).token as string;
  }

  /** One request through the app's HTTP stack (routing, guard, validation, filters), in process. */
  private async call(method: 'GET' | 'POST', url: string, token: string, body?: unknown, expected = 200): Promise<Record<string, unknown>> {
    const response = await this.app.inject({ method, url, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, payload: body ? JSON.stringify(body) : undefined });
    if (response.statusCode !== expected) {
      const route = url.replace(/[0-9a-f-]{36}/g, ':id').replace(/\?.*$/, '');
      // The problem details name fields and fixed texts only, never a submitted value.
      const problem = response.json() as { message?: string; details?: unknown };
      throw new Error(`${method} ${route} answered ${response.statusCode}: ${problem.message ?? ''} ${JSON.stringify(problem.details ?? [])}`);
    }
    return response.json() as Record<string, unknown>;
  }
}

function before(a: Task, b: Task): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

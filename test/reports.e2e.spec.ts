import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateDemo, type Ledger } from '../tools/demo-year/generate';
import { bearer, TestApp } from './support/test-app';

// The proof of issue 7: a generated period, written through the real API with a simulated clock, and a report
// that must show exactly what was generated. Expectations are worked out here from the generator's ledger, by
// the definitions in docs/reports.md, without the report's own code.

const FROM = '2026-03-01';
const TO = '2026-05-30';
const PROVISIONS = ['idva', 'outreach', 'refuge', 'victim-support', 'up2u', 'ypva', 'whos-in-charge', 'mash'];
const OUTCOMES = ['engaged-risk-reduced', 'engaged-ongoing-risk', 'declined-support', 'no-contact', 'moved-away', 'other'];
const HOUR = 3_600_000;
const localDate = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' });
const dayOf = (ms: number) => localDate.format(new Date(ms));
const inPeriod = (ms: number | null, from = FROM, to = TO) => ms !== null && dayOf(ms) >= from && dayOf(ms) <= to;
const round = (value: number, decimals: number) => Math.round(value * 10 ** decimals) / 10 ** decimals;
const share = (part: number, whole: number) => (whole === 0 ? null : round(part / whole, 4));
const countBy = <T>(items: T[], key: (item: T) => string) => items.reduce<Record<string, number>>((counts, item) => ({ ...counts, [key(item)]: (counts[key(item)] ?? 0) + 1 }), {});

function medianOf(values: number[]): number | null {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function p90Of(values: number[]): number | null {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? null : sorted[Math.ceil(0.9 * sorted.length) - 1];
}

/** The most intervals open at one instant, by brute force over every start. */
function peakOf(intervals: Array<[number, number]>): number {
  return Math.max(0, ...intervals.map(([at]) => intervals.filter(([a, b]) => a <= at && at < b).length));
}

/** Every indicator of the report, from the ledger. */
function expectedReport(ledger: Ledger, from: string, to: string, nowMs: number) {
  const referrals = ledger.referrals.filter((referral) => inPeriod(referral.receivedAt, from, to));
  const victims = referrals.filter((referral) => referral.referralType !== 'perpetrator');
  const inReferrals = new Set(referrals.map((referral) => referral.referralId));
  const listings = ledger.referrals.filter((referral) => referral.marac && referral.marac.date >= from && referral.marac.date <= to);
  const meetings = countBy(listings, (referral) => referral.marac!.meetingId);
  const notifications = ledger.notifications.filter((notification) => inReferrals.has(notification.referralId));
  const onTime = notifications.filter((notification) => notification.sentMs !== null && notification.sentMs < notification.dueByMs).length;
  const repeats = victims.filter((referral) => referral.isRepeat).length;
  const withChildren = referrals.filter((referral) => referral.expected.withChildren).length;

  const firstContact = Object.fromEntries(PROVISIONS.map((provision) => {
    const cases = ledger.cases.filter((entry) => entry.provision === provision && inPeriod(entry.clockStartMs, from, to));
    const hours = cases.filter((entry) => entry.attempts.length > 0).map((entry) => (entry.attempts[0].at - entry.clockStartMs!) / HOUR);
    const overdue = cases.filter((entry) => {
      const first = entry.attempts[0]?.at ?? null;
      return entry.dueByMs! < nowMs && (first !== null ? first > entry.dueByMs! : entry.endedMs === null || entry.endedMs > entry.dueByMs!);
    }).length;
    const median = medianOf(hours);
    const p90 = p90Of(hours);
    return [provision, { cases: cases.length, contacted: hours.length, medianHours: median === null ? null : round(median, 1), p90Hours: p90 === null ? null : round(p90, 1), overdue }];
  }));
  const outcomes = Object.fromEntries(PROVISIONS.map((provision) => {
    const closed = ledger.cases.filter((entry) => entry.provision === provision && entry.closed && inPeriod(entry.closed.at, from, to));
    return [provision, { closed: closed.length, ...Object.fromEntries(OUTCOMES.map((outcome) => [outcome, closed.filter((entry) => entry.closed!.outcome === outcome).length])) }];
  }));

  const start = Date.parse(`${from}T00:00:00Z`) - localOffsetMs(from);
  const end = Math.min(nowMs, Date.parse(`${dayAfter(to)}T00:00:00Z`) - localOffsetMs(dayAfter(to)));
  const cut = (intervals: Array<[number, number | null]>) => intervals.map(([a, b]): [number, number] => [Math.max(a, start), Math.min(b ?? end, end)]).filter(([a, b]) => b > a);
  const stays = cut(ledger.refuge.filter((request) => request.placedMs !== null).map((request) => [request.placedMs!, request.releasedMs]));
  // A household waits from its request to its placement, or to its case closing while it still waited.
  const waits = cut(ledger.refuge.filter((request) => request.placedMs === null || request.placedMs > request.requestedMs).map((request) => [request.requestedMs, request.placedMs ?? request.releasedMs]));
  const average = (intervals: Array<[number, number]>) => round(intervals.reduce((total, [a, b]) => total + b - a, 0) / (end - start), 2);

  return {
    referrals: {
      total: referrals.length,
      byAgency: countBy(referrals, (referral) => referral.agency),
      byType: { victim: 0, perpetrator: 0, 'child-to-parent': 0, ...countBy(referrals, (referral) => referral.referralType) },
      byRiskLevel: { high: 0, medium: 0, standard: 0, 'not-assessed': 0, ...countBy(referrals, (referral) => referral.riskLevel ?? 'not-assessed') },
      byRoute: Object.fromEntries(PROVISIONS.map((provision) => [provision, referrals.filter((referral) => referral.routes.some((route) => route.provision === provision)).length])),
      byStatus: { routed: 0, 'awaiting-consent': 0, 'not-eligible': 0, 'not-yet-routed': 0, ...countBy(referrals, (referral) => referral.status) },
      withChildren: { count: withChildren, share: share(withChildren, referrals.length) },
    },
    victims: {
      total: victims.length,
      repeat: { count: repeats, rate: share(repeats, victims.length) },
      byGender: { female: 0, male: 0, 'non-binary': 0, other: 0, 'not-known': 0, 'not-recorded': 0, ...countBy(victims, (referral) => referral.gender) },
      maleShare: share(victims.filter((referral) => referral.gender === 'male').length, victims.length),
    },
    marac: {
      meetings: Object.keys(meetings).length,
      cases: listings.length,
      repeatCases: listings.filter((referral) => referral.marac!.repeat).length,
      repeatRate: share(listings.filter((referral) => referral.marac!.repeat).length, listings.length),
      meetingsOverCapacity: Object.values(meetings).filter((listed) => listed > 15).length,
    },
    encompass: { notifications: notifications.length, sent: notifications.filter((notification) => notification.sentMs !== null).length, sentOnTime: onTime, onTimeShare: share(onTime, notifications.length) },
    firstContact,
    outcomes,
    refuge: {
      capacityUnits: 16,
      households: stays.length,
      placementsStarted: ledger.refuge.filter((request) => request.placedMs !== null && request.placedMs >= start && request.placedMs < end).length,
      averageOccupiedUnits: average(stays),
      occupancyRate: round(average(stays) / 16, 4),
      peakOccupiedUnits: peakOf(stays),
      householdsWaiting: waits.length,
      waitlisted: ledger.refuge.filter((request) => (request.placedMs === null || request.placedMs > request.requestedMs) && request.requestedMs >= start && request.requestedMs < end).length,
      averageWaitlist: average(waits),
      peakWaitlist: peakOf(waits),
    },
  };
}

/** Europe/London's offset at local midnight of a date: 0 in winter, one hour in summer. */
function localOffsetMs(date: string): number {
  const noon = new Date(`${date}T12:00:00Z`);
  const hour = Number(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', hourCycle: 'h23' }).format(noon));
  return (hour - 12) * HOUR;
}

function dayAfter(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + 24 * HOUR).toISOString().slice(0, 10);
}

/** Every count figure of an expected report, by its path. */
function countPaths(node: unknown, prefix = ''): Array<[string, number]> {
  if (typeof node !== 'object' || node === null) return [];
  return Object.entries(node).flatMap(([key, value]): Array<[string, number]> => {
    const at = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'object' && value !== null) return countPaths(value, at);
    const notACount = /(share|rate|Share|Rate|Hours|average|peak|capacityUnits|meetings|meetingsOverCapacity)$/.test(key) || at === 'marac.meetings';
    return typeof value === 'number' && Number.isInteger(value) && !notACount ? [[at, value]] : [];
  });
}

describe('the performance report, against a generated period', () => {
  let app: TestApp;
  let ledger: Ledger;
  let auditor: string;
  let report: any;
  let expected: ReturnType<typeof expectedReport>;

  beforeAll(async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'spoc-e2e-report-'));
    ledger = await generateDemo({ seed: 7, years: 0.25, scale: 0.3, from: FROM, dataDir, runOutDays: 60 });
    app = await TestApp.start(dataDir);
    auditor = (await app.createPrincipal({ role: 'auditor', name: 'Board' })).token;
    report = (await app.http().get(`/v1/reports/performance?from=${FROM}&to=${TO}`).set(bearer(auditor)).expect(200)).body;
    expected = expectedReport(ledger, FROM, TO, Date.now());
  }, 180_000);
  afterAll(() => app?.close());

  it('generated a realistic small period through the real API, on the simulated clock', () => {
    expect(ledger.to).toBe(TO);
    expect(ledger.referrals.length).toBeGreaterThanOrEqual(60);
    expect(ledger.referrals.length).toBeLessThanOrEqual(140);
    for (const referral of ledger.referrals) {
      expect({ id: referral.referralId, receivedAt: referral.receivedAt }).toEqual({ id: referral.referralId, receivedAt: referral.plannedAt });
      expect({ id: referral.referralId, repeat: referral.isRepeat, level: referral.riskLevel }).toEqual({ id: referral.referralId, repeat: referral.expected.repeat, level: referral.expected.level });
    }
    expect(ledger.referrals.some((referral) => referral.isRepeat)).toBe(true);
    expect(ledger.cases.filter((entry) => entry.attempts.length > 0).length).toBeGreaterThan(50);
  });

  it('shows every indicator exactly as generated', () => {
    expect(report).toMatchObject(expected);
    expect(report.period).toEqual({ from: FROM, to: TO, timeZone: 'Europe/London', days: 91 });
  });

  it('gets the repeat rate, and the median and 90th percentile hours to first contact, right', () => {
    expect(report.victims.repeat).toEqual(expected.victims.repeat);
    expect(report.victims.repeat.count).toBeGreaterThan(0);
    for (const provision of ['idva', 'outreach', 'victim-support', 'mash']) {
      expect({ provision, ...report.firstContact[provision] }).toEqual({ provision, ...expected.firstContact[provision] });
      expect(report.firstContact[provision].medianHours).not.toBeNull();
    }
  });

  it('puts referrals in a shorter period by their local received date', async () => {
    const { body } = await app.http().get('/v1/reports/performance?from=2026-04-01&to=2026-04-30').set(bearer(auditor)).expect(200);
    expect(body).toMatchObject(expectedReport(ledger, '2026-04-01', '2026-04-30', Date.now()));
  });

  it('lists the figures a shareable copy withholds, and withholds them with ?suppress=true', async () => {
    const small = countPaths(expected).filter(([, value]) => value > 0 && value < 5).map(([figure]) => figure);
    expect(small.length).toBeGreaterThan(0);
    expect(report.suppressed).toEqual(expect.arrayContaining(small));
    expect(report.suppression.applied).toBe(false);
    const { body } = await app.http().get(`/v1/reports/performance?from=${FROM}&to=${TO}&suppress=true`).set(bearer(auditor)).expect(200);
    expect(body.suppression.applied).toBe(true);
    const at = (node: any, figure: string) => figure.split('.').reduce((value, key) => value?.[key], node);
    for (const figure of report.suppressed) expect({ figure, shown: at(body, figure) }).toEqual({ figure, shown: expect.stringMatching(/^(<5|suppressed)$/) });
    expect(at(body, 'referrals.total')).toBe(expected.referrals.total);
  });

  it('exports a CSV that always withholds small counts', async () => {
    const response = await app.http().get(`/v1/reports/performance.csv?from=${FROM}&to=${TO}`).set(bearer(auditor)).expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/csv/);
    expect(response.headers['content-disposition']).toContain(`spoc-performance-${FROM}-to-${TO}.csv`);
    const values = new Map(response.text.trim().split('\r\n').slice(1).map((line) => {
      const cells = [...line.matchAll(/("(?:[^"]|"")*"|[^,]*)(?:,|$)/g)].map((match) => match[1].replace(/^"|"$/g, '').replace(/""/g, '"'));
      return [cells[3], cells[6]];
    }));
    const withheld = new Set(report.suppressed);
    for (const [figure, value] of countPaths(expected)) {
      expect({ figure, shown: values.get(figure) }).toEqual({ figure, shown: withheld.has(figure) ? '<5' : String(value) });
    }
  });

  it('exports a one-page printable summary with server-drawn charts that withholds small counts', async () => {
    const response = await app.http().get(`/v1/reports/performance.html?from=${FROM}&to=${TO}`).set(bearer(auditor)).expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.headers['content-security-policy']).toContain("default-src 'none'");
    const html = response.text;
    expect(html).not.toMatch(/<script|<link|src=/i);
    const agencies = html.slice(html.indexOf('Referrals by source agency'), html.indexOf('Referrals by risk level'));
    for (const [agency, count] of Object.entries(expected.referrals.byAgency)) {
      const shown = report.suppressed.includes(`referrals.byAgency.${agency}`) ? '&lt;5' : count.toLocaleString('en-GB');
      expect(agencies).toMatch(new RegExp(`>${agency}</text>(<rect[^>]*/>)?<text[^>]*>${shown}</text>`));
    }
  });

  it('refuses a missing or bad period with every problem listed, and callers who may not see it', async () => {
    const missing = await app.http().get('/v1/reports/performance').set(bearer(auditor)).expect(400);
    expect(missing.body.details).toEqual([{ field: 'from', problem: 'is required' }, { field: 'to', problem: 'is required' }]);
    const bad = await app.http().get('/v1/reports/performance.csv?from=2026-02-30&to=soon').set(bearer(auditor)).expect(400);
    expect(bad.body.details.map((detail: { field: string }) => detail.field)).toEqual(['from', 'to']);
    await app.http().get('/v1/reports/performance?from=2026-05-01&to=2026-04-01').set(bearer(auditor)).expect(400);
    await app.http().get(`/v1/reports/performance?from=${FROM}&to=${TO}&suppress=maybe`).set(bearer(auditor)).expect(400);
    await app.http().get('/v1/reports/performance.html?from=1990-01-01&to=2099-12-31').set(bearer(auditor)).expect(200);

    const admin = (await app.createPrincipal({ role: 'admin', name: 'Admin' })).token;
    const referrer = (await app.createPrincipal({ role: 'referrer', name: 'Police', agency: 'hampshire-police' })).token;
    const caseworker = (await app.createPrincipal({ role: 'caseworker', name: 'IDVA', provision: 'idva' })).token;
    // An admin, who has no case data, gets the shareable copy whatever it asks for.
    const forAdmin = await app.http().get(`/v1/reports/performance?from=${FROM}&to=${TO}&suppress=false`).set(bearer(admin)).expect(200);
    expect(forAdmin.body.suppression.applied).toBe(true);
    await app.http().get(`/v1/reports/performance?from=${FROM}&to=${TO}`).set(bearer(referrer)).expect(403);
    await app.http().get(`/v1/reports/performance.csv?from=${FROM}&to=${TO}`).set(bearer(caseworker)).expect(403);
    await app.http().get(`/v1/reports/performance.html?from=${FROM}&to=${TO}`).expect(401);
  });
});

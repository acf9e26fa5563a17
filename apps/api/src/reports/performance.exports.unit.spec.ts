import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parsePolicy, PROVISION_IDS, type RoutingPolicy } from '@spoc/domain';
import { buildPerformanceReport, reportPeriod } from './performance-report';
import { performanceCsv, performanceHtml } from './performance.exports';
import type { PeriodData } from './performance.query';

const policy: RoutingPolicy = parsePolicy(JSON.parse(readFileSync(path.resolve(__dirname, '../../../../policies/portsmouth-2026-1.json'), 'utf8')));
const cell = (agency: string, n: number, extra: Partial<PeriodData['referrals'][number]> = {}) => ({
  agency, referralType: 'victim', riskLevel: 'standard', status: 'routed', gender: 'female', repeat: 0, withChildren: 0, n, ...extra,
});

const data: PeriodData = {
  referrals: [cell('hampshire-police', 120), cell('gp-practices', 3), cell('schools', 9, { gender: 'male' })],
  routes: { 'victim-support': 132 },
  maracMeetings: [],
  encompass: { notifications: 0, sent: 0, sentOnTime: 0 },
  firstContact: Object.fromEntries(PROVISION_IDS.map((provision) => [provision, provision === 'victim-support'
    ? { cases: 132, overdue: 2, delaysMs: Array.from({ length: 132 }, (_, index) => (index + 1) * 3_600_000) }
    : { cases: 0, overdue: 0, delaysMs: [] }])),
  outcomes: {},
  refugeStays: [],
  refugeWaits: [],
};
const report = buildPerformanceReport(data, reportPeriod('2026-01-01', '2026-12-31', 'Europe/London'), policy, Date.parse('2027-02-01T00:00:00Z'));

describe('the CSV export', () => {
  const rows = performanceCsv(report).trim().split('\r\n').map((line) => line.split(','));
  const value = (figure: string) => rows.find((row) => row[3] === figure)?.[6];

  it('has one row per figure with the period on each', () => {
    expect(rows[0]).toEqual(['period_from', 'period_to', 'section', 'figure', 'label', 'unit', 'value']);
    expect(rows.length - 1).toBe(report.figures.length);
    expect(rows[1].slice(0, 2)).toEqual(['2026-01-01', '2026-12-31']);
  });

  it('always withholds small counts, and a second agency so the first cannot be found by subtraction', () => {
    expect(value('referrals.total')).toBe('132');
    expect(value('referrals.byAgency.gp-practices')).toBe('<5');
    expect(value('referrals.byAgency.schools')).toBe('<5');
    expect(value('referrals.byAgency.hampshire-police')).toBe('120');
    expect(value('firstContact.victim-support.overdue')).toBe('<5');
    expect(value('firstContact.victim-support.medianHours')).toBe('66.5');
    expect(value('referrals.byRiskLevel.high')).toBe('0');
  });
});

describe('the printable summary', () => {
  const html = performanceHtml(report, policy);

  it('is one self-contained page: no script, nothing fetched, a print stylesheet', () => {
    expect(html).not.toMatch(/<script|<link|src=|@import|url\(/i);
    expect(html).toContain('@page');
    expect(html).toContain('<svg');
  });

  it('shows withheld counts as <5 and draws no bar for them', () => {
    const agencyChart = html.slice(html.indexOf('Referrals by source agency'), html.indexOf('Referrals by risk level'));
    expect(agencyChart).toContain('gp-practices');
    expect(agencyChart.match(/<rect/g)).toHaveLength(1);
    expect(agencyChart).toContain('&lt;5');
    expect(html).not.toMatch(/>3</);
  });
});

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parsePolicy, type RoutingPolicy } from '@spoc/domain';
import { DEMAND, periodEnd, planReferrals } from './plan';

const policy: RoutingPolicy = parsePolicy(JSON.parse(readFileSync(path.resolve(__dirname, '../../policies/portsmouth-2026-1.json'), 'utf8')));
const year = planReferrals({ seed: 42, years: 1, scale: 1, from: '2025-01-01' }, policy).referrals;
const victims = year.filter((referral) => referral.body.referralType !== 'perpetrator');
const shareOf = <T>(items: T[], test: (item: T) => boolean) => items.filter(test).length / items.length;

describe('the demo year plan', () => {
  it('gives the same referrals for the same seed, and others for another', () => {
    const quarter = (seed: number) => planReferrals({ seed, years: 0.25, scale: 1, from: '2025-01-01' }, policy).referrals;
    expect(quarter(42)).toEqual(quarter(42));
    expect(quarter(43)).not.toEqual(quarter(42));
  });

  it('is shaped by the strategy: about 1,300 a year, police the most, 27% male victims, about 8% repeats', () => {
    expect(year.length).toBeGreaterThan(DEMAND.referralsPerYear * 0.9);
    expect(year.length).toBeLessThan(DEMAND.referralsPerYear * 1.1);
    expect(shareOf(year, (referral) => referral.agency === 'hampshire-police')).toBeGreaterThan(0.6);
    expect(shareOf(victims, (referral) => referral.body.subject.gender === 'male')).toBeCloseTo(DEMAND.maleVictimShare, 1);
    expect(shareOf(victims, (referral) => referral.expected.repeat)).toBeGreaterThan(0.05);
    expect(shareOf(victims, (referral) => referral.expected.repeat)).toBeLessThan(0.1);
    expect(shareOf(victims, (referral) => referral.expected.level === 'high')).toBeGreaterThan(0.15);
    expect(shareOf(victims, (referral) => referral.expected.level === 'high')).toBeLessThan(0.25);
    expect(shareOf(victims, (referral) => referral.expected.level === 'medium')).toBeCloseTo(0.3, 1);
    expect(year.some((referral) => referral.body.referralType === 'perpetrator')).toBe(true);
    expect(year.some((referral) => referral.body.referralType === 'child-to-parent')).toBe(true);
  });

  it('re-refers a repeat victim with the same name and date of birth, so the router can match them', () => {
    const repeat = victims.find((referral) => referral.expected.repeat)!;
    const first = victims.find((referral) => referral.expected.personKey === repeat.expected.personKey)!;
    expect(first).not.toBe(repeat);
    expect(repeat.body.subject).toMatchObject({ firstName: first.body.subject.firstName, lastName: first.body.subject.lastName, dateOfBirth: first.body.subject.dateOfBirth });
  });

  it('keeps office agencies to working days and every referral inside the period, in time order', () => {
    const last = Date.parse(`${periodEnd('2025-01-01', 1)}T23:59:59Z`);
    expect(year.every((referral, index) => index === 0 || referral.at >= year[index - 1].at)).toBe(true);
    expect(year[year.length - 1].at).toBeLessThan(last + 3_600_000);
    const weekend = year.filter((referral) => [0, 6].includes(new Date(referral.at).getUTCDay()) && new Date(referral.at).getUTCHours() >= 9 && new Date(referral.at).getUTCHours() < 16);
    expect(weekend.every((referral) => referral.agency === 'hampshire-police' || referral.agency === 'self-referral')).toBe(true);
  });

  it('ends a period of whole years the day before the anniversary', () => {
    expect(periodEnd('2025-01-01', 1)).toBe('2025-12-31');
    expect(periodEnd('2016-01-01', 10)).toBe('2025-12-31');
    expect(periodEnd('2026-03-01', 0.25)).toBe('2026-05-30');
  });
});

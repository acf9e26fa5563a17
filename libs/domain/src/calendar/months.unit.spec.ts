import { isWithinMonths } from './months';

const london = 'Europe/London';

describe('a window of calendar months', () => {
  it('given twelve months, then the same date a year before is inside and the day before it is not', () => {
    expect(isWithinMonths('2025-11-21T10:00:00Z', '2026-11-21T09:00:00Z', 12, london)).toBe(true);
    expect(isWithinMonths('2025-11-20T10:00:00Z', '2026-11-21T09:00:00Z', 12, london)).toBe(false);
  });

  it('counts by London dates', () => {
    expect(isWithinMonths('2025-06-20T23:30:00Z', '2026-06-21T09:00:00Z', 12, london)).toBe(true);
  });

  it('clamps a month-end the earlier month lacks', () => {
    expect(isWithinMonths('2026-02-28T12:00:00Z', '2026-05-31T12:00:00Z', 3, london)).toBe(true);
    expect(isWithinMonths('2026-02-27T12:00:00Z', '2026-05-31T12:00:00Z', 3, london)).toBe(false);
  });

  it('never counts something after the end', () => {
    expect(isWithinMonths('2026-11-22T10:00:00Z', '2026-11-21T09:00:00Z', 12, london)).toBe(false);
  });
});

import { median, nest, percentile, suppressedPaths, type Figure } from './report-figures';

const count = (path: string, value: number, partOf?: string): Figure => ({ path, section: 's', label: path, kind: 'count', value, ...(partOf ? { partOf } : {}) });

describe('small-number suppression', () => {
  it('withholds counts from 1 to 4, and shows zero and five', () => {
    const figures = [0, 1, 4, 5].map((value) => count(`n${value}`, value));
    expect(suppressedPaths(figures)).toEqual(['n1', 'n4']);
  });

  it('never withholds tallies that count no one (meetings, units)', () => {
    expect(suppressedPaths([{ path: 'marac.meetings', section: 's', label: 'm', kind: 'tally', value: 2 }])).toEqual([]);
  });

  it('withholds a second cell when one alone could be found by subtracting the others from the total', () => {
    const figures = [count('total', 40), count('total.a', 3, 'total'), count('total.b', 7, 'total'), count('total.c', 30, 'total'), count('total.d', 0, 'total')];
    expect(suppressedPaths(figures)).toEqual(['total.a', 'total.b']);
  });

  it('needs no second cell when two are already withheld', () => {
    const figures = [count('total', 40), count('total.a', 3, 'total'), count('total.b', 2, 'total'), count('total.c', 35, 'total')];
    expect(suppressedPaths(figures)).toEqual(['total.a', 'total.b']);
  });

  it('withholds shares and percentiles worked out from a withheld count', () => {
    const figures: Figure[] = [
      count('repeat', 3),
      count('victims', 1300),
      { path: 'rate', section: 's', label: 'r', kind: 'share', value: 0.0023, from: ['repeat', 'victims'] },
      count('contacted', 4),
      { path: 'median', section: 's', label: 'm', kind: 'hours', value: 5, from: ['contacted'] },
      { path: 'safe', section: 's', label: 'm', kind: 'share', value: 1, from: ['victims'] },
    ];
    expect(suppressedPaths(figures)).toEqual(['repeat', 'rate', 'contacted', 'median']);
  });
});

describe('report statistics', () => {
  it('takes the median as the middle value, or the mean of the two middle ones', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
  });

  it('takes the 90th percentile by nearest rank', () => {
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90)).toBe(10);
    expect(percentile([7], 90)).toBe(7);
    expect(percentile([], 90)).toBeNull();
  });
});

describe('the nested JSON', () => {
  it('shows real numbers, or the shareable placeholders when suppression applies', () => {
    const figures: Figure[] = [count('a.b', 3), count('a.c', 9), { path: 'a.rate', section: 's', label: 'r', kind: 'share', value: 0.25, from: ['a.b'] }];
    const suppressed = new Set(suppressedPaths(figures));
    expect(nest(figures, null)).toEqual({ a: { b: 3, c: 9, rate: 0.25 } });
    expect(nest(figures, suppressed)).toEqual({ a: { b: '<5', c: 9, rate: 'suppressed' } });
  });
});

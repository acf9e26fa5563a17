import { RateLimiter } from './rate-limit';

describe('the rate limiter', () => {
  it('lets a burst through, then one request per refill, and says when the next may come', () => {
    const limiter = new RateLimiter(2, 3);
    const at = 1_000_000;
    expect([0, 1, 2].map(() => limiter.take('token', at))).toEqual([null, null, null]);
    expect(limiter.take('token', at)).toBe(1);
    expect(limiter.take('token', at + 500)).toBeNull(); // half a second at 2/s refills one
    expect(limiter.take('token', at + 500)).toBe(1);
    expect(limiter.take('other', at)).toBeNull(); // each key its own bucket
  });

  it('is off at a rate of 0', () => {
    const limiter = new RateLimiter(0, 0);
    expect(Array.from({ length: 100 }, () => limiter.take('token'))).toEqual(Array(100).fill(null));
  });

  it('remembers a bounded number of callers, each take in constant time, and locks nobody out when time goes back', () => {
    const limiter = new RateLimiter(2, 3);
    const started = Date.now();
    for (let n = 0; n < 50_000; n += 1) limiter.take(`address:${n}`, 1000);
    expect(Date.now() - started).toBeLessThan(2000);
    expect((limiter as unknown as { buckets: Map<string, unknown> }).buckets.size).toBe(10_000);
    expect(limiter.take('token', 5000)).toBeNull();
    expect(limiter.take('token', 4000)).toBeNull(); // an earlier time: no refill, and no debt either
  });
});

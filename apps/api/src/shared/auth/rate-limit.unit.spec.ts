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
});

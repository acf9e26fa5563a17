/**
 * Token buckets, one per key (a principal, or a client's address before it has shown a valid token): each holds up
 * to `burst` requests and refills at `perSecond`. In memory and per process: a bound on a runaway or stolen token,
 * not an accounting of anyone. Buckets full again are forgotten, so the map holds only recent callers.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {}

  /** Null when the request may go ahead; otherwise how many seconds until it may. */
  take(key: string, now = Date.now()): number | null {
    if (this.perSecond <= 0) return null;
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    if (bucket.tokens < 1) {
      this.buckets.set(key, bucket);
      return Math.ceil((1 - bucket.tokens) / this.perSecond);
    }
    bucket.tokens -= 1;
    this.buckets.set(key, bucket);
    if (this.buckets.size > 10_000) this.forgetRested(now);
    return null;
  }

  private forgetRested(now: number): void {
    const refill = (this.burst / this.perSecond) * 1000;
    for (const [key, bucket] of this.buckets) if (now - bucket.at >= refill) this.buckets.delete(key);
  }
}

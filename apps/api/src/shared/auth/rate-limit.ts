import { performance } from 'node:perf_hooks';

/** Callers remembered at most: past it the one heard from longest ago is forgotten (its bucket starts full again). */
const MAX_BUCKETS = 10_000;

/**
 * Token buckets, one per key (a principal, or a client's address before it has shown a valid token): each holds up
 * to `burst` requests and refills at `perSecond`. In memory and per process: a bound on a runaway or stolen token,
 * not an accounting of anyone. Timed on the monotonic clock, so a step of the wall clock locks nobody out.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {}

  /** Null when the request may go ahead; otherwise how many seconds until it may. */
  take(key: string, now = performance.now()): number | null {
    if (this.perSecond <= 0) return null;
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    // Kept in the order callers were last heard from, so the oldest is the first to forget.
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    if (this.buckets.size > MAX_BUCKETS) this.buckets.delete(this.buckets.keys().next().value!);
    if (bucket.tokens < 1) return Math.ceil((1 - bucket.tokens) / this.perSecond);
    bucket.tokens -= 1;
    return null;
  }
}

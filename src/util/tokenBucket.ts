/**
 * Per-key token buckets: INVITE rate limiting per source address (SIP) and
 * failed-login limiting per client address (control API).
 */

export interface RateLimit {
  /** Sustained rate allowed for one key (e.g. INVITEs per second from one source address). */
  perSecond: number;
  /** Burst size (bucket capacity). */
  burst: number;
}

interface Bucket {
  tokens: number;
  updated: number;
}

export class TokenBucketLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private lastSweep: number;

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
    /** Most sources tracked; when full, refilled buckets are swept and, failing that, the oldest dropped. */
    private readonly maxSources = 100_000,
  ) {
    if (!(limit.perSecond > 0) || !(limit.burst >= 1)) throw new RangeError('rate limit needs perSecond > 0 and burst >= 1');
    this.lastSweep = now();
  }

  /** Take one token for the key; false when the bucket is empty. */
  take(key: string): boolean {
    const t = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      this.sweep(t);
      b = { tokens: this.limit.burst, updated: t };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.limit.burst, b.tokens + ((t - b.updated) / 1000) * this.limit.perSecond);
      b.updated = t;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /**
   * Give back one token taken by take() (up to the burst), e.g. when the
   * attempt it paid for turned out not to count. Unknown keys are ignored.
   */
  refund(key: string): void {
    const b = this.buckets.get(key);
    if (b) b.tokens = Math.min(this.limit.burst, b.tokens + 1);
  }

  /** Seconds until the key has a token again (for Retry-After), at least 1. */
  retryAfterSeconds(key: string): number {
    const b = this.buckets.get(key);
    if (!b) return 1;
    return Math.max(1, Math.ceil((1 - b.tokens) / this.limit.perSecond));
  }

  get size(): number {
    return this.buckets.size;
  }

  private sweep(t: number): void {
    const fullAfterMs = (this.limit.burst / this.limit.perSecond) * 1000;
    if (this.buckets.size < this.maxSources && t - this.lastSweep < Math.max(fullAfterMs, 10_000)) return;
    this.lastSweep = t;
    for (const [k, b] of this.buckets) {
      if (t - b.updated >= fullAfterMs) this.buckets.delete(k);
    }
    while (this.buckets.size >= this.maxSources) {
      const first = this.buckets.keys().next().value;
      if (first === undefined) break;
      this.buckets.delete(first);
    }
  }
}

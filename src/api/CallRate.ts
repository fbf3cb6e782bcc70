/**
 * Counts arriving calls: the total since start and the rate over the last
 * minute (calls per second), for /metrics. Counting is O(1); the window is
 * a ring of one-second buckets.
 */
const WINDOW_SECONDS = 60;

export class CallRate {
  private totalValue = 0;
  private readonly buckets = new Array<number>(WINDOW_SECONDS).fill(0);
  /** The second (since the epoch) that `buckets[second % WINDOW_SECONDS]` last counted. */
  private readonly bucketSecond = new Array<number>(WINDOW_SECONDS).fill(-1);

  constructor(private readonly now: () => number = Date.now) {}

  count(): void {
    this.totalValue++;
    const second = Math.floor(this.now() / 1000);
    const i = second % WINDOW_SECONDS;
    if (this.bucketSecond[i] !== second) {
      this.bucketSecond[i] = second;
      this.buckets[i] = 0;
    }
    this.buckets[i]!++;
  }

  get total(): number {
    return this.totalValue;
  }

  /** Calls per second averaged over the last minute. */
  perSecond(): number {
    const second = Math.floor(this.now() / 1000);
    let sum = 0;
    for (let i = 0; i < WINDOW_SECONDS; i++) {
      if (second - this.bucketSecond[i]! < WINDOW_SECONDS) sum += this.buckets[i]!;
    }
    return sum / WINDOW_SECONDS;
  }
}

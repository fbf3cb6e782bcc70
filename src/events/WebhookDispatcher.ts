/**
 * Webhooks: every event a subscriber may see is POSTed, as the same JSON
 * the WebSocket feed sends, to the subscriber's callback URL (seed 004
 * `callback.url`). Each post is signed with the subscriber's secret:
 *
 *   X-Bridge-Timestamp: <unix seconds>
 *   X-Bridge-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>
 *
 * Delivery is one post at a time per subscriber, in event order. A network
 * failure, a timeout, 429 or 5xx is retried with exponential backoff; any
 * other 4xx gives the event up. Each subscriber's queue is bounded: when it
 * is full the oldest waiting event is dropped (and counted), so a dead
 * receiver costs memory up to the bound and never holds up calls or media.
 * Before each post the callback's host is resolved and checked against the
 * `CallbackUrlPolicy`; the post connects to the address checked, and an
 * event whose callback resolves to a refused address is logged and dropped.
 */
import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Logger } from '../log.js';
import { CallbackUrlPolicy } from './CallbackUrlPolicy.js';
import type { BridgeEvent, EventListener, EventScope } from './EventFeed.js';

export interface WebhookTarget {
  sid: string;
  /** Users get only the events of rooms they own. */
  role: 'administrator' | 'operator' | 'user';
  url: string;
  secret: string;
}

export interface WebhookOptions {
  feed: { subscribe(listener: EventListener): () => void };
  /** The subscribers with a callback, read again at most every `targetsTtlMs`. */
  targets: () => WebhookTarget[];
  logger: Logger;
  /** Events waiting per subscriber before the oldest is dropped. Default 1000. */
  maxQueue?: number;
  /** Attempts per event, the first included. Default 8. */
  maxAttempts?: number;
  /** First retry delay; doubled each attempt up to `maxDelayMs`. Defaults 1 s and 60 s. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Per post. Default 5 s. */
  timeoutMs?: number;
  /** How long the target list is reused, so callback changes apply within this. Default 1 s. */
  targetsTtlMs?: number;
  /** Where posts may go; by default no loopback, private, link-local or other internal address. */
  policy?: CallbackUrlPolicy;
}

export interface WebhookStats {
  delivered: number;
  /** Posts that failed and were retried or given up. */
  failedAttempts: number;
  /** Events given up after the last attempt or a non-retryable answer. */
  givenUp: number;
  /** Events dropped because a subscriber's queue was full. */
  dropped: number;
  /** Events dropped because the callback resolved to an address the policy refuses. */
  refused: number;
  queued: number;
}

interface Queue {
  target: WebhookTarget;
  items: Array<{ seq: number; event: string; body: string }>;
  busy: boolean;
  attempt: number;
  timer: NodeJS.Timeout | undefined;
}

export const SIGNATURE_HEADER = 'x-bridge-signature';
export const TIMESTAMP_HEADER = 'x-bridge-timestamp';

/** The signature a receiver recomputes to check a post. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export class WebhookDispatcher {
  private readonly queues = new Map<string, Queue>();
  private readonly unsubscribe: () => void;
  private cachedTargets: WebhookTarget[] = [];
  private targetsReadAt = -Infinity;
  private closed = false;
  private readonly counts = { delivered: 0, failedAttempts: 0, givenUp: 0, dropped: 0, refused: 0 };
  private readonly policy: CallbackUrlPolicy;
  private readonly maxQueue: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly timeoutMs: number;
  private readonly targetsTtlMs: number;

  constructor(private readonly options: WebhookOptions) {
    this.maxQueue = Math.max(1, options.maxQueue ?? 1000);
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 8);
    this.baseDelayMs = options.baseDelayMs ?? 1000;
    this.maxDelayMs = options.maxDelayMs ?? 60_000;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.targetsTtlMs = options.targetsTtlMs ?? 1000;
    this.policy = options.policy ?? new CallbackUrlPolicy();
    this.unsubscribe = options.feed.subscribe((event, scope) => this.enqueue(event, scope));
  }

  stats(): WebhookStats {
    let queued = 0;
    for (const q of this.queues.values()) queued += q.items.length;
    return { ...this.counts, queued };
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    for (const q of this.queues.values()) clearTimeout(q.timer);
    this.queues.clear();
  }

  private targets(): WebhookTarget[] {
    const now = Date.now();
    if (now - this.targetsReadAt >= this.targetsTtlMs) {
      this.cachedTargets = this.options.targets();
      this.targetsReadAt = now;
    }
    return this.cachedTargets;
  }

  private enqueue(event: BridgeEvent, scope: EventScope): void {
    let body: string | undefined;
    for (const target of this.targets()) {
      if (target.role === 'user' && scope.subscriberSid !== target.sid) continue;
      const key = `${target.sid} ${target.url}`;
      let queue = this.queues.get(key);
      if (!queue) {
        queue = { target, items: [], busy: false, attempt: 0, timer: undefined };
        this.queues.set(key, queue);
      }
      // A changed secret applies to the next post.
      queue.target = target;
      body ??= JSON.stringify(event);
      queue.items.push({ seq: event.seq, event: event.event, body });
      if (queue.items.length > this.maxQueue) {
        // Never the head while it is in flight: the post under way must finish as it began.
        const dropAt = queue.busy || queue.timer ? 1 : 0;
        const [lost] = queue.items.splice(dropAt, 1);
        this.counts.dropped++;
        this.options.logger.warn({ sid: target.sid, seq: lost?.seq, queued: queue.items.length }, 'webhook queue full, oldest event dropped');
      }
      this.pump(key, queue);
    }
  }

  private pump(key: string, queue: Queue): void {
    if (queue.busy || queue.timer || this.closed) return;
    const item = queue.items[0];
    if (!item) {
      this.queues.delete(key);
      return;
    }
    // A callback removed or moved meanwhile gets nothing more; a new secret applies from the next post.
    const target = this.targets().find((t) => `${t.sid} ${t.url}` === key);
    if (!target) {
      this.counts.dropped += queue.items.length;
      this.options.logger.info({ sid: queue.target.sid, dropped: queue.items.length }, 'webhook callback gone, its queue dropped');
      this.queues.delete(key);
      return;
    }
    queue.target = target;
    queue.busy = true;
    this.post(target, item.body)
      .then((status) => {
        if (status >= 200 && status < 300) return 'done';
        if (status === 429 || status >= 500) return `status ${status}`;
        return 'give up';
      })
      .catch((err: Error) => (err instanceof CallbackRefused ? err : `error ${err.message}`))
      .then((outcome) => {
        queue.busy = false;
        if (this.closed) return;
        if (outcome instanceof CallbackRefused) {
          // Retrying would ask the same name again; the event is not sent anywhere.
          this.counts.refused++;
          this.options.logger.warn({ sid: target.sid, seq: item.seq, event: item.event, reason: outcome.message }, 'webhook callback address refused, event dropped');
          queue.items.shift();
          queue.attempt = 0;
          this.pump(key, queue);
          return;
        }
        if (outcome === 'done') {
          this.counts.delivered++;
          queue.items.shift();
          queue.attempt = 0;
          this.pump(key, queue);
          return;
        }
        this.counts.failedAttempts++;
        queue.attempt++;
        if (outcome === 'give up' || queue.attempt >= this.maxAttempts) {
          this.counts.givenUp++;
          this.options.logger.warn({ sid: target.sid, seq: item.seq, event: item.event, attempts: queue.attempt, outcome }, 'webhook given up');
          queue.items.shift();
          queue.attempt = 0;
          this.pump(key, queue);
          return;
        }
        const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (queue.attempt - 1));
        this.options.logger.info({ sid: target.sid, seq: item.seq, attempt: queue.attempt, delayMs: delay, outcome }, 'webhook failed, will retry');
        queue.timer = setTimeout(() => {
          queue.timer = undefined;
          this.pump(key, queue);
        }, delay);
        queue.timer.unref();
      });
  }

  private async post(target: WebhookTarget, body: string): Promise<number> {
    const url = new URL(target.url);
    // A name whose DNS never answers must cost one attempt, not hold the queue.
    const checked = await withTimeout(this.policy.resolve(url), this.timeoutMs, `resolving ${url.hostname} took longer than ${this.timeoutMs} ms`);
    if (!checked.ok) throw new CallbackRefused(checked.reason);
    // The connection goes to the address just checked, never to a second answer for the name.
    const pinned: LookupFunction = (_host, options, callback) => {
      if (options.all) callback(null, [{ address: checked.address, family: checked.family }]);
      else callback(null, checked.address, checked.family);
    };
    const timestamp = String(Math.floor(Date.now() / 1000));
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        url,
        {
          method: 'POST',
          lookup: pinned,
          timeout: this.timeoutMs,
          headers: {
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(body),
            'User-Agent': 'conference-bridge-webhooks',
            [TIMESTAMP_HEADER]: timestamp,
            [SIGNATURE_HEADER]: webhookSignature(target.secret, timestamp, body),
          },
        },
        (res) => {
          // The answer's body is not used; read it so the socket is freed.
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}

/** The callback's host resolved to an address the policy refuses. */
class CallbackRefused extends Error {
  override name = 'CallbackRefused';
}

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
    timer.unref();
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/**
 * HTTP Basic authentication against the store's subscribers, and the
 * administrator bootstrap from ADMIN_LOGIN / ADMIN_PASSWORD.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../log.js';
import type { ConferenceStore } from '../store/StoreTypes.js';
import { ApiError, detail, unauthorized } from './errors.js';
import { hashPassword, verifyPassword } from './passwords.js';
import type { Principal } from './router.js';
import { TokenBucketLimiter, type RateLimit } from '../util/tokenBucket.js';

export const DEFAULT_ADMIN_LOGIN = 'admin';

export interface AdminBootstrapResult {
  /** Whether at least one administrator can log in, so the API can serve. */
  ready: boolean;
  /** Why the API refuses requests, when it does. */
  reason?: string;
}

/**
 * Makes sure the administrator named by ADMIN_LOGIN (default `admin`) exists
 * with ADMIN_PASSWORD: created on first start, its password replaced when the
 * variable changed. There is no built-in password: without ADMIN_PASSWORD and
 * without any administrator already in the store, the API refuses to serve.
 */
export async function bootstrapAdministrator(
  store: ConferenceStore,
  env: NodeJS.ProcessEnv,
  logger: Logger,
): Promise<AdminBootstrapResult> {
  const login = env.ADMIN_LOGIN?.trim() || DEFAULT_ADMIN_LOGIN;
  const password = env.ADMIN_PASSWORD;
  if (password === undefined || password === '') {
    const administrators = store.listSubscribers().filter((s) => s.role === 'administrator');
    if (administrators.length > 0) {
      logger.info({ administrators: administrators.length }, 'ADMIN_PASSWORD not set; API uses the administrators already in the store');
      return { ready: true };
    }
    const reason = 'no administrator is configured: set ADMIN_PASSWORD (and optionally ADMIN_LOGIN) and restart the server';
    logger.warn(`control API disabled: ${reason}`);
    return { ready: false, reason };
  }
  if (password.length < 8) {
    const reason = 'ADMIN_PASSWORD is shorter than 8 characters; choose a longer one and restart the server';
    logger.warn(`control API disabled: ${reason}`);
    return { ready: false, reason };
  }
  const existing = store.findSubscriberByLogin(login);
  if (!existing) {
    store.createSubscriber({ login, passwordHash: await hashPassword(password), role: 'administrator', firstName: 'Administrator' });
    logger.info({ login }, 'administrator created from ADMIN_PASSWORD');
  } else if (!(await verifyPassword(password, existing.passwordHash)) || existing.role !== 'administrator') {
    store.updateSubscriber(existing.sid, { passwordHash: await hashPassword(password), role: 'administrator' });
    logger.info({ login }, 'administrator password updated from ADMIN_PASSWORD');
  }
  return { ready: true };
}

interface CacheEntry {
  passwordHash: string;
  expires: number;
}

export interface AuthenticatorOptions {
  /**
   * Failed logins allowed per client address: a burst, then a sustained
   * rate. Once spent, every login attempt from that address (right or wrong
   * password) gets 429 with Retry-After until the bucket refills, without
   * any password check. Default 10, then one per 5 s.
   */
  failedLogins?: RateLimit;
  /** Password checks (scrypt) running at once, over all clients (default 4, the libuv pool size). */
  maxConcurrentChecks?: number;
  /** Password checks allowed to wait for a slot; beyond that the request gets 503 (default 64). */
  maxQueuedChecks?: number;
  /** Successful logins remembered (default 1000); the oldest is dropped when full. */
  cacheSize?: number;
  /** How long a successful login is remembered, in ms (default 60 000). */
  cacheTtlMs?: number;
  now?: () => number;
  /** The password check (scrypt); replaceable for tests. */
  verifyPassword?: (password: string, stored: string) => Promise<boolean>;
}

/**
 * Checks Basic credentials. scrypt is deliberately slow, so a successful
 * check is remembered for a minute, keyed by a digest of the credentials and
 * tied to the stored hash (a password change invalidates it at once).
 *
 * Against password guessing and CPU exhaustion: each client address (the TCP
 * peer; X-Forwarded-For is not trusted) has a token bucket of failed logins.
 * A token is taken before the credentials are checked and given back when
 * they are right, so concurrent guesses cannot overrun the bucket; when it is
 * empty the request is refused with 429 before any hashing. Successful
 * credentials do not bypass an empty bucket (not even remembered ones, or
 * the cache would be a fast password oracle). All password checks share a
 * small pool of slots, with a bounded wait queue (503 beyond it).
 */
export class Authenticator {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly failures: TokenBucketLimiter;
  private readonly maxConcurrent: number;
  private readonly maxQueued: number;
  private readonly cacheSize: number;
  private readonly cacheTtlMs: number;
  private readonly now: () => number;
  private readonly check: (password: string, stored: string) => Promise<boolean>;
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  /** Password checks (scrypt runs) started so far. */
  checksRun = 0;

  constructor(
    private readonly store: ConferenceStore,
    options: AuthenticatorOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.failures = new TokenBucketLimiter(options.failedLogins ?? { perSecond: 0.2, burst: 10 }, this.now, 50_000);
    this.maxConcurrent = Math.max(1, options.maxConcurrentChecks ?? 4);
    this.maxQueued = Math.max(0, options.maxQueuedChecks ?? 64);
    this.cacheSize = Math.max(1, options.cacheSize ?? 1000);
    this.cacheTtlMs = options.cacheTtlMs ?? 60_000;
    this.check = options.verifyPassword ?? verifyPassword;
  }

  async authenticate(request: IncomingMessage): Promise<Principal> {
    const header = request.headers.authorization;
    if (!header) throw unauthorized('authentication required');
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (!match) throw unauthorized('only HTTP Basic authentication is supported');
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw unauthorized('malformed Basic credentials');
    const login = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const client = request.socket?.remoteAddress ?? 'unknown';
    if (!this.failures.take(client)) throw tooManyFailedLogins(this.failures.retryAfterSeconds(client));
    try {
      const principal = await this.checkCredentials(login, password);
      this.failures.refund(client);
      return principal;
    } catch (err) {
      // Only wrong credentials spend the client's budget (a 503 from a full queue is not its failure).
      if (!(err instanceof ApiError && err.status === 401)) this.failures.refund(client);
      throw err;
    }
  }

  private async checkCredentials(login: string, password: string): Promise<Principal> {
    const subscriber = this.store.findSubscriberByLogin(login);
    if (!subscriber) {
      // Spend the same time as a real check, so logins cannot be probed by timing.
      await this.limited(() => this.check(password, DUMMY_HASH));
      throw unauthorized('bad credentials');
    }
    const key = createHash('sha256').update(`${subscriber.sid}\u0000${password}`).digest('base64');
    const cached = this.cache.get(key);
    const now = this.now();
    if (!(cached && cached.passwordHash === subscriber.passwordHash && cached.expires > now)) {
      if (!(await this.limited(() => this.check(password, subscriber.passwordHash)))) throw unauthorized('bad credentials');
      this.cache.delete(key);
      while (this.cache.size >= this.cacheSize) {
        const oldest = this.cache.keys().next().value;
        if (oldest === undefined) break;
        this.cache.delete(oldest);
      }
      this.cache.set(key, { passwordHash: subscriber.passwordHash, expires: now + this.cacheTtlMs });
    }
    return { sid: subscriber.sid, login: subscriber.login, role: subscriber.role };
  }

  /** Run a password check in one of the shared slots, waiting for one if need be (503 when the queue is full). */
  private async limited<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.maxConcurrent) {
      if (this.waiting.length >= this.maxQueued) throw authBusy();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    // Here we hold a slot (handed over directly by the releasing check when we waited).
    try {
      this.checksRun++;
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

export function tooManyFailedLogins(retryAfterSeconds: number): ApiError {
  return new ApiError(
    429,
    'too many requests',
    [detail('cause', `too many failed logins from this address; retry after ${retryAfterSeconds} s`)],
    { 'Retry-After': String(retryAfterSeconds) },
  );
}

function authBusy(): ApiError {
  return new ApiError(503, 'service unavailable', [detail('cause', 'too many logins being checked; retry shortly')], { 'Retry-After': '1' });
}

// A hash of a random password, only used to equalize timing.
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyMTI=';

export function apiDisabled(reason: string): ApiError {
  return new ApiError(503, 'control API disabled', [detail('cause', reason)]);
}

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

/**
 * Checks Basic credentials. scrypt is deliberately slow, so a successful
 * check is remembered for a minute, keyed by a digest of the credentials and
 * tied to the stored hash (a password change invalidates it at once).
 */
export class Authenticator {
  private readonly cache = new Map<string, CacheEntry>();

  constructor(private readonly store: ConferenceStore) {}

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
    const subscriber = this.store.findSubscriberByLogin(login);
    if (!subscriber) {
      // Spend the same time as a real check, so logins cannot be probed by timing.
      await verifyPassword(password, DUMMY_HASH);
      throw unauthorized('bad credentials');
    }
    const key = createHash('sha256').update(`${subscriber.sid}\u0000${password}`).digest('base64');
    const cached = this.cache.get(key);
    const now = Date.now();
    if (!(cached && cached.passwordHash === subscriber.passwordHash && cached.expires > now)) {
      if (!(await verifyPassword(password, subscriber.passwordHash))) throw unauthorized('bad credentials');
      if (this.cache.size > 1000) this.cache.clear();
      this.cache.set(key, { passwordHash: subscriber.passwordHash, expires: now + 60_000 });
    }
    return { sid: subscriber.sid, login: subscriber.login, role: subscriber.role };
  }
}

// A hash of a random password, only used to equalize timing.
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyMTI=';

export function apiDisabled(reason: string): ApiError {
  return new ApiError(503, 'control API disabled', [detail('cause', reason)]);
}

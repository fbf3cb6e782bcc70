/**
 * Basic authentication limits: failed logins per client address (429 with
 * Retry-After before any password check), the shared cap on concurrent
 * password checks (503 beyond the queue) and the bounded success cache.
 */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { Authenticator, type AuthenticatorOptions } from '../../../src/api/auth.js';
import { ApiError } from '../../../src/api/errors.js';
import { hashPassword } from '../../../src/api/passwords.js';
import type { ConferenceStore, Subscriber } from '../../../src/store/StoreTypes.js';

const PASSWORD = 'right password';
const HASH = await hashPassword(PASSWORD);

function subscriber(login: string, sid = `sid-${login}`): Subscriber {
  return {
    sid, login, passwordHash: HASH, role: 'administrator', firstName: '', lastName: '', email: '', phoneNumber: '', details: '', parentSid: null, created: 0,
  } as Subscriber;
}

function storeWith(...subs: Subscriber[]): ConferenceStore {
  return { findSubscriberByLogin: (login: string) => subs.find((s) => s.login === login) } as unknown as ConferenceStore;
}

function request(login: string, password: string, ip = '192.0.2.1'): IncomingMessage {
  return {
    headers: { authorization: `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}` },
    socket: { remoteAddress: ip },
  } as unknown as IncomingMessage;
}

async function status(p: Promise<unknown>): Promise<ApiError | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
}

/** An Authenticator whose password checks are counted (and plain string comparisons, for speed). */
function counted(options: AuthenticatorOptions = {}, ...subs: Subscriber[]): { auth: Authenticator; checks: () => number } {
  let n = 0;
  const auth = new Authenticator(storeWith(...(subs.length ? subs : [subscriber('admin')])), {
    verifyPassword: async (password, stored) => {
      n++;
      return stored === HASH && password === PASSWORD;
    },
    ...options,
  });
  return { auth, checks: () => n };
}

describe('failed logins per client address', () => {
  it('after the burst of bad logins, the next gets 429 with Retry-After in the 004 shape, without a password check', async () => {
    let now = 0;
    const { auth, checks } = counted({ failedLogins: { perSecond: 0.5, burst: 3 }, now: () => now });
    for (let i = 0; i < 3; i++) expect(await status(auth.authenticate(request('admin', `guess ${i}`)))).toMatchObject({ status: 401 });
    // Unknown logins count as failures too (and still run the dummy check).
    expect(checks()).toBe(3);
    const refused = await status(auth.authenticate(request('nobody', 'x')));
    expect(refused).toBeInstanceOf(ApiError);
    const e = refused as ApiError;
    expect(e.status).toBe(429);
    expect(e.headers['Retry-After']).toBe('2');
    expect(e.body).toEqual({ message: 'too many requests', errors: [{ field: 'cause', message: expect.stringMatching(/too many failed logins/), reference_sid: null }] });
    expect(checks()).toBe(3);
    // Another client is not affected.
    expect(await status(auth.authenticate(request('admin', PASSWORD, '192.0.2.2')))).toBe('ok');
    expect(checks()).toBe(4);
  });

  it('a right password from a locked-out address is refused too (even when remembered) until the bucket refills', async () => {
    let now = 0;
    const { auth, checks } = counted({ failedLogins: { perSecond: 0.5, burst: 2 }, now: () => now });
    // Remembered success.
    expect(await status(auth.authenticate(request('admin', PASSWORD)))).toBe('ok');
    for (let i = 0; i < 2; i++) expect(await status(auth.authenticate(request('admin', `guess ${i}`)))).toMatchObject({ status: 401 });
    const before = checks();
    expect(await status(auth.authenticate(request('admin', PASSWORD)))).toMatchObject({ status: 429 });
    expect(checks()).toBe(before);
    now += 2000; // one token back
    expect(await status(auth.authenticate(request('admin', PASSWORD)))).toBe('ok');
    // A success gives its token back: the client may log in again at once.
    expect(await status(auth.authenticate(request('admin', PASSWORD)))).toBe('ok');
  });

  it('successful logins do not spend the budget', async () => {
    const { auth } = counted({ failedLogins: { perSecond: 0.01, burst: 2 } });
    for (let i = 0; i < 20; i++) expect(await status(auth.authenticate(request('admin', PASSWORD)))).toBe('ok');
    expect(await status(auth.authenticate(request('admin', 'bad')))).toMatchObject({ status: 401 });
  });

  it('concurrent guesses cannot overrun the bucket', async () => {
    const { auth, checks } = counted({ failedLogins: { perSecond: 0.01, burst: 5 } });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => status(auth.authenticate(request('admin', `guess ${i}`)))));
    expect(results.filter((r) => r !== 'ok' && r.status === 401)).toHaveLength(5);
    expect(results.filter((r) => r !== 'ok' && r.status === 429)).toHaveLength(45);
    expect(checks()).toBe(5);
  });

  it('requests without credentials are not counted', async () => {
    const { auth } = counted({ failedLogins: { perSecond: 0.01, burst: 1 } });
    const bare = { headers: {}, socket: { remoteAddress: '192.0.2.1' } } as unknown as IncomingMessage;
    for (let i = 0; i < 5; i++) expect(await status(auth.authenticate(bare))).toMatchObject({ status: 401 });
    expect(await status(auth.authenticate(request('admin', PASSWORD)))).toBe('ok');
  });
});

describe('password checks', () => {
  it('run at most maxConcurrentChecks at once; beyond the queue the request gets 503', async () => {
    let running = 0;
    let peak = 0;
    const release: Array<() => void> = [];
    const auth = new Authenticator(storeWith(subscriber('admin')), {
      maxConcurrentChecks: 2,
      maxQueuedChecks: 3,
      failedLogins: { perSecond: 1, burst: 100 },
      verifyPassword: async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((resolve) => release.push(resolve));
        running--;
        return false;
      },
    });
    const pending = Array.from({ length: 5 }, (_, i) => status(auth.authenticate(request('admin', `p${i}`, `198.51.100.${i}`))));
    const busy = await status(auth.authenticate(request('admin', 'one too many', '198.51.100.9')));
    expect(busy).toMatchObject({ status: 503 });
    expect((busy as ApiError).headers['Retry-After']).toBe('1');
    expect(running).toBe(2);
    while (release.length > 0 || running > 0) {
      release.splice(0).forEach((r) => r());
      await new Promise((r) => setTimeout(r, 1));
    }
    const results = await Promise.all(pending);
    expect(results.every((r) => r !== 'ok' && r.status === 401)).toBe(true);
    expect(peak).toBe(2);
    expect(auth.checksRun).toBe(5);
  });

  it('the real scrypt check is used by default, and successes are remembered', async () => {
    const auth = new Authenticator(storeWith(subscriber('admin')));
    expect(await status(auth.authenticate(request('admin', PASSWORD)))).toBe('ok');
    expect(await status(auth.authenticate(request('admin', PASSWORD)))).toBe('ok');
    expect(auth.checksRun).toBe(1);
    expect(await status(auth.authenticate(request('admin', 'wrong')))).toMatchObject({ status: 401 });
    expect(auth.checksRun).toBe(2);
  });

  it('the success cache drops its oldest entry when full, not everything', async () => {
    const subs = ['a', 'b', 'c'].map((l) => subscriber(l));
    const { auth, checks } = counted({ cacheSize: 2 }, ...subs);
    for (const l of ['a', 'b', 'c']) await auth.authenticate(request(l, PASSWORD));
    expect(checks()).toBe(3);
    await auth.authenticate(request('c', PASSWORD));
    await auth.authenticate(request('b', PASSWORD));
    expect(checks()).toBe(3); // b and c still remembered
    await auth.authenticate(request('a', PASSWORD));
    expect(checks()).toBe(4); // a was the oldest and went
  });
});

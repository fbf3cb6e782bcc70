/**
 * Digest authentication of incoming requests (RFC 2617 / RFC 7616 with
 * MD5 and qop=auth, RFC 3261 22.4).
 *
 * Nonces carry a timestamp, a random part and an HMAC of both under a
 * per-server secret, so issuing a challenge costs no memory and a nonce
 * older than `nonceTtlMs` is answered with stale=true. Once a nonce has been
 * used successfully, the highest nonce count (nc) seen for it is remembered
 * until the nonce expires, and a response whose nc is not above it is a
 * replay (answered with a fresh challenge). That table is bounded: when full,
 * the oldest entry is dropped, and nonces issued before the newest dropped
 * one are then treated as stale (the client re-authenticates with a fresh
 * nonce, without a password prompt) so eviction never re-opens a replay.
 *
 * Responses must use qop=auth (we always offer it, so RFC 2069 answers
 * without qop, which carry no nc, are refused), and their `uri` must equal
 * the Request-URI of the request they arrived on (compared as strings after
 * trimming, as RFC 7616 implementations do).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface DigestUser {
  realm: string;
  username: string;
  password: string;
}

export type DigestVerdict =
  | { ok: true }
  | {
      ok: false;
      why: 'missing' | 'malformed' | 'wrong-user' | 'wrong-realm' | 'bad-nonce' | 'bad-uri' | 'no-qop' | 'bad-response' | 'replay';
      stale?: false;
    }
  | { ok: false; why: 'stale'; stale: true };

export function md5(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

/** Parse the parameters of a `Digest a=b, c="d"` header value (case-insensitive names). */
export function parseDigestParams(value: string): Map<string, string> | undefined {
  const m = /^\s*Digest\s+(.*)$/is.exec(value);
  if (!m) return undefined;
  const params = new Map<string, string>();
  const re = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)/gy;
  const text = m[1]!;
  let match: RegExpExecArray | null;
  let consumed = 0;
  while ((match = re.exec(text)) !== null) {
    if (match[0].length === 0) break;
    params.set(match[1]!.toLowerCase(), match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : (match[3] ?? ''));
    consumed = re.lastIndex;
  }
  if (consumed < text.trim().length && text.slice(consumed).trim() !== '') return undefined;
  return params;
}

function safeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

export interface DigestVerifierOptions {
  /** Most nonces whose highest nc is remembered (default 50 000); the oldest is dropped when full. */
  maxTrackedNonces?: number;
}

interface NonceUse {
  /** Highest nc accepted for this nonce. */
  nc: number;
  /** When the nonce expires (its timestamp + TTL); the entry is useless after that. */
  expires: number;
  /** The nonce's timestamp. */
  issued: number;
}

export class DigestVerifier {
  private readonly secret: Buffer;
  private readonly maxTrackedNonces: number;
  /** nonce → highest nc seen (insertion order = first use). */
  private readonly used = new Map<string, NonceUse>();
  /** Timestamp of the newest nonce dropped from `used` to bound it; older untracked nonces are stale. */
  private evictedUpTo = -Infinity;

  constructor(
    private readonly nonceTtlMs = 300_000,
    private readonly now: () => number = Date.now,
    secret?: Buffer,
    options: DigestVerifierOptions = {},
  ) {
    this.secret = secret ?? randomBytes(32);
    this.maxTrackedNonces = Math.max(1, options.maxTrackedNonces ?? 50_000);
  }

  private mac(text: string): string {
    return createHmac('sha256', this.secret).update(text).digest('base64url').slice(0, 22);
  }

  newNonce(): string {
    const body = `${this.now().toString(16)}.${randomBytes(9).toString('base64url')}`;
    return `${body}.${this.mac(body)}`;
  }

  /** Nonces whose nc is being tracked (for tests and metrics). */
  get trackedNonces(): number {
    return this.used.size;
  }

  /** 'ok' with its timestamp, 'stale' (ours but too old) or 'bad' (not ours). */
  private checkNonce(nonce: string): { state: 'ok' | 'stale'; issued: number } | { state: 'bad' } {
    const m = /^([0-9a-f]{1,13})\.([A-Za-z0-9_-]{12})\.([A-Za-z0-9_-]{22})$/.exec(nonce);
    if (!m) return { state: 'bad' };
    if (!safeEqual(this.mac(`${m[1]}.${m[2]}`), m[3]!)) return { state: 'bad' };
    const issued = parseInt(m[1]!, 16);
    const age = this.now() - issued;
    if (age < -5_000 || age > this.nonceTtlMs) return { state: 'stale', issued };
    return { state: 'ok', issued };
  }

  /** The WWW-Authenticate header line of a 401 challenge. */
  challengeHeader(realm: string, stale = false): string {
    const r = realm.replace(/["\\]/g, '');
    return `WWW-Authenticate: Digest realm="${r}", nonce="${this.newNonce()}", algorithm=MD5, qop="auth"${stale ? ', stale=true' : ''}`;
  }

  /**
   * Check the Authorization header values of a request against one user.
   * The credentials for our realm are used; others are ignored.
   * `requestUri` is the Request-URI exactly as it appeared on the request
   * line; the response's `uri` parameter must equal it.
   * A success records the nonce count, so the same answer is refused later.
   */
  verify(authorizationValues: readonly string[], method: string, user: DigestUser, requestUri: string): DigestVerdict {
    let sawMalformed = false;
    let params: Map<string, string> | undefined;
    for (const value of authorizationValues) {
      const p = parseDigestParams(value);
      if (!p) {
        sawMalformed = true;
        continue;
      }
      if (p.get('realm') === user.realm) {
        params = p;
        break;
      }
      params ??= p;
    }
    if (!params) return { ok: false, why: sawMalformed ? 'malformed' : 'missing' };
    const username = params.get('username');
    const realm = params.get('realm');
    const nonce = params.get('nonce');
    const uri = params.get('uri');
    const response = params.get('response');
    const algorithm = params.get('algorithm');
    const qop = params.get('qop');
    if (!username || realm === undefined || !nonce || !uri || !response) return { ok: false, why: 'malformed' };
    if (algorithm !== undefined && algorithm.toUpperCase() !== 'MD5') return { ok: false, why: 'malformed' };
    if (realm !== user.realm) return { ok: false, why: 'wrong-realm' };
    if (!safeEqual(username, user.username)) return { ok: false, why: 'wrong-user' };
    const nonceState = this.checkNonce(nonce);
    if (nonceState.state === 'bad') return { ok: false, why: 'bad-nonce' };
    if (uri.trim() !== requestUri.trim()) return { ok: false, why: 'bad-uri' };
    // We always challenge with qop="auth"; an answer without qop has no nc and could be replayed.
    if (qop === undefined) return { ok: false, why: 'no-qop' };
    if (qop.toLowerCase() !== 'auth') return { ok: false, why: 'malformed' };
    const ncText = params.get('nc');
    const cnonce = params.get('cnonce');
    if (!ncText || !/^[0-9a-fA-F]{8}$/.test(ncText) || !cnonce) return { ok: false, why: 'malformed' };
    const nc = parseInt(ncText, 16);
    const ha1 = md5(`${user.username}:${user.realm}:${user.password}`);
    const ha2 = md5(`${method}:${uri}`);
    const expected = md5(`${ha1}:${nonce}:${ncText}:${cnonce}:auth:${ha2}`);
    if (!safeEqual(expected, response.toLowerCase())) return { ok: false, why: 'bad-response' };
    // A correct answer to an old nonce: ask again with stale=true, no new password prompt.
    if (nonceState.state === 'stale') return { ok: false, why: 'stale', stale: true };
    const t = this.now();
    this.expireUsed(t);
    const seen = this.used.get(nonce);
    if (seen) {
      if (nc <= seen.nc) return { ok: false, why: 'replay' };
      seen.nc = nc;
      return { ok: true };
    }
    // Its earlier uses may have been forgotten to bound the table: make the client fetch a fresh nonce.
    if (nonceState.issued <= this.evictedUpTo) return { ok: false, why: 'stale', stale: true };
    if (nc < 1) return { ok: false, why: 'malformed' };
    while (this.used.size >= this.maxTrackedNonces) {
      const [oldest, use] = this.used.entries().next().value as [string, NonceUse];
      this.used.delete(oldest);
      this.evictedUpTo = Math.max(this.evictedUpTo, use.issued);
    }
    this.used.set(nonce, { nc, expires: nonceState.issued + this.nonceTtlMs, issued: nonceState.issued });
    return { ok: true };
  }

  /** Drop entries of expired nonces (any such nonce is answered stale before the table is consulted). */
  private expireUsed(t: number): void {
    for (const [k, use] of this.used) {
      // Roughly in expiry order (first use soon after issue); stop at the first live one.
      if (use.expires >= t) break;
      this.used.delete(k);
    }
  }
}

/** Build an Authorization value for a challenge (client side; used by tests and tools). */
export function digestAuthorization(opts: {
  username: string;
  password: string;
  realm: string;
  nonce: string;
  method: string;
  uri: string;
  qop?: 'auth';
  cnonce?: string;
  nc?: string;
}): string {
  const ha1 = md5(`${opts.username}:${opts.realm}:${opts.password}`);
  const ha2 = md5(`${opts.method}:${opts.uri}`);
  if (opts.qop) {
    const nc = opts.nc ?? '00000001';
    const cnonce = opts.cnonce ?? randomBytes(8).toString('hex');
    const response = md5(`${ha1}:${opts.nonce}:${nc}:${cnonce}:auth:${ha2}`);
    return `Digest username="${opts.username}", realm="${opts.realm}", nonce="${opts.nonce}", uri="${opts.uri}", response="${response}", algorithm=MD5, qop=auth, nc=${nc}, cnonce="${cnonce}"`;
  }
  const response = md5(`${ha1}:${opts.nonce}:${ha2}`);
  return `Digest username="${opts.username}", realm="${opts.realm}", nonce="${opts.nonce}", uri="${opts.uri}", response="${response}", algorithm=MD5`;
}

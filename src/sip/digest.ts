/**
 * Digest authentication of incoming requests (RFC 2617 / RFC 7616 with
 * MD5 and qop=auth, RFC 3261 22.4). Nonces are stateless: a timestamp and
 * an HMAC of it under a per-server secret, so any number of challenges
 * costs no memory and a nonce older than `nonceTtlMs` is answered with
 * stale=true.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface DigestUser {
  realm: string;
  username: string;
  password: string;
}

export type DigestVerdict =
  | { ok: true }
  | { ok: false; why: 'missing' | 'malformed' | 'wrong-user' | 'wrong-realm' | 'bad-nonce' | 'bad-response'; stale?: false }
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

export class DigestVerifier {
  private readonly secret: Buffer;

  constructor(
    private readonly nonceTtlMs = 300_000,
    private readonly now: () => number = Date.now,
    secret?: Buffer,
  ) {
    this.secret = secret ?? randomBytes(32);
  }

  newNonce(): string {
    const ts = this.now().toString(16);
    const mac = createHmac('sha256', this.secret).update(ts).digest('base64url').slice(0, 22);
    return `${ts}.${mac}`;
  }

  /** 'ok', 'stale' (ours but too old) or 'bad' (not ours). */
  private checkNonce(nonce: string): 'ok' | 'stale' | 'bad' {
    const dot = nonce.indexOf('.');
    if (dot <= 0) return 'bad';
    const ts = nonce.slice(0, dot);
    if (!/^[0-9a-f]{1,13}$/.test(ts)) return 'bad';
    const mac = createHmac('sha256', this.secret).update(ts).digest('base64url').slice(0, 22);
    if (!safeEqual(mac, nonce.slice(dot + 1))) return 'bad';
    const age = this.now() - parseInt(ts, 16);
    if (age < -5_000 || age > this.nonceTtlMs) return 'stale';
    return 'ok';
  }

  /** The WWW-Authenticate header line of a 401 challenge. */
  challengeHeader(realm: string, stale = false): string {
    const r = realm.replace(/["\\]/g, '');
    return `WWW-Authenticate: Digest realm="${r}", nonce="${this.newNonce()}", algorithm=MD5, qop="auth"${stale ? ', stale=true' : ''}`;
  }

  /**
   * Check the Authorization header values of a request against one user.
   * The credentials for our realm are used; others are ignored.
   */
  verify(authorizationValues: readonly string[], method: string, user: DigestUser): DigestVerdict {
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
    if (nonceState === 'bad') return { ok: false, why: 'bad-nonce' };
    const ha1 = md5(`${user.username}:${user.realm}:${user.password}`);
    const ha2 = md5(`${method}:${uri}`);
    let expected: string;
    if (qop !== undefined) {
      if (qop.toLowerCase() !== 'auth') return { ok: false, why: 'malformed' };
      const nc = params.get('nc');
      const cnonce = params.get('cnonce');
      if (!nc || !/^[0-9a-fA-F]{8}$/.test(nc) || !cnonce) return { ok: false, why: 'malformed' };
      expected = md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
    } else {
      expected = md5(`${ha1}:${nonce}:${ha2}`);
    }
    if (!safeEqual(expected, response.toLowerCase())) return { ok: false, why: 'bad-response' };
    // A correct answer to an old nonce: ask again with stale=true, no new password prompt.
    if (nonceState === 'stale') return { ok: false, why: 'stale', stale: true };
    return { ok: true };
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

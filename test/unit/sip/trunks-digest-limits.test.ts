import { describe, expect, it } from 'vitest';
import { DigestVerifier, digestAuthorization, parseDigestParams } from '../../../src/sip/digest.js';
import { TokenBucketLimiter } from '../../../src/sip/limits.js';
import { failureCause } from '../../../src/sip/OutboundCall.js';
import { unsupportedExtensions } from '../../../src/sip/SipServer.js';
import { TrunkTable, formatForTrunk, normaliseE164, parseAddressSpec } from '../../../src/sip/trunks.js';

describe('trunk admission table', () => {
  const table = new TrunkTable([
    { name: 'carrier', inbound: { addresses: ['192.0.2.10', '198.51.100.0/24', '2001:db8::/32'] } },
    { name: 'local', inbound: { addresses: ['127.0.0.0/8'] } },
  ]);

  it('matches single addresses, CIDR blocks and IPv6, first trunk wins', () => {
    expect(table.match('192.0.2.10')?.name).toBe('carrier');
    expect(table.match('192.0.2.11')).toBeUndefined();
    expect(table.match('198.51.100.200')?.name).toBe('carrier');
    expect(table.match('2001:db8:1::5')?.name).toBe('carrier');
    expect(table.match('127.3.4.5')?.name).toBe('local');
    expect(table.match('::ffff:127.0.0.1')?.name).toBe('local');
    expect(table.match('10.0.0.1')).toBeUndefined();
    expect(table.match('not-an-ip')).toBeUndefined();
  });

  it('rejects bad address specs', () => {
    expect(parseAddressSpec('10.0.0.0/33')).toBeUndefined();
    expect(parseAddressSpec('10.0.0/8')).toBeUndefined();
    expect(parseAddressSpec('example.com')).toBeUndefined();
    expect(parseAddressSpec('10.0.0.0/8')).toEqual({ address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    expect(() => new TrunkTable([{ name: 'x', inbound: { addresses: ['nope'] } }])).toThrow(/trunk x/);
  });

  it('normalises numbers to E.164 with or without the plus', () => {
    expect(normaliseE164('+1 (555) 010-0')).toBe('+15550100');
    expect(normaliseE164('15550100')).toBe('+15550100');
    expect(normaliseE164('0044 20 7946 0000')).toBe('+442079460000');
    expect(normaliseE164('alice')).toBeUndefined();
    expect(formatForTrunk('+15550100', 'e164')).toBe('15550100');
    expect(formatForTrunk('15550100', 'e164-plus')).toBe('+15550100');
  });
});

describe('digest verification', () => {
  const user = { realm: 'bridge', username: 'carrier', password: 's3cret' };

  function nonceOf(header: string): string {
    return /nonce="([^"]+)"/.exec(header)![1]!;
  }

  it('accepts a correct qop=auth answer whose uri is the Request-URI', () => {
    const v = new DigestVerifier();
    const nonce = nonceOf(v.challengeHeader('bridge'));
    const a = digestAuthorization({ ...user, nonce, method: 'INVITE', uri: 'sip:1@127.0.0.1', qop: 'auth' });
    expect(v.verify([a], 'INVITE', user, 'sip:1@127.0.0.1')).toEqual({ ok: true });
    expect(v.trackedNonces).toBe(1);
  });

  it('refuses an answer without qop although qop="auth" was offered', () => {
    const v = new DigestVerifier();
    const nonce = nonceOf(v.challengeHeader('bridge'));
    const b = digestAuthorization({ ...user, nonce, method: 'INVITE', uri: 'sip:1@127.0.0.1' });
    expect(v.verify([b], 'INVITE', user, 'sip:1@127.0.0.1')).toMatchObject({ ok: false, why: 'no-qop' });
  });

  it('refuses a uri other than the Request-URI (compared as trimmed strings)', () => {
    const v = new DigestVerifier();
    const nonce = nonceOf(v.challengeHeader('bridge'));
    const a = digestAuthorization({ ...user, nonce, method: 'INVITE', uri: 'sip:1@127.0.0.1', qop: 'auth' });
    expect(v.verify([a], 'INVITE', user, 'sip:2@127.0.0.1')).toMatchObject({ ok: false, why: 'bad-uri' });
    expect(v.verify([a], 'INVITE', user, 'sip:1@127.0.0.1:5060')).toMatchObject({ ok: false, why: 'bad-uri' });
    expect(v.verify([a], 'INVITE', user, ' sip:1@127.0.0.1 ')).toEqual({ ok: true });
  });

  it('refuses a replayed nonce count and admits the next one', () => {
    const v = new DigestVerifier();
    const nonce = nonceOf(v.challengeHeader('bridge'));
    const uri = 'sip:1@h';
    const first = digestAuthorization({ ...user, nonce, method: 'INVITE', uri, qop: 'auth', nc: '00000001', cnonce: 'c1' });
    expect(v.verify([first], 'INVITE', user, uri)).toEqual({ ok: true });
    expect(v.verify([first], 'INVITE', user, uri)).toMatchObject({ ok: false, why: 'replay' });
    // Same nc, different cnonce: still a replay of the count.
    const sameNc = digestAuthorization({ ...user, nonce, method: 'INVITE', uri, qop: 'auth', nc: '00000001', cnonce: 'c2' });
    expect(v.verify([sameNc], 'INVITE', user, uri)).toMatchObject({ ok: false, why: 'replay' });
    const third = digestAuthorization({ ...user, nonce, method: 'INVITE', uri, qop: 'auth', nc: '00000003', cnonce: 'c3' });
    expect(v.verify([third], 'INVITE', user, uri)).toEqual({ ok: true });
    const second = digestAuthorization({ ...user, nonce, method: 'INVITE', uri, qop: 'auth', nc: '00000002', cnonce: 'c4' });
    expect(v.verify([second], 'INVITE', user, uri)).toMatchObject({ ok: false, why: 'replay' });
    // A wrong answer with a huge nc does not move the count.
    const forged = digestAuthorization({ ...user, password: 'x', nonce, method: 'INVITE', uri, qop: 'auth', nc: 'ffffffff' });
    expect(v.verify([forged], 'INVITE', user, uri)).toMatchObject({ ok: false, why: 'bad-response' });
    const fourth = digestAuthorization({ ...user, nonce, method: 'INVITE', uri, qop: 'auth', nc: '00000004' });
    expect(v.verify([fourth], 'INVITE', user, uri)).toEqual({ ok: true });
  });

  it('bounds the nonce table: the oldest entry goes, and its nonce (or older unused ones) is then stale, never replayable', () => {
    let now = 1_000_000;
    const v = new DigestVerifier(60_000, () => now, undefined, { maxTrackedNonces: 2 });
    const uri = 'sip:1@h';
    const unused = nonceOf(v.challengeHeader('bridge'));
    now += 1;
    const nonces = [0, 1, 2].map(() => {
      now += 1;
      return nonceOf(v.challengeHeader('bridge'));
    });
    const answers = nonces.map((nonce) => digestAuthorization({ ...user, nonce, method: 'INVITE', uri, qop: 'auth' }));
    for (const a of answers) expect(v.verify([a], 'INVITE', user, uri)).toEqual({ ok: true });
    expect(v.trackedNonces).toBe(2);
    expect(v.verify([answers[0]!], 'INVITE', user, uri)).toEqual({ ok: false, why: 'stale', stale: true });
    expect(v.verify([answers[1]!], 'INVITE', user, uri)).toMatchObject({ ok: false, why: 'replay' });
    const old = digestAuthorization({ ...user, nonce: unused, method: 'INVITE', uri, qop: 'auth' });
    expect(v.verify([old], 'INVITE', user, uri)).toEqual({ ok: false, why: 'stale', stale: true });
    // Entries go with their nonce's TTL.
    now += 61_000;
    const fresh = nonceOf(v.challengeHeader('bridge'));
    expect(v.verify([digestAuthorization({ ...user, nonce: fresh, method: 'INVITE', uri, qop: 'auth' })], 'INVITE', user, uri)).toEqual({ ok: true });
    expect(v.trackedNonces).toBe(1);
  });

  it('nonces issued in the same millisecond differ', () => {
    const v = new DigestVerifier(60_000, () => 5);
    expect(nonceOf(v.challengeHeader('bridge'))).not.toBe(nonceOf(v.challengeHeader('bridge')));
  });

  it('refuses wrong passwords, users, forged nonces and malformed headers', () => {
    const v = new DigestVerifier();
    const nonce = nonceOf(v.challengeHeader('bridge'));
    const wrong = digestAuthorization({ ...user, password: 'x', nonce, method: 'INVITE', uri: 'sip:1@h', qop: 'auth' });
    expect(v.verify([wrong], 'INVITE', user, 'sip:1@h')).toMatchObject({ ok: false, why: 'bad-response' });
    const other = digestAuthorization({ ...user, username: 'eve', nonce, method: 'INVITE', uri: 'sip:1@h', qop: 'auth' });
    expect(v.verify([other], 'INVITE', user, 'sip:1@h')).toMatchObject({ ok: false, why: 'wrong-user' });
    const forged = digestAuthorization({ ...user, nonce: 'ffff.abc', method: 'INVITE', uri: 'sip:1@h', qop: 'auth' });
    expect(v.verify([forged], 'INVITE', user, 'sip:1@h')).toMatchObject({ ok: false, why: 'bad-nonce' });
    const [ts, rnd, mac] = nonce.split('.');
    const tampered = digestAuthorization({ ...user, nonce: `${ts}.${rnd!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))}.${mac}`, method: 'INVITE', uri: 'sip:1@h', qop: 'auth' });
    expect(v.verify([tampered], 'INVITE', user, 'sip:1@h')).toMatchObject({ ok: false, why: 'bad-nonce' });
    expect(v.verify([], 'INVITE', user, 'sip:1@h')).toMatchObject({ ok: false, why: 'missing' });
    expect(v.verify(['Basic abc'], 'INVITE', user, 'sip:1@h')).toMatchObject({ ok: false, why: 'malformed' });
    expect(parseDigestParams('Digest a="b\\"c", d=e')).toEqual(new Map([['a', 'b"c'], ['d', 'e']]));
  });

  it('answers a correct response to an expired nonce with stale', () => {
    let now = 1_000_000;
    const v = new DigestVerifier(60_000, () => now);
    const nonce = nonceOf(v.challengeHeader('bridge'));
    now += 61_000;
    const a = digestAuthorization({ ...user, nonce, method: 'INVITE', uri: 'sip:1@h', qop: 'auth' });
    expect(v.verify([a], 'INVITE', user, 'sip:1@h')).toEqual({ ok: false, why: 'stale', stale: true });
    expect(v.challengeHeader('bridge', true)).toMatch(/stale=true/);
  });
});

describe('token bucket', () => {
  it('allows a burst, then the sustained rate, per key', () => {
    let now = 0;
    const l = new TokenBucketLimiter({ perSecond: 2, burst: 3 }, () => now);
    expect([l.take('a'), l.take('a'), l.take('a'), l.take('a')]).toEqual([true, true, true, false]);
    expect(l.take('b')).toBe(true);
    expect(l.retryAfterSeconds('a')).toBe(1);
    now += 500;
    expect([l.take('a'), l.take('a')]).toEqual([true, false]);
    l.refund('a');
    expect([l.take('a'), l.take('a')]).toEqual([true, false]);
    l.refund('unknown');
    expect(l.size).toBe(2);
  });

  it('forgets idle sources so the table stays bounded', () => {
    let now = 0;
    const l = new TokenBucketLimiter({ perSecond: 10, burst: 10 }, () => now, 100);
    for (let i = 0; i < 500; i++) l.take(`s${i}`);
    expect(l.size).toBeLessThanOrEqual(100);
    now += 60_000;
    l.take('late');
    expect(l.size).toBe(1);
  });
});

describe('small helpers', () => {
  it('lists unsupported Require option tags (timer and 100rel are supported)', () => {
    expect(unsupportedExtensions(['100rel, Timer', 'foo'])).toEqual(['foo']);
    expect(unsupportedExtensions([])).toEqual([]);
  });

  it('maps final responses to failure causes', () => {
    expect(failureCause(486)).toBe('busy');
    expect(failureCause(600)).toBe('busy');
    expect(failureCause(480)).toBe('no-answer');
    expect(failureCause(302)).toBe('redirected');
    expect(failureCause(404)).toBe('rejected');
    expect(failureCause(603)).toBe('rejected');
    expect(failureCause(503)).toBe('unavailable');
    expect(failureCause(408, true)).toBe('unavailable');
  });
});

/**
 * Which callback addresses the bridge refuses: loopback, private,
 * link-local (metadata), shared, multicast and reserved ranges in IPv4 and
 * IPv6 (mapped and NAT64 forms judged by their IPv4 address), unless the
 * operator allowed the network; literal hosts at storing time, names after
 * resolution, every address of a name checked.
 */
import { describe, expect, it } from 'vitest';
import { CallbackUrlPolicy } from '../../../src/events/CallbackUrlPolicy.js';

const strict = new CallbackUrlPolicy({ lookup: async () => [] });

describe('CallbackUrlPolicy', () => {
  it.each([
    ['127.0.0.1', /loopback/],
    ['127.8.9.10', /loopback/],
    ['10.0.0.1', /private/],
    ['172.16.0.1', /private/],
    ['172.31.255.255', /private/],
    ['192.168.1.1', /private/],
    ['169.254.169.254', /link-local .*metadata/],
    ['100.100.100.200', /shared/],
    ['0.0.0.0', /unspecified/],
    ['224.0.0.1', /multicast/],
    ['255.255.255.255', /reserved/],
    ['::1', /loopback/],
    ['::', /unspecified/],
    ['fd00:ec2::254', /unique local/],
    ['fe80::1', /link-local/],
    ['ff02::1', /multicast/],
    ['::ffff:127.0.0.1', /loopback/],
    ['::ffff:a9fe:a9fe', /link-local/],
    ['64:ff9b::10.0.0.1', /private/],
    ['::7f00:1', /IPv4-compatible/],
    ['::ffff:0:7f00:1', /SIIT/],
    ['64:ff9b:1::7f00:1', /NAT64/],
    ['2002:7f00:1::', /6to4/],
    ['2001:0:4136:e378::1', /Teredo/],
    ['2001:db8::1', /documentation/],
    ['192.0.2.10', /documentation/],
    ['203.0.113.5', /documentation/],
  ])('refuses %s', (address, reason) => {
    expect(strict.refusalOf(address)).toMatch(reason);
  });

  it.each(['8.8.8.8', '172.32.0.1', '192.169.0.1', '2001:4860:4860::8888', '::ffff:8.8.8.8'])('allows the public address %s', (address) => {
    expect(strict.refusalOf(address)).toBeUndefined();
  });

  it('refuses literal hosts and localhost when a URL is stored, whatever way the address is written', () => {
    for (const url of ['http://127.0.0.1/x', 'http://2130706433/', 'http://0x7f.1/', 'http://[::1]:8080/', 'https://localhost/', 'http://api.localhost./', 'http://169.254.169.254/latest/meta-data/', 'http://[::ffff:192.168.0.1]/']) {
      expect(strict.refusalOfLiteral(new URL(url)), url).toBeDefined();
    }
    // Names are judged when a post is sent, after resolution.
    expect(strict.refusalOfLiteral(new URL('https://hooks.example.com/in'))).toBeUndefined();
    expect(strict.refusalOfLiteral(new URL('http://93.184.216.34/in'))).toBeUndefined();
  });

  it('lets the operator allow chosen networks back, and only those', () => {
    const policy = new CallbackUrlPolicy({ allowedNetworks: ['127.0.0.1/32', '10.1.0.0/16', 'fd00:1::/32'] });
    expect(policy.refusalOf('127.0.0.1')).toBeUndefined();
    expect(policy.refusalOf('::ffff:127.0.0.1')).toBeUndefined();
    expect(policy.refusalOf('127.0.0.2')).toMatch(/loopback/);
    expect(policy.refusalOf('10.1.200.3')).toBeUndefined();
    expect(policy.refusalOf('10.2.0.1')).toMatch(/private/);
    expect(policy.refusalOf('fd00:1::5')).toBeUndefined();
    expect(policy.refusalOfLiteral(new URL('http://127.0.0.1:9000/'))).toBeUndefined();
    expect(() => new CallbackUrlPolicy({ allowedNetworks: ['10.0.0.0/33'] })).toThrow(/allowedNetworks/);
    expect(() => new CallbackUrlPolicy({ allowedNetworks: ['example.com'] })).toThrow(/allowedNetworks/);
  });

  it('checks every address a name resolves to', async () => {
    const answers: Record<string, string[]> = { 'ok.test': ['93.184.216.34', '2606:2800:220:1::1'], 'mixed.test': ['93.184.216.34', '10.0.0.7'], 'none.test': [] };
    const policy = new CallbackUrlPolicy({ lookup: async (host) => (answers[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 })) });
    expect(await policy.resolve(new URL('https://ok.test/in'))).toEqual({ ok: true, address: '93.184.216.34', family: 4 });
    expect(await policy.resolve(new URL('https://mixed.test/in'))).toMatchObject({ ok: false, reason: expect.stringMatching(/10\.0\.0\.7: a private address/) });
    expect(await policy.resolve(new URL('https://none.test/in'))).toMatchObject({ ok: false, reason: expect.stringMatching(/no address/) });
    expect(await policy.resolve(new URL('http://[::1]/in'))).toMatchObject({ ok: false });
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/Config.js';

const dir = mkdtempSync(join(tmpdir(), 'config-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeConfig(text: string): string {
  const path = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, text);
  return path;
}

describe('loadConfig', () => {
  it('reads the embedded defaults', () => {
    const config = loadConfig(undefined, {});
    expect(config.sip.port).toBe(5060);
    expect(config.http.port).toBe(8080);
    expect([config.rtp.portMin, config.rtp.portMax]).toEqual([20000, 29999]);
    expect(config.dataDir).toBe(resolve('./data'));
    expect(config.provisioning.didGroups[0]).toMatchObject({ name: 'demo', dids: ['15550100'] });
    expect(config.provisioning.meetingRooms[0]!.keychain).toHaveLength(3);
  });

  it('applies the environment overrides', () => {
    const config = loadConfig(undefined, {
      SIP_PORT: '5070',
      HTTP_PORT: '8090',
      RTP_PORT_MIN: '30000',
      RTP_PORT_MAX: '30100',
      DATA_DIR: '/tmp/x',
      LOG_LEVEL: 'debug',
      PUBLIC_ADDRESS: '192.0.2.1',
    });
    expect(config.sip.port).toBe(5070);
    expect(config.http.port).toBe(8090);
    expect([config.rtp.portMin, config.rtp.portMax]).toEqual([30000, 30100]);
    expect(config.dataDir).toBe('/tmp/x');
    expect(config.logLevel).toBe('debug');
    expect(config.sip.advertisedAddress).toBe('192.0.2.1');
  });

  it('names the field that is wrong', () => {
    expect(() => loadConfig(undefined, { SIP_PORT: 'abc' })).toThrow(/SIP_PORT/);
    expect(() => loadConfig(undefined, { RTP_PORT_MIN: '30000', RTP_PORT_MAX: '20000' })).toThrow(/portMin/);
    const bad = writeConfig('sip: {bindAddress: 0.0.0.0, port: 70000}\n');
    expect(() => loadConfig(bad, {})).toThrow(/sip\.port/);
    const badRole = writeConfig(
      [
        'sip: {bindAddress: 0.0.0.0, port: 5060}',
        'http: {bindAddress: 0.0.0.0, port: 8080}',
        'rtp: {bindAddress: 0.0.0.0, portMin: 1000, portMax: 2000}',
        'media: {}',
        'prompts: {directory: /tmp}',
        'ivr: {}',
        'provisioning:',
        '  meetingRooms:',
        '    - {meetingNumber: 1, primaryDidGroup: demo, keychain: [{accessCode: "1", role: boss}]}',
      ].join('\n'),
    );
    expect(() => loadConfig(badRole, {})).toThrow(/provisioning\.meetingRooms\[0\]\.keychain\[0\]\.role/);
    const tooLong = writeConfig(
      [
        'sip: {bindAddress: 0.0.0.0, port: 5060}',
        'http: {bindAddress: 0.0.0.0, port: 8080}',
        'rtp: {bindAddress: 0.0.0.0, portMin: 1000, portMax: 2000}',
        'media: {}',
        'prompts: {directory: /tmp}',
        'ivr: {maxCodeLength: 4}',
        'provisioning:',
        '  meetingRooms:',
        '    - {meetingNumber: 1, primaryDidGroup: demo, keychain: [{accessCode: "12345", role: host}]}',
      ].join('\n'),
    );
    expect(() => loadConfig(tooLong, {})).toThrow(/keychain\[0\]\.accessCode is longer than ivr\.maxCodeLength \(4\)/);
    expect(() => loadConfig(join(dir, 'missing.yaml'), {})).toThrow(ConfigError);
    expect(() => loadConfig(writeConfig(': : :\n  - ['), {})).toThrow(ConfigError);
  });
});

describe('mixer threads', () => {
  const base = [
    'sip: {bindAddress: 0.0.0.0, port: 5060}',
    'http: {bindAddress: 0.0.0.0, port: 8080}',
    'rtp: {bindAddress: 0.0.0.0, portMin: 1000, portMax: 2000}',
    'prompts: {directory: /tmp}',
    'ivr: {}',
  ];
  const withMedia = (media: string): string => writeConfig([...base, `media: ${media}`].join('\n'));

  it('one per core by default and with auto; a number pins it', () => {
    expect(loadConfig(undefined, {}).media.workerThreads).toBe(availableParallelism());
    expect(loadConfig(withMedia('{}'), {}).media.workerThreads).toBe(availableParallelism());
    expect(loadConfig(withMedia('{workerThreads: auto}'), {}).media.workerThreads).toBe(availableParallelism());
    expect(loadConfig(withMedia('{workerThreads: 3}'), {}).media.workerThreads).toBe(3);
  });

  it('refuses anything else, naming the field', () => {
    for (const bad of ['0', '65', '1.5', 'many', '-2']) {
      expect(() => loadConfig(withMedia(`{workerThreads: ${bad}}`), {})).toThrow(/media\.workerThreads must be auto or an integer from 1 to 64/);
    }
  });
});

describe('trunks and SIP limits', () => {
  const base = [
    'sip: {bindAddress: 0.0.0.0, port: 5060}',
    'http: {bindAddress: 0.0.0.0, port: 8080}',
    'rtp: {bindAddress: 0.0.0.0, portMin: 1000, portMax: 2000}',
    'media: {}',
    'prompts: {directory: /tmp}',
    'ivr: {}',
  ];

  it('the default config has one trunk "local" admitting 127.0.0.0/8, and limits', () => {
    const config = loadConfig(undefined, {});
    expect(config.trunks).toHaveLength(1);
    expect(config.trunks[0]).toMatchObject({ name: 'local', inbound: { addresses: ['127.0.0.0/8'] } });
    expect(config.trunks[0]!.inbound.auth).toBeUndefined();
    expect(config.sip.limits).toMatchObject({ maxMessageBytes: 65535, maxHeaderCount: 256, maxDialogs: 10000, inviteRate: { perSecond: 200, burst: 400 } });
    expect(config.sip.ringTimeoutSeconds).toBe(60);
  });

  it('reads a carrier with inbound digest and outbound proxy, identity and credentials', () => {
    const config = loadConfig(
      writeConfig([
        ...base,
        'trunks:',
        '  - name: carrier',
        '    inbound:',
        '      addresses: [192.0.2.10, 198.51.100.0/24]',
        '      auth: {realm: bridge.example, username: carrier, password: pw}',
        '    outbound:',
        '      proxy: sip.carrier.example:5070',
        '      transport: tcp',
        '      callerId: "+15550100"',
        '      pAssertedIdentity: "sip:+15550100@bridge.example"',
        '      numberFormat: e164',
        '      auth: {username: acct, password: secret}',
      ].join('\n')),
      {},
    );
    expect(config.trunks[0]).toEqual({
      name: 'carrier',
      inbound: { addresses: ['192.0.2.10', '198.51.100.0/24'], auth: { realm: 'bridge.example', username: 'carrier', password: 'pw' } },
      outbound: {
        proxy: { host: 'sip.carrier.example', port: 5070, transport: 'tcp' },
        callerId: '+15550100',
        pAssertedIdentity: 'sip:+15550100@bridge.example',
        numberFormat: 'e164',
        auth: { username: 'acct', password: 'secret' },
      },
    });
    // No limits section: defaults, rate limit off.
    expect(config.sip.limits.inviteRate).toBeUndefined();
  });

  it('names the trunk field that is wrong', () => {
    const bad = (lines: string[]) => () => loadConfig(writeConfig([...base, 'trunks:', ...lines].join('\n')), {});
    expect(bad(['  - {name: a, inbound: {addresses: [10.0.0.0/40]}}'])).toThrow(/trunks\[0\]\.inbound\.addresses\[0\] must be an IP address or CIDR block/);
    expect(bad(['  - {name: a, inbound: {addresses: [], auth: {realm: r, username: u}}}'])).toThrow(/trunks\[0\]\.inbound\.auth\.password is required/);
    expect(bad(['  - {name: a, outbound: {proxy: "h:99999", callerId: "1"}}'])).toThrow(/trunks\[0\]\.outbound\.proxy/);
    expect(bad(['  - {name: a, outbound: {proxy: "h:5060", transport: tls, callerId: "1"}}'])).toThrow(/trunks\[0\]\.outbound\.transport must be one of udp, tcp/);
    expect(bad(['  - {name: a, outbound: {proxy: "h:5060", callerId: "a b"}}'])).toThrow(/trunks\[0\]\.outbound\.callerId/);
    expect(bad(['  - {name: a}', '  - {name: a}'])).toThrow(/trunks\[1\]\.name: duplicate/);
    expect(bad(['  - {inbound: {addresses: []}}'])).toThrow(/trunks\[0\]\.name is required/);
    const limits = writeConfig([...base.slice(1), 'sip: {bindAddress: 0.0.0.0, port: 5060, limits: {inviteRate: {perSecond: 0, burst: 1}}}'].join('\n'));
    expect(() => loadConfig(limits, {})).toThrow(/sip\.limits\.inviteRate\.perSecond must be a positive number/);
  });
});

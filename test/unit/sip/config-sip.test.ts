/** The `sip:` settings added for carriers: session timers and TLS. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../../../src/config/Config.js';

const dir = mkdtempSync(join(tmpdir(), 'config-sip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The default configuration with its `sip:` section's `sessionTimers` block replaced by `sipExtra`. */
function configWith(sipExtra: string): string {
  const text = readFileSync(DEFAULT_CONFIG_PATH, 'utf8').replace(
    /  sessionTimers:\n    enabled: true\n    expiresSeconds: 1800\n    minSeconds: 90\n/,
    sipExtra,
  );
  const path = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, text);
  return path;
}

describe('sip configuration', () => {
  it('session timers default to 1800 s / 90 s and can be tuned or switched off', () => {
    expect(loadConfig(undefined, {}).sip.sessionTimers).toEqual({ expiresSeconds: 1800, minSeconds: 90 });
    expect(loadConfig(configWith('  sessionTimers: { expiresSeconds: 600, minSeconds: 2 }\n'), {}).sip.sessionTimers).toEqual({ expiresSeconds: 600, minSeconds: 2 });
    expect(loadConfig(configWith('  sessionTimers: { enabled: false }\n'), {}).sip.sessionTimers).toBeUndefined();
    expect(() => loadConfig(configWith('  sessionTimers: { expiresSeconds: 60, minSeconds: 90 }\n'), {})).toThrow(/sip.sessionTimers.minSeconds must not exceed/);
    expect(() => loadConfig(configWith('  sessionTimers: { enabled: maybe }\n'), {})).toThrow(/sip.sessionTimers.enabled must be true or false/);
  });

  it('tls is off by default; when set its files are taken relative to the configuration file', () => {
    expect(loadConfig(undefined, {}).sip.tls).toBeUndefined();
    const config = loadConfig(configWith('  tls: { port: 5061, certificateFile: certs/sip.crt, privateKeyFile: /etc/sip.key }\n'), {});
    expect(config.sip.tls).toEqual({ port: 5061, certificateFile: join(dir, 'certs/sip.crt'), privateKeyFile: '/etc/sip.key' });
    expect(() => loadConfig(configWith('  tls: { port: 5061, certificateFile: a.crt }\n'), {})).toThrow(/sip.tls.privateKeyFile is required/);
  });
});

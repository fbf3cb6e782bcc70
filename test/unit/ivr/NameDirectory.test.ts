/**
 * Roll call's names directory on a real file system: leftovers of an
 * earlier run are removed when it opens, each call gets its own directory,
 * and removing one leaves the others.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NameDirectory } from '../../../src/ivr/NameDirectory.js';
import { createRootLogger } from '../../../src/log.js';

const logger = createRootLogger('silent');
let dataDir: string | undefined;

afterEach(() => {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

describe('NameDirectory', () => {
  it('creates <dataDir>/names and empties it of an earlier run’s files and directories', () => {
    dataDir = mkdtempSync(join(tmpdir(), 'names-'));
    mkdirSync(join(dataDir, 'names', 'call-old'), { recursive: true });
    writeFileSync(join(dataDir, 'names', 'call-old', 'name.wav'), 'x');
    writeFileSync(join(dataDir, 'names', 'stray.wav'), 'x');
    const names = NameDirectory.open(dataDir, logger);
    expect(names.root).toBe(join(dataDir, 'names'));
    expect(readdirSync(names.root)).toEqual([]);
    // A fresh data directory works too.
    const fresh = mkdtempSync(join(tmpdir(), 'names-fresh-'));
    expect(readdirSync(NameDirectory.open(fresh, logger).root)).toEqual([]);
    rmSync(fresh, { recursive: true, force: true });
  });

  it('gives each call its own directory and removes only that one', () => {
    dataDir = mkdtempSync(join(tmpdir(), 'names-'));
    const names = NameDirectory.open(dataDir, logger);
    const a = names.forCall();
    const b = names.forCall();
    expect(a).not.toBe(b);
    writeFileSync(join(a, 'name.wav'), 'x');
    names.remove(a);
    expect(existsSync(a)).toBe(false);
    expect(existsSync(b)).toBe(true);
    // Removing twice (the call ends after a failure) is harmless.
    expect(() => names.remove(a)).not.toThrow();
  });
});

/**
 * Prompt sets per conference_language with the real media engine loading
 * real WAV files from a throw-away tree laid out like Debian's: the
 * language's own file, else the English one, else a tone.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PromptLibrary } from '../../../src/ivr/PromptLibrary.js';
import { silentLogger } from '../../../src/log.js';
import { MediaEngine } from '../../../src/media/MediaEngine.js';

const DEBIAN = '/usr/share/asterisk/sounds';
let engine: MediaEngine;
let root: string;
let library: PromptLibrary;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'prompts-'));
  const en = join(root, 'en_US_f_Allison');
  const es = join(root, 'es_MX_f_Allison');
  mkdirSync(en);
  mkdirSync(es);
  mkdirSync(join(root, 'moh'));
  copyFileSync(`${DEBIAN}/en_US_f_Allison/conf-getpin.wav`, join(en, 'conf-getpin.wav'));
  copyFileSync(`${DEBIAN}/en_US_f_Allison/goodbye.wav`, join(en, 'goodbye.wav'));
  copyFileSync(`${DEBIAN}/es_MX_f_Allison/conf-getpin.wav`, join(es, 'conf-getpin.wav'));
  copyFileSync(`${DEBIAN}/en_US_f_Allison/beep.wav`, join(root, 'moh', 'default.wav'));
  copyFileSync(`${DEBIAN}/en_US_f_Allison/goodbye.wav`, join(root, 'moh', 'other.wav'));
  engine = await MediaEngine.create({ bindAddress: '127.0.0.1', rtpPortMin: 27900, rtpPortMax: 27999 });
  library = new PromptLibrary(engine, en, silentLogger(), join(root, 'moh', 'default.wav'));
});

afterAll(() => {
  engine?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('PromptLibrary languages', () => {
  it('speaks English by default and for codes without a prompt set', () => {
    expect(library.resolve(['conf-getpin'])[0]!.source).toBe(join(root, 'en_US_f_Allison', 'conf-getpin.wav'));
    expect(library.resolve(['conf-getpin'], 'DE')[0]!.source).toBe(join(root, 'en_US_f_Allison', 'conf-getpin.wav'));
    expect(PromptLibrary.effectiveLanguage('de')).toBe('EN');
    expect(PromptLibrary.effectiveLanguage('es-latam')).toBe('ES-LATAM');
  });

  it("takes a language's own recording, from the set beside the English one", () => {
    const [sound] = library.resolve(['conf-getpin'], 'es');
    expect(sound!.source).toBe(join(root, 'es_MX_f_Allison', 'conf-getpin.wav'));
    // The Spanish recording is not the English one.
    expect(sound!.durationMs).not.toBe(library.resolve(['conf-getpin'])[0]!.durationMs);
  });

  it('says a prompt missing in the language in English, and one missing in English too as a tone', () => {
    expect(library.resolve(['goodbye'], 'ES')[0]!.source).toBe(join(root, 'en_US_f_Allison', 'goodbye.wav'));
    // French has no directory at all here: English.
    expect(library.resolve(['goodbye'], 'FR')[0]!.source).toBe(join(root, 'en_US_f_Allison', 'goodbye.wav'));
    const missing = library.resolve(['conf-leaderhasleft'], 'IT');
    expect(missing.length).toBeGreaterThan(0);
    expect(missing.every((s) => s.source.startsWith('tone:'))).toBe(true);
  });

  it('refuses prompt names that could leave the directory, with a tone', () => {
    for (const name of ['../en_US_f_Allison/goodbye', '/etc/passwd', 'a b']) {
      expect(library.resolve([name], 'ES').every((s) => s.source.startsWith('tone:'))).toBe(true);
    }
  });
});

describe('PromptLibrary music (001 music_on_hold_sound)', () => {
  it("plays the configured music for 'on', a named file beside it, and the configured music for unknown or unsafe names", () => {
    expect(library.musicNamed('on')[0]!.source).toBe(join(root, 'moh', 'default.wav'));
    expect(library.musicNamed('other')[0]!.source).toBe(join(root, 'moh', 'other.wav'));
    expect(library.musicNamed('nope')[0]!.source).toBe(join(root, 'moh', 'default.wav'));
    expect(library.musicNamed('../en_US_f_Allison/goodbye')[0]!.source).toBe(join(root, 'moh', 'default.wav'));
  });
});

import { basename, dirname, join } from 'node:path';
import type { Logger } from '../log.js';
import type { MediaEngine } from '../media/MediaEngine.js';
import type { Sound } from '../media/Sound.js';
import type { ToneSpec } from '../media/MediaTypes.js';
import type { PromptName } from './AccessCodeFlow.js';

/**
 * Tones that stand in for a prompt whose recording is missing, so that a
 * caller always hears something distinct for each step, never silence.
 */
const FALLBACK_TONES: Record<string, ToneSpec[]> = {
  // Rising pair: "enter your code".
  'conf-getpin': [
    { frequencies: [660], durationMs: 200 },
    { frequencies: [880], durationMs: 300 },
  ],
  // Low buzz: "invalid".
  'conf-invalidpin': [{ frequencies: [300, 350], durationMs: 600 }],
  // Falling pair: "goodbye".
  goodbye: [
    { frequencies: [880], durationMs: 200 },
    { frequencies: [440], durationMs: 400 },
  ],
};

const DEFAULT_FALLBACK: ToneSpec[] = [{ frequencies: [425], durationMs: 500 }];

/**
 * Generated tones of the in-meeting experience. Each is kept distinct from
 * speech prompts and from the others: the error tone is one low buzz; the
 * on/off confirmations (for toggles without a recorded prompt) rise and
 * fall; entry and exit tones are short higher chirps, rising and falling.
 */
export type ToneName = 'error' | 'confirmOn' | 'confirmOff' | 'entry' | 'exit';

export const TONES: Readonly<Record<ToneName, ToneSpec[]>> = {
  error: [{ frequencies: [300], durationMs: 400, levelDbfs: -12 }],
  confirmOn: [
    { frequencies: [660], durationMs: 150, levelDbfs: -15 },
    { frequencies: [990], durationMs: 200, levelDbfs: -15 },
  ],
  confirmOff: [
    { frequencies: [990], durationMs: 150, levelDbfs: -15 },
    { frequencies: [660], durationMs: 200, levelDbfs: -15 },
  ],
  entry: [
    { frequencies: [1200], durationMs: 100, levelDbfs: -18 },
    { frequencies: [1600], durationMs: 150, levelDbfs: -18 },
  ],
  exit: [
    { frequencies: [1600], durationMs: 100, levelDbfs: -18 },
    { frequencies: [1200], durationMs: 150, levelDbfs: -18 },
  ],
};

/** Stands in for missing music on hold: a quiet chord, never silence. */
const MUSIC_FALLBACK: ToneSpec[] = [
  { frequencies: [262, 330, 392], durationMs: 1500, levelDbfs: -30 },
  { frequencies: [294, 349, 440], durationMs: 1500, levelDbfs: -30 },
];

/**
 * The Debian prompt set of each 004 `conference_language` code that has
 * one, as the directory beside the English one. Codes without a set here
 * speak English.
 */
export const LANGUAGE_DIRECTORIES: Readonly<Record<string, string>> = {
  ES: 'es_MX_f_Allison',
  'ES-LATAM': 'es_MX_f_Allison',
  AR: 'es_MX_f_Allison',
  FR: 'fr_CA_f_June',
  IT: 'it_IT_m_Carlo',
};

/** The language of the configured directory, and of every code without a set of its own. */
const ENGLISH = 'EN';

/**
 * Resolves prompt names to loaded sounds: `<directory>/<name>.wav`, loaded
 * once and kept. A language other than English reads the prompt set beside
 * the English one (LANGUAGE_DIRECTORIES); a prompt missing there is said in
 * English, and one missing in English too (or unreadable) falls back to
 * tones (logged once), so a broken sound install degrades the experience,
 * not the call.
 */
export class PromptLibrary {
  private readonly cache = new Map<string, Sound[]>();
  private readonly toneCache = new Map<ToneName, Sound[]>();
  private readonly namedMusic = new Map<string, Sound[]>();
  private music: Sound[] | undefined;

  constructor(
    private readonly media: MediaEngine,
    private readonly directory: string,
    private readonly logger: Logger,
    /** Path of the music-on-hold file (a WAV like the prompts). */
    private readonly musicOnHoldPath?: string,
  ) {}

  /** One of the generated tones, built once. */
  tone(name: ToneName): Sound[] {
    let sounds = this.toneCache.get(name);
    if (!sounds) {
      sounds = TONES[name].map((spec) => this.media.createToneSound(spec));
      this.toneCache.set(name, sounds);
    }
    return sounds;
  }

  /** Music on hold, loaded once; a quiet tone pattern when the file is missing. */
  musicOnHold(): Sound[] {
    if (this.music) return this.music;
    try {
      if (this.musicOnHoldPath === undefined) throw new Error('no music on hold configured');
      this.music = [this.media.loadSound(this.musicOnHoldPath)];
    } catch (err) {
      this.logger.warn({ path: this.musicOnHoldPath, err: (err as Error).message }, 'music on hold unavailable, playing a tone pattern instead');
      this.music = MUSIC_FALLBACK.map((spec) => this.media.createToneSound(spec));
    }
    return this.music;
  }

  /**
   * 001's `music_on_hold_sound`: 'on' (or 'default') is the configured
   * music, anything else names a WAV beside it (`macroform-the_simplicity`).
   * An unknown or unsafe name plays the configured music.
   */
  musicNamed(name: string): Sound[] {
    const key = name.trim();
    if (key === '' || ['on', 'default'].includes(key.toLowerCase()) || this.musicOnHoldPath === undefined) return this.musicOnHold();
    const cached = this.namedMusic.get(key);
    if (cached) return cached;
    let sounds: Sound[];
    const file = key.endsWith('.wav') ? key : `${key}.wav`;
    if (!/^[A-Za-z0-9_.-]+$/.test(file) || file.includes('..') || basename(file) !== file) {
      this.logger.warn({ music: name }, 'invalid music name, playing the default music');
      sounds = this.musicOnHold();
    } else {
      try {
        sounds = [this.media.loadSound(join(dirname(this.musicOnHoldPath), file))];
      } catch (err) {
        this.logger.warn({ music: name, err: (err as Error).message }, 'music unavailable, playing the default music');
        sounds = this.musicOnHold();
      }
    }
    this.namedMusic.set(key, sounds);
    return sounds;
  }

  /** The language code whose prompts `resolve` will really use: EN unless a set exists for `language`. */
  static effectiveLanguage(language: string | undefined): string {
    const code = (language ?? ENGLISH).trim().toUpperCase();
    return LANGUAGE_DIRECTORIES[code] ? code : ENGLISH;
  }

  /** The sounds to play for a sequence of prompts, in order, in `language` (004 code, EN by default). */
  resolve(names: PromptName[], language?: string): Sound[] {
    const code = PromptLibrary.effectiveLanguage(language);
    return names.flatMap((name) => this.resolveOne(name, code));
  }

  private resolveOne(name: PromptName, language: string): Sound[] {
    const key = `${language}:${name}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    let sounds: Sound[];
    // Prompt names come from configuration and code, never from callers;
    // still, refuse anything that could leave the prompt directory.
    if (!/^[A-Za-z0-9_/-]+$/.test(name) || name.includes('..') || name.startsWith('/')) {
      this.logger.warn({ prompt: name }, 'invalid prompt name, playing a tone instead');
      sounds = this.fallback(name);
    } else if (language !== ENGLISH) {
      const path = join(dirname(this.directory), LANGUAGE_DIRECTORIES[language]!, `${name}.wav`);
      try {
        sounds = [this.media.loadSound(path)];
      } catch (err) {
        this.logger.info({ prompt: name, language, err: (err as Error).message }, 'prompt missing in this language, saying it in English');
        sounds = this.resolveOne(name, ENGLISH);
      }
    } else {
      const path = join(this.directory, `${name}.wav`);
      try {
        sounds = [this.media.loadSound(path)];
      } catch (err) {
        this.logger.warn({ prompt: name, path, err: (err as Error).message }, 'prompt unavailable, playing a tone instead');
        sounds = this.fallback(name);
      }
    }
    this.cache.set(key, sounds);
    return sounds;
  }

  private fallback(name: PromptName): Sound[] {
    return (FALLBACK_TONES[name] ?? DEFAULT_FALLBACK).map((tone) => this.media.createToneSound(tone));
  }
}

import { join } from 'node:path';
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
 * Resolves prompt names to loaded sounds: `<directory>/<name>.wav`, loaded
 * once and kept. A missing or unreadable file falls back to tones (logged
 * once) so a broken sound install degrades the experience, not the call.
 */
export class PromptLibrary {
  private readonly cache = new Map<PromptName, Sound[]>();

  constructor(
    private readonly media: MediaEngine,
    private readonly directory: string,
    private readonly logger: Logger,
  ) {}

  /** The sounds to play for a sequence of prompts, in order. */
  resolve(names: PromptName[]): Sound[] {
    return names.flatMap((name) => this.resolveOne(name));
  }

  private resolveOne(name: PromptName): Sound[] {
    const cached = this.cache.get(name);
    if (cached) return cached;
    let sounds: Sound[];
    // Prompt names come from configuration and code, never from callers;
    // still, refuse anything that could leave the prompt directory.
    if (!/^[A-Za-z0-9_/-]+$/.test(name) || name.includes('..')) {
      this.logger.warn({ prompt: name }, 'invalid prompt name, playing a tone instead');
      sounds = this.fallback(name);
    } else {
      const path = join(this.directory, `${name}.wav`);
      try {
        sounds = [this.media.loadSound(path)];
      } catch (err) {
        this.logger.warn({ prompt: name, path, err: (err as Error).message }, 'prompt unavailable, playing a tone instead');
        sounds = this.fallback(name);
      }
    }
    this.cache.set(name, sounds);
    return sounds;
  }

  private fallback(name: PromptName): Sound[] {
    return (FALLBACK_TONES[name] ?? DEFAULT_FALLBACK).map((tone) => this.media.createToneSound(tone));
  }
}

import type { NativeSound } from './native.js';

/**
 * An immutable mono sound, kept at 8 and 16 kHz (a loaded WAV of any rate,
 * resampled with speexdsp, or a synthesized tone), created
 * by `MediaEngine.loadSound` / `createToneSound`. It stays alive as long as
 * this object or any playback still uses it, and can be played on any leg of
 * any engine.
 */
export class Sound {
  /** @internal */
  readonly native: NativeSound;
  /** Where it came from: a file path or `tone:<freqs>`. */
  readonly source: string;

  /** @internal Use MediaEngine.loadSound / createToneSound. */
  constructor(native: NativeSound, source: string) {
    this.native = native;
    this.source = source;
  }

  get durationMs(): number {
    return this.native.durationMs;
  }

  /** Length in samples at 8 kHz. */
  get samples(): number {
    return this.native.samples;
  }
}

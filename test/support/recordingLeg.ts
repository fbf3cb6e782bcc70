/**
 * A stand-in for a MediaLeg in conference tests without sockets: it records
 * what the meeting asks of the media plane (membership, hold and its music,
 * gain, what it plays) for the test to check.
 */
import { EventEmitter } from 'node:events';
import type { MeetingSounds } from '../../src/conference/ConferenceTypes.js';
import type { Sound } from '../../src/media/Sound.js';

export class RecordingLeg extends EventEmitter {
  closed = false;
  held = false;
  heldWith: unknown[] = [];
  membership: { speak: boolean; hear: boolean } | undefined;
  gain = { inDb: 0, outDb: 0 };
  played: unknown[][] = [];
  playbackId: number | undefined;
  join(_room: unknown, membership: { speak: boolean; hear: boolean }): void {
    this.membership = { ...membership };
  }
  update(membership: { speak: boolean; hear: boolean }): void {
    this.membership = { ...membership };
  }
  leave(): void {
    this.membership = undefined;
  }
  hold(music: unknown[]): void {
    this.held = true;
    this.heldWith = music;
  }
  unhold(): void {
    this.held = false;
  }
  setGain(gain: { inDb?: number; outDb?: number }): void {
    this.gain = { ...this.gain, ...gain };
  }
  play(sounds: unknown[]): number {
    this.played.push(sounds);
    return this.played.length;
  }
}

/** A sound that is only its name, so a test can compare what was played with `sound(name)`. */
export const sound = (name: string) => ({ source: name }) as unknown as Sound;

/** Hold music, entry and exit tones as named sounds. */
export const NAMED_SOUNDS: MeetingSounds = {
  holdMusic: () => [sound('music')],
  entryTone: () => [sound('entry')],
  exitTone: () => [sound('exit')],
};

import { EventEmitter } from 'node:events';

import type { MediaLeg } from './MediaLeg.js';
import { MediaClosedError, MediaInvalidArgumentError } from './MediaErrors.js';
import type { MediaRecording } from './MediaRecording.js';
import type { PlaybackDoneEvent, RecordingOptions, RoomPlayOptions } from './MediaTypes.js';
import type { Sound } from './Sound.js';

export interface MediaRoomEvents {
  /** An announcement (`play`) ended or was stopped. */
  playbackDone: [PlaybackDoneEvent];
  close: [];
}

/** @internal What a room needs from its engine. */
export interface MediaRoomOwner {
  closeRoom(room: MediaRoom): void;
  setRoomMaxTalkers(room: MediaRoom, maxTalkers: number): void;
  playRoom(room: MediaRoom, sounds: readonly Sound[], queue: boolean): number;
  stopRoomPlayback(room: MediaRoom): void;
  startRecording(room: MediaRoom, options: Required<Omit<RecordingOptions, 'trackDirectory'>> & { trackDirectory: string | undefined }): MediaRecording;
}

/**
 * A mixing room. Legs join it with `leg.join(room, { speak, hear })`. Only
 * legs that speak and are detected talking are mixed, at most the loudest
 * `maxTalkers`; a leg in the mix hears the others (N-1), every other hearing
 * leg hears the one shared mix (encoded once per codec). A limiter keeps the
 * sum from clipping. Closing a room returns its legs to the lobby (they keep
 * their prompts and DTMF).
 */
export class MediaRoom extends EventEmitter<MediaRoomEvents> {
  readonly id: number;
  readonly #owner: MediaRoomOwner;
  readonly #legs = new Set<MediaLeg>();
  #closed = false;
  #maxTalkers: number;

  /** @internal Use MediaEngine.createRoom. */
  constructor(id: number, owner: MediaRoomOwner, maxTalkers = 4) {
    super();
    this.id = id;
    this.#owner = owner;
    this.#maxTalkers = maxTalkers;
  }

  /** How many of the loudest talkers are mixed. */
  get maxTalkers(): number {
    return this.#maxTalkers;
  }

  /** Changes how many of the loudest talkers are mixed (1..32). */
  setMaxTalkers(maxTalkers: number): void {
    this.assertOpen();
    this.#owner.setRoomMaxTalkers(this, maxTalkers);
    this.#maxTalkers = maxTalkers;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Legs currently in the room. */
  get legs(): ReadonlySet<MediaLeg> {
    return this.#legs;
  }

  /**
   * Starts recording the room's mix to `mixFile` (and each speaking leg to
   * its own file under `trackDirectory`), until `stop()` on the returned
   * handle or the room's closing; its `recordingDone` event follows. The
   * files are opened now: a bad path throws a MediaError (code EIO); a room
   * already being recorded throws code EBUSY.
   */
  startRecording(options: RecordingOptions): MediaRecording {
    this.assertOpen();
    if (typeof options?.mixFile !== 'string' || options.mixFile.length === 0) {
      throw new MediaInvalidArgumentError('mixFile must be a non-empty path');
    }
    if (options.trackDirectory !== undefined && (typeof options.trackDirectory !== 'string' || options.trackDirectory.length === 0)) {
      throw new MediaInvalidArgumentError('trackDirectory must be a non-empty path');
    }
    const sampleRate = options.sampleRate ?? 16000;
    if (sampleRate !== 8000 && sampleRate !== 16000) throw new MediaInvalidArgumentError('sampleRate must be 8000 or 16000');
    return this.#owner.startRecording(this, { mixFile: options.mixFile, trackDirectory: options.trackDirectory, sampleRate });
  }

  /**
   * An announcement to the whole meeting: every leg in the room that hears
   * (talkers too, held legs not) hears the sounds over the room audio, and
   * a recording gets them. Replaces the current announcement and queue, or
   * with `queue: true` plays after them. Returns the playback id carried by
   * the room's `playbackDone` event.
   */
  play(sounds: Sound | readonly Sound[], options: RoomPlayOptions = {}): number {
    this.assertOpen();
    const list = Array.isArray(sounds) ? (sounds as readonly Sound[]) : [sounds as Sound];
    return this.#owner.playRoom(this, list, options.queue ?? false);
  }

  /** Stops the announcement and empties the queue (playbackDone interrupted for each). */
  stopPlayback(): void {
    this.assertOpen();
    this.#owner.stopRoomPlayback(this);
  }

  close(): void {
    if (this.#closed) return;
    this.#owner.closeRoom(this);
  }

  /** @internal */
  assertOpen(): void {
    if (this.#closed) throw new MediaClosedError(`room ${this.id} is closed`);
  }

  /** @internal */
  addLeg(leg: MediaLeg): void {
    this.#legs.add(leg);
  }

  /** @internal */
  removeLeg(leg: MediaLeg): void {
    this.#legs.delete(leg);
  }

  /** @internal Called by the engine once the native room is closed. */
  markClosed(): MediaLeg[] {
    this.#closed = true;
    const legs = [...this.#legs];
    this.#legs.clear();
    return legs;
  }
}

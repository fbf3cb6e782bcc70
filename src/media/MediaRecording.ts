import { EventEmitter } from 'node:events';

import type { Logger } from '../log.js';
import { callNative, MediaError } from './MediaErrors.js';
import type { RecordingDoneEvent } from './MediaTypes.js';
import type { NativeEngine } from './native.js';

export interface MediaRecordingEvents {
  /** Every file is complete and closed (after `stop()`, or the room's closing). */
  recordingDone: [RecordingDoneEvent];
  /**
   * A file could not be written: what was written before stays valid, and
   * `recordingDone` still follows. Without an `error` listener the failure
   * is logged instead of thrown.
   */
  error: [MediaError];
}

/** @internal */
export interface MediaRecordingInit {
  id: number;
  native: NativeEngine;
  mixFile: string;
  trackDirectory: string | undefined;
  sampleRate: number;
  legCallId: (legId: number) => string | undefined;
  logger: Logger | undefined;
}

/**
 * A recording of one room, from `MediaRoom.startRecording()`: the mix to a
 * WAV file, optionally one WAV per speaking leg, written by a thread of its
 * own (never by the mixer).
 */
export class MediaRecording extends EventEmitter<MediaRecordingEvents> {
  readonly id: number;
  readonly mixFile: string;
  readonly trackDirectory: string | undefined;
  readonly sampleRate: number;
  readonly #native: NativeEngine;
  readonly #legCallId: (legId: number) => string | undefined;
  readonly #logger: Logger | undefined;
  #stopped = false;
  #done = false;

  /** @internal Use MediaRoom.startRecording. */
  constructor(init: MediaRecordingInit) {
    super();
    this.id = init.id;
    this.mixFile = init.mixFile;
    this.trackDirectory = init.trackDirectory;
    this.sampleRate = init.sampleRate;
    this.#native = init.native;
    this.#legCallId = init.legCallId;
    this.#logger = init.logger;
  }

  /** True once `recordingDone` was emitted. */
  get done(): boolean {
    return this.#done;
  }

  /** Stops recording; `recordingDone` follows once the files are closed. Idempotent. */
  stop(): void {
    if (this.#stopped || this.#done) return;
    this.#stopped = true;
    callNative(() => this.#native.stopRecording(this.id));
  }

  /** @internal */
  finish(ev: { error?: string; durationMs: number; framesDropped: number; tracks: Array<{ legId: number; file: string }> }): void {
    if (this.#done) return;
    this.#done = true;
    if (ev.error !== undefined) {
      const err = new MediaError(`recording ${this.mixFile}: ${ev.error}`, 'EIO');
      if (this.listenerCount('error') > 0) this.emit('error', err);
      else this.#logger?.error({ err }, 'recording failed');
    }
    const done: RecordingDoneEvent = {
      mixFile: this.mixFile,
      durationMs: ev.durationMs,
      framesDropped: ev.framesDropped,
      tracks: ev.tracks.map((t) => ({ legId: t.legId, callId: this.#legCallId(t.legId), file: t.file })),
    };
    this.#logger?.info({ ...done, tracks: done.tracks.length }, 'recording done');
    this.emit('recordingDone', done);
    this.removeAllListeners();
  }
}

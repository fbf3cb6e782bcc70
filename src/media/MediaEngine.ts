import { EventEmitter } from 'node:events';
import { readFile, stat } from 'node:fs/promises';
import { isIPv4 } from 'node:net';

import type { Logger } from '../log.js';
import {
  callNative,
  InvalidSoundError,
  MediaClosedError,
  MediaInvalidArgumentError,
} from './MediaErrors.js';
import { MediaLeg, type MediaLegOwner } from './MediaLeg.js';
import { MediaRecording } from './MediaRecording.js';
import { MediaRoom, type MediaRoomOwner } from './MediaRoom.js';
import type {
  MediaEngineOptions,
  MediaEngineStats,
  MediaLegOptions,
  MediaRoomOptions,
  RecordingOptions,
  ToneSpec,
} from './MediaTypes.js';
import { loadNative, type NativeAddon, type NativeEngine, type NativeEvent } from './native.js';
import { Sound } from './Sound.js';

export interface MediaEngineObserverEvents {
  newleg: [MediaLeg];
  newroom: [MediaRoom];
  close: [];
}

/**
 * The media engine: RTP legs, mixing rooms and sounds, run by native mixer
 * threads (`workerThreads`, default 1) that tick every 20 ms off the JS
 * event loop. Events from the mixers reach JS through a thread-safe function
 * and are dispatched to the legs.
 *
 * An open engine keeps the Node event loop alive (like a listening socket);
 * `close()` closes every leg and room and stops the threads.
 */
export class MediaEngine implements MediaLegOwner, MediaRoomOwner {
  /** Monitoring hooks: `newleg`, `newroom`, `close`. */
  readonly observer = new EventEmitter<MediaEngineObserverEvents>();
  readonly options: Readonly<Required<Omit<MediaEngineOptions, 'logger'>>>;

  /** @internal */
  readonly native: NativeEngine;
  readonly #addon: NativeAddon;
  readonly #logger: Logger | undefined;
  readonly #legs = new Map<number, MediaLeg>();
  readonly #rooms = new Map<number, MediaRoom>();
  readonly #recordings = new Map<number, MediaRecording>();
  #closed = false;

  /**
   * Whether RTP can be sent to `address`: the engine's sockets are IPv4, and
   * 0.0.0.0 (RFC 2543 hold) names no address at all.
   */
  static canSendTo(address: string): boolean {
    return isIPv4(address) && address !== '0.0.0.0';
  }

  /** Same as the constructor; kept async so setup may become asynchronous. */
  static async create(options: MediaEngineOptions): Promise<MediaEngine> {
    return new MediaEngine(options);
  }

  constructor(options: MediaEngineOptions) {
    const workerThreads = options.workerThreads ?? 1;
    const rtpTimeoutMs = options.rtpTimeoutMs ?? 30_000;
    const rtcpIntervalMs = options.rtcpIntervalMs ?? 5000;
    const maxTalkers = options.maxTalkers ?? 4;
    const { rtpPortMin, rtpPortMax } = options;
    if (!Number.isInteger(rtpPortMin) || !Number.isInteger(rtpPortMax) || rtpPortMin < 1 || rtpPortMax > 65535 || rtpPortMin > rtpPortMax) {
      throw new MediaInvalidArgumentError(`invalid RTP port range ${rtpPortMin}-${rtpPortMax}`);
    }
    if (!Number.isInteger(workerThreads) || workerThreads < 1) {
      throw new MediaInvalidArgumentError('workerThreads must be a positive integer');
    }
    if (!Number.isInteger(rtpTimeoutMs) || rtpTimeoutMs < 0) {
      throw new MediaInvalidArgumentError('rtpTimeoutMs must be a non-negative integer');
    }
    validateMaxTalkers(maxTalkers);
    if (!Number.isInteger(rtcpIntervalMs) || rtcpIntervalMs < 0) {
      throw new MediaInvalidArgumentError('rtcpIntervalMs must be a non-negative integer');
    }
    this.options = { bindAddress: options.bindAddress, rtpPortMin, rtpPortMax, workerThreads, rtpTimeoutMs, maxTalkers, rtcpIntervalMs };
    this.#logger = options.logger?.child({ component: 'media' });
    this.#addon = loadNative();
    this.native = callNative(
      () => new this.#addon.NativeEngine({ ...this.options }, () => this.#drain()),
    );
    this.#logger?.info({ ...this.options }, 'media engine started');
    this.#logIoBackend();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Live legs by id. */
  get legs(): ReadonlyMap<number, MediaLeg> {
    return this.#legs;
  }

  /** Live rooms by id. */
  get rooms(): ReadonlyMap<number, MediaRoom> {
    return this.#rooms;
  }

  /**
   * Loads a RIFF/WAVE file (PCM 16/8-bit, mu-law or A-law; mono or stereo;
   * any rate, resampled to 8 kHz) synchronously on the JS thread: meant for
   * prompts loaded once and cached. Throws InvalidSoundError when the file is
   * missing, unreadable or malformed.
   */
  loadSound(path: string): Sound {
    this.#assertOpen();
    return new Sound(callNative(() => this.#addon.loadSound(path)), path);
  }

  /** Like loadSound, but reads the file without blocking the event loop. */
  async loadSoundAsync(path: string): Promise<Sound> {
    this.#assertOpen();
    let data: Buffer;
    try {
      const st = await stat(path);
      if (!st.isFile()) throw new Error('not a regular file');
      if (st.size > this.#addon.maxSoundFileBytes) throw new Error(`file larger than ${this.#addon.maxSoundFileBytes} bytes`);
      data = await readFile(path);
    } catch (err) {
      throw new InvalidSoundError(`cannot read sound ${path}: ${(err as Error).message}`, { cause: err });
    }
    this.#assertOpen();
    return new Sound(callNative(() => this.#addon.parseSound(data, path)), path);
  }

  /** Synthesizes a tone (one or two frequencies mixed, each at levelDbfs). */
  createToneSound(spec: ToneSpec): Sound {
    this.#assertOpen();
    const level = spec.levelDbfs ?? -12;
    const native = callNative(() => this.#addon.createToneSound([...spec.frequencies], spec.durationMs, level));
    return new Sound(native, `tone:${spec.frequencies.join('+')}`);
  }

  createLeg(options: MediaLegOptions): MediaLeg {
    this.#assertOpen();
    const payloadType = options.payloadType;
    const tePt = options.telephoneEventPayloadType;
    const info = callNative(() =>
      this.native.createLeg({
        codec: options.codec,
        payloadType,
        ...(tePt === undefined ? {} : { telephoneEventPayloadType: tePt }),
        ...(options.rtcpMux === true ? { rtcpMux: true } : {}),
      }),
    );
    const leg = new MediaLeg(this, {
      id: info.id,
      callId: options.callId,
      codec: options.codec,
      payloadType,
      telephoneEventPayloadType: tePt,
      localAddress: info.address,
      localPort: info.port,
      localRtcpPort: info.rtcpPort,
      logger: this.#logger?.child({ callId: options.callId, legId: info.id }),
    });
    this.#legs.set(leg.id, leg);
    if (options.remote !== undefined) {
      try {
        leg.setRemote(options.remote);
      } catch (err) {
        leg.close();
        throw err;
      }
    }
    this.#logger?.debug({ callId: options.callId, legId: leg.id, port: leg.localPort }, 'media leg created');
    this.observer.emit('newleg', leg);
    return leg;
  }

  /** A new mixing room; `maxTalkers` defaults to the engine's option. */
  createRoom(options: MediaRoomOptions = {}): MediaRoom {
    this.#assertOpen();
    const maxTalkers = options.maxTalkers ?? this.options.maxTalkers;
    validateMaxTalkers(maxTalkers);
    const id = callNative(() => this.native.createRoom(maxTalkers));
    const room = new MediaRoom(id, this, maxTalkers);
    this.#rooms.set(id, room);
    this.observer.emit('newroom', room);
    return room;
  }

  stats(): MediaEngineStats {
    this.#assertOpen();
    const s = callNative(() => this.native.stats());
    return {
      legs: s.legs,
      rooms: s.rooms,
      ticks: s.ticks,
      lateTicks: s.lateTicks,
      packetsReceived: s.packetsReceived,
      packetsSent: s.packetsSent,
      packetsMalformed: s.packetsMalformed,
      packetsFromStrangers: s.packetsFromStrangers,
      packetsUnknownPayload: s.packetsUnknownPayload,
      eventsDropped: s.eventsDropped,
      tickLatenessHistogramUs: { bucketUs: 100, counts: s.tickLatenessCounts },
    };
  }

  /** Closes every leg and room (emitting their `close`) and stops the mixer threads. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // Deliver what the mixers already reported before tearing down.
    try {
      this.#drain();
    } catch (err) {
      this.#logger?.error({ err }, 'media event listener threw during close');
    }
    for (const room of [...this.#rooms.values()]) this.#finishRoom(room);
    for (const leg of [...this.#legs.values()]) leg.markClosed();
    this.native.close();
    this.#logger?.info('media engine closed');
    this.observer.emit('close');
  }

  /** @internal MediaLegOwner */
  legClosed(leg: MediaLeg): void {
    this.#legs.delete(leg.id);
  }

  /** @internal MediaRoomOwner */
  closeRoom(room: MediaRoom): void {
    if (!this.#closed) {
      try {
        this.native.closeRoom(room.id);
      } catch {
        // already gone natively
      }
    }
    this.#finishRoom(room);
  }

  /** @internal MediaRoomOwner */
  setRoomMaxTalkers(room: MediaRoom, maxTalkers: number): void {
    this.#assertOpen();
    validateMaxTalkers(maxTalkers);
    callNative(() => this.native.setRoomMaxTalkers(room.id, maxTalkers));
  }

  /** @internal MediaRoomOwner */
  playRoom(room: MediaRoom, sounds: readonly Sound[], queue: boolean): number {
    this.#assertOpen();
    const id = callNative(() =>
      this.native.playRoom(
        room.id,
        sounds.map((s) => s.native),
        queue,
      ),
    );
    this.#logger?.debug({ roomId: room.id, playbackId: id, sounds: sounds.map((s) => s.source), queue }, 'media room play');
    return id;
  }

  /** @internal MediaRoomOwner */
  stopRoomPlayback(room: MediaRoom): void {
    this.#assertOpen();
    callNative(() => this.native.stopRoomPlayback(room.id));
  }

  /** @internal MediaRoomOwner */
  startRecording(room: MediaRoom, options: Required<Omit<RecordingOptions, 'trackDirectory'>> & { trackDirectory: string | undefined }): MediaRecording {
    this.#assertOpen();
    const id = callNative(() => this.native.startRecording(room.id, options.mixFile, options.trackDirectory ?? '', options.sampleRate));
    const recording = new MediaRecording({
      id,
      native: this.native,
      mixFile: options.mixFile,
      trackDirectory: options.trackDirectory,
      sampleRate: options.sampleRate,
      legCallId: (legId) => this.#legs.get(legId)?.callId,
      logger: this.#logger?.child({ roomId: room.id, recordingId: id }),
    });
    this.#recordings.set(id, recording);
    this.#logger?.info({ roomId: room.id, recordingId: id, mixFile: options.mixFile }, 'recording started');
    return recording;
  }

  #finishRoom(room: MediaRoom): void {
    this.#rooms.delete(room.id);
    for (const leg of room.markClosed()) leg.roomClosed(room);
    room.emit('close');
    room.removeAllListeners();
  }

  #drain(): void {
    let events: NativeEvent[];
    try {
      events = this.native.drainEvents();
    } catch (err) {
      this.#logger?.error({ err }, 'media event drain failed');
      return;
    }
    let firstError: unknown;
    for (const ev of events) {
      if (ev.type === 'recordingDone') {
        const recording = this.#recordings.get(ev.recordingId);
        this.#recordings.delete(ev.recordingId);
        try {
          recording?.finish(ev);
        } catch (err) {
          firstError ??= err;
        }
        continue;
      }
      if (ev.type === 'playbackDone' && ev.roomId !== undefined) {
        try {
          this.#rooms.get(ev.roomId)?.emit('playbackDone', { playbackId: ev.playbackId, interrupted: ev.interrupted });
        } catch (err) {
          firstError ??= err;
        }
        continue;
      }
      const leg = this.#legs.get(ev.legId);
      if (leg === undefined) continue;
      try {
        leg.handleNativeEvent(ev);
      } catch (err) {
        // A throwing listener must not swallow the other legs' events.
        firstError ??= err;
      }
    }
    if (firstError !== undefined) throw firstError;
  }

  /** Says once, at start, whether RTP goes through batched io_uring I/O or the slower per-packet fallback, and why. */
  #logIoBackend(): void {
    const { ioBackend, ioFallbackReason } = callNative(() => this.native.stats());
    const { workerThreads } = this.options;
    if (ioBackend === 'io_uring') this.#logger?.info({ ioBackend, workerThreads }, 'media I/O batched through io_uring');
    else this.#logger?.warn({ ioBackend, workerThreads, reason: ioFallbackReason }, 'media I/O falls back to one system call per packet');
  }

  #assertOpen(): void {
    if (this.#closed) throw new MediaClosedError('media engine is closed');
  }
}

function validateMaxTalkers(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 32) {
    throw new MediaInvalidArgumentError('maxTalkers must be an integer within [1, 32]');
  }
}

import { EventEmitter } from 'node:events';

import type { Logger } from '../log.js';
import { callNative, MediaClosedError, MediaInvalidArgumentError } from './MediaErrors.js';
import type { MediaRoom } from './MediaRoom.js';
import type {
  AudioCodecName,
  LegGain,
  LegStats,
  MediaLegEvents,
  PlayOptions,
  RemoteEndpoint,
  RoomMembership,
  SendDigitsOptions,
} from './MediaTypes.js';
import type { NativeEngine, NativeEvent } from './native.js';
import type { Sound } from './Sound.js';

/** @internal What a leg needs from its engine. */
export interface MediaLegOwner {
  readonly native: NativeEngine;
  legClosed(leg: MediaLeg): void;
}

/** @internal */
export interface MediaLegInit {
  id: number;
  callId: string;
  codec: AudioCodecName;
  payloadType: number;
  telephoneEventPayloadType: number | undefined;
  localAddress: string;
  localPort: number;
  /** RTCP port (RTP port + 1); 0 with rtcp-mux. */
  localRtcpPort?: number;
  logger: Logger | undefined;
}

/**
 * One call leg: an RTP socket on the engine, a jitter buffer, a player and
 * DTMF detection (RFC 4733 events and in-band tones; either way the key's
 * audio is kept out of the room). Starts in the lobby (hears only its prompts,
 * still sends RTP every 20 ms once a remote is set); `join` puts it in a room.
 *
 * Events (see MediaLegEvents): `dtmf`, `playbackDone`, `rtpTimeout`,
 * `talkingStarted`, `talkingStopped`, `close`.
 *
 * Controls: `join`/`update` (speak = false: muted or listen-only, hear =
 * false: deaf, hears silence), `setGain` (in/out dB), `hold`/`unhold` (hears
 * looping music instead of the room, never mixed), `setSending` (no RTP out
 * while the phone holds the call).
 */
export class MediaLeg extends EventEmitter<MediaLegEvents> {
  readonly id: number;
  readonly callId: string;
  #codec: AudioCodecName;
  #payloadType: number;
  readonly telephoneEventPayloadType: number | undefined;
  /** Address and even port of the leg's RTP socket (put these in the SDP). */
  readonly localAddress: string;
  readonly localPort: number;
  /** RTCP port (localPort + 1, for an a=rtcp line), or 0 with rtcp-mux (RTCP on localPort). */
  readonly localRtcpPort: number;

  readonly #owner: MediaLegOwner;
  readonly #logger: Logger | undefined;
  #remote: RemoteEndpoint | undefined;
  #room: MediaRoom | undefined;
  #membership: RoomMembership | undefined;
  #playbackId: number | undefined;
  #gain: LegGain = { inDb: 0, outDb: 0 };
  #held = false;
  #sending = true;
  #talking = false;
  #whisperTargets: readonly MediaLeg[] = [];
  #closed = false;

  /** @internal Use MediaEngine.createLeg. */
  constructor(owner: MediaLegOwner, init: MediaLegInit) {
    super();
    this.#owner = owner;
    this.id = init.id;
    this.callId = init.callId;
    this.#codec = init.codec;
    this.#payloadType = init.payloadType;
    this.telephoneEventPayloadType = init.telephoneEventPayloadType;
    this.localAddress = init.localAddress;
    this.localPort = init.localPort;
    this.localRtcpPort = init.localRtcpPort ?? 0;
    this.#logger = init.logger;
  }

  /** The audio codec the leg sends and receives (setCodec changes it). */
  get codec(): AudioCodecName {
    return this.#codec;
  }

  /** RTP payload type of the codec, as negotiated. */
  get payloadType(): number {
    return this.#payloadType;
  }

  /**
   * Switches the leg to the codec a re-negotiation settled on (a re-INVITE,
   * or the answer to our offer). The room's rate follows (16 kHz while a
   * wideband leg is in it); the telephone-event payload type stays.
   */
  setCodec(codec: AudioCodecName, payloadType: number): void {
    this.#assertOpen();
    if (codec === this.#codec && payloadType === this.#payloadType) return;
    callNative(() => this.#owner.native.setCodec(this.id, codec, payloadType));
    this.#logger?.info({ from: this.#codec, to: codec, payloadType }, 'media leg codec changed');
    this.#codec = codec;
    this.#payloadType = payloadType;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get remote(): RemoteEndpoint | undefined {
    return this.#remote;
  }

  /** The room the leg is in; undefined in the lobby. */
  get room(): MediaRoom | undefined {
    return this.#room;
  }

  get membership(): RoomMembership | undefined {
    return this.#membership === undefined ? undefined : { ...this.#membership };
  }

  /** Current gains in dB. */
  get gain(): LegGain {
    return { ...this.#gain };
  }

  /** True between `hold()` and `unhold()`. */
  get held(): boolean {
    return this.#held;
  }

  /** False while RTP sending is suppressed (`setSending(false)`). */
  get sending(): boolean {
    return this.#sending;
  }

  /** Whether the leg is currently detected talking (per the last talking event). */
  get talking(): boolean {
    return this.#talking;
  }

  /** Id of the playback in progress, if any. */
  get playbackId(): number | undefined {
    return this.#playbackId;
  }

  /** Where to send RTP (and the only IP RTP is accepted from). */
  setRemote(remote: RemoteEndpoint): void {
    this.#assertOpen();
    callNative(() => this.#owner.native.setRemote(this.id, remote.address, remote.port));
    this.#remote = { address: remote.address, port: remote.port };
    this.#logger?.debug({ remote }, 'media leg remote set');
  }

  /**
   * Plays the sounds one after the other, replacing any current or queued
   * playback (whose `playbackDone` then reports `interrupted: true`), or with
   * `queue: true` after them. Prompts are mixed over what the leg hears from
   * its room. Returns the playback id carried by the matching `playbackDone`
   * event.
   */
  play(sounds: Sound | readonly Sound[], options: PlayOptions = {}): number {
    this.#assertOpen();
    const list = Array.isArray(sounds) ? (sounds as readonly Sound[]) : [sounds as Sound];
    const interruptible = options.interruptibleByDtmf ?? true;
    const queue = options.queue ?? false;
    const id = callNative(() =>
      this.#owner.native.play(
        this.id,
        list.map((s) => s.native),
        interruptible,
        queue,
      ),
    );
    this.#playbackId = id;
    this.#logger?.debug({ playbackId: id, sounds: list.map((s) => s.source), interruptible }, 'media play');
    return id;
  }

  /**
   * Sends `digits` (0-9 * # A-D, at most 32) to the remote as RFC 4733
   * telephone events on the negotiated payload type, e.g. to dial into an
   * IVR on an outbound call. Each key is held `durationMs`, keys are
   * `gapMs` apart; the event packets take the place of the leg's audio
   * packets meanwhile. A second call replaces a request still in progress.
   * Returns the request id carried by the matching `digitsSent` event.
   * Throws MediaInvalidArgumentError when no telephone-event PT was negotiated
   * or an argument is invalid.
   */
  sendDigits(digits: string, options: SendDigitsOptions = {}): number {
    this.#assertOpen();
    if (this.telephoneEventPayloadType === undefined) {
      throw new MediaInvalidArgumentError(`leg ${this.id} has no telephone-event payload type: it cannot send RFC 4733 digits`);
    }
    if (typeof digits !== 'string' || !/^[0-9*#A-D]{1,32}$/.test(digits)) {
      throw new MediaInvalidArgumentError('digits must be 1 to 32 keys among 0-9 * # A-D');
    }
    const durationMs = options.durationMs ?? 100;
    const gapMs = options.gapMs ?? 100;
    if (!Number.isInteger(durationMs) || durationMs < 40 || durationMs > 5000) {
      throw new MediaInvalidArgumentError('durationMs must be an integer within [40, 5000]');
    }
    if (!Number.isInteger(gapMs) || gapMs < 20 || gapMs > 5000) {
      throw new MediaInvalidArgumentError('gapMs must be an integer within [20, 5000]');
    }
    const id = callNative(() => this.#owner.native.sendDigits(this.id, digits, durationMs, gapMs));
    this.#logger?.debug({ requestId: id, digits, durationMs, gapMs }, 'media send digits');
    return id;
  }

  /** The legs this leg whispers to ([] when the room hears it). */
  get whisperTargets(): readonly MediaLeg[] {
    return this.#whisperTargets;
  }

  /**
   * Whisper (coaching, Q&A): from now on only `targets` (legs of the same
   * room, at most 16) hear this leg, over whatever they hear; the room's mix
   * and recording no longer contain it. The leg still hears the room.
   * `[]` (or `clearWhisper()`) puts it back in the room's mix.
   */
  setWhisperTargets(targets: readonly MediaLeg[]): void {
    this.#assertOpen();
    if (!Array.isArray(targets) || targets.length > 16) {
      throw new MediaInvalidArgumentError('whisper targets must be an array of at most 16 legs');
    }
    for (const t of targets) {
      if (t === this) throw new MediaInvalidArgumentError('a leg cannot whisper to itself');
      if (t.closed) throw new MediaClosedError(`whisper target leg ${t.id} (${t.callId}) is closed`);
    }
    const unique = [...new Set(targets)];
    callNative(() => this.#owner.native.setWhisper(this.id, unique.map((t) => t.id)));
    this.#whisperTargets = unique;
    this.#logger?.debug({ targets: unique.map((t) => t.callId) }, 'media leg whisper');
  }

  /** The room hears this leg again. */
  clearWhisper(): void {
    this.setWhisperTargets([]);
  }

  /** Stops the current playback and empties the queue (`playbackDone` with interrupted for each). */
  stopPlayback(): void {
    this.#assertOpen();
    callNative(() => this.#owner.native.stopPlayback(this.id));
  }

  /** Joins `room` (leaving any other room first). Default: speak and hear. */
  join(room: MediaRoom, membership: RoomMembership = { speak: true, hear: true }): void {
    this.#assertOpen();
    room.assertOpen();
    validateMembership(membership);
    callNative(() => this.#owner.native.join(this.id, room.id, membership.speak, membership.hear));
    if (this.#room !== undefined && this.#room !== room) this.#room.removeLeg(this);
    this.#room = room;
    this.#membership = { speak: membership.speak, hear: membership.hear };
    room.addLeg(this);
    this.#logger?.debug({ roomId: room.id, ...membership }, 'media leg joined room');
  }

  /** Changes speak/hear in the current room (mute, deaf, listener). */
  update(membership: Partial<RoomMembership>): void {
    this.#assertOpen();
    if (this.#room === undefined || this.#membership === undefined) {
      throw new MediaInvalidArgumentError(`leg ${this.id} is not in a room`);
    }
    const next = { ...this.#membership, ...membership };
    validateMembership(next);
    callNative(() => this.#owner.native.update(this.id, next.speak, next.hear));
    this.#membership = next;
  }

  /**
   * Sets the input gain (what the leg says, before talker detection and the
   * mix) and/or the output gain (everything the leg hears), in dB within
   * [-60, +24]. Omitted values keep their current setting.
   */
  setGain(gain: Partial<LegGain>): void {
    this.#assertOpen();
    const next = { ...this.#gain, ...gain };
    for (const v of [next.inDb, next.outDb]) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < -60 || v > 24) {
        throw new MediaInvalidArgumentError('gain must be a number of dB within [-60, 24]');
      }
    }
    callNative(() => this.#owner.native.setGain(this.id, next.inDb, next.outDb));
    this.#gain = next;
  }

  /**
   * Puts the leg on hold: it hears `music` looping (silence when undefined)
   * instead of the room, and never enters the mix, until `unhold()`. Its
   * room membership is kept; prompts still play over the music. Calling it
   * again replaces the music.
   */
  hold(music: Sound | readonly Sound[] | undefined): void {
    this.#assertOpen();
    const list = music === undefined ? [] : Array.isArray(music) ? (music as readonly Sound[]) : [music as Sound];
    callNative(() =>
      this.#owner.native.hold(
        this.id,
        list.map((s) => s.native),
      ),
    );
    this.#held = true;
    this.#logger?.debug({ music: list.map((s) => s.source) }, 'media leg held');
  }

  /** Ends `hold()`: the leg hears (and may speak to) its room again. No-op when not held. */
  unhold(): void {
    this.#assertOpen();
    if (!this.#held) return;
    callNative(() => this.#owner.native.unhold(this.id));
    this.#held = false;
    this.#logger?.debug('media leg unheld');
  }

  /**
   * Stops (false) or resumes (true) sending RTP to the remote, e.g. while
   * the phone has put the call on hold (SDP sendonly/inactive from the
   * phone). Receiving, mixing and DTMF are unaffected; RTP timestamps keep
   * running, and the first packet after resuming carries the marker bit.
   */
  setSending(sending: boolean): void {
    this.#assertOpen();
    if (typeof sending !== 'boolean') throw new MediaInvalidArgumentError('sending must be a boolean');
    callNative(() => this.#owner.native.setSending(this.id, sending));
    this.#sending = sending;
  }

  /** Back to the lobby. No-op when not in a room. */
  leave(): void {
    this.#assertOpen();
    if (this.#room === undefined) return;
    callNative(() => this.#owner.native.leave(this.id));
    this.#room.removeLeg(this);
    this.#room = undefined;
    this.#membership = undefined;
  }

  stats(): LegStats {
    this.#assertOpen();
    return callNative(() => this.#owner.native.legStats(this.id));
  }

  /** Closes the socket and frees the leg. Emits `close` once. */
  close(): void {
    if (this.#closed) return;
    try {
      this.#owner.native.closeLeg(this.id);
    } catch {
      // engine already closed: the native side is gone anyway
    }
    this.markClosed();
  }

  /** @internal */
  markClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#room?.removeLeg(this);
    this.#room = undefined;
    this.#membership = undefined;
    this.#owner.legClosed(this);
    this.#logger?.debug('media leg closed');
    this.emit('close');
    this.removeAllListeners();
  }

  /** @internal The leg's room was closed: it is back in the lobby. */
  roomClosed(room: MediaRoom): void {
    if (this.#room !== room) return;
    this.#room = undefined;
    this.#membership = undefined;
  }

  /** @internal Dispatches one event from the mixer. */
  handleNativeEvent(ev: NativeEvent): void {
    if (this.#closed) return;
    switch (ev.type) {
      case 'dtmf':
        this.#logger?.debug({ digit: ev.digit, source: ev.source, durationMs: ev.durationMs }, 'dtmf');
        this.emit('dtmf', { digit: ev.digit, source: ev.source, durationMs: ev.durationMs });
        break;
      case 'playbackDone':
        if (this.#playbackId === ev.playbackId) this.#playbackId = undefined;
        this.emit('playbackDone', { playbackId: ev.playbackId, interrupted: ev.interrupted });
        break;
      case 'digitsSent':
        this.emit('digitsSent', { requestId: ev.requestId, interrupted: ev.interrupted });
        break;
      case 'rtpTimeout':
        this.#logger?.warn('rtp timeout');
        this.emit('rtpTimeout');
        break;
      case 'talking':
        this.#talking = ev.talking;
        if (ev.talking) this.emit('talkingStarted', { energy: ev.energy });
        else this.emit('talkingStopped', { energy: ev.energy });
        break;
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new MediaClosedError(`leg ${this.id} (${this.callId}) is closed`);
  }
}

function validateMembership(m: RoomMembership): void {
  if (typeof m.speak !== 'boolean' || typeof m.hear !== 'boolean') {
    throw new MediaInvalidArgumentError('membership needs boolean speak and hear');
  }
}

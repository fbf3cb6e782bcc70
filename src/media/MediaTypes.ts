/**
 * Public types of the media plane. Everything outside `src/media` reaches the
 * native engine through `MediaEngine`, `MediaLeg` and `MediaRoom` only.
 *
 * Ownership: MediaEngine → MediaLeg, MediaEngine → MediaRoom. A leg joins at
 * most one room at a time; closing a room returns its legs to the lobby (they
 * keep playing prompts and detecting DTMF), closing the engine closes all.
 */
import type { Logger } from '../log.js';

export type AudioCodecName = 'PCMU' | 'PCMA';

export interface MediaEngineOptions {
  /** Address the RTP sockets bind to, e.g. 127.0.0.1 or 0.0.0.0. */
  bindAddress: string;
  /** Inclusive UDP port range for RTP sockets; even ports are used. */
  rtpPortMin: number;
  rtpPortMax: number;
  /** Mixer threads; default 1. Rooms are spread across them. */
  workerThreads?: number;
  /** A leg that received RTP once and then nothing for this long is reported (`rtpTimeout`). Default 30000. */
  rtpTimeoutMs?: number;
  logger?: Logger;
}

export interface RemoteEndpoint {
  address: string;
  port: number;
}

export interface MediaLegOptions {
  /** SIP Call-ID (or another id) carried on every log line and event of the leg. */
  callId: string;
  codec: AudioCodecName;
  /** RTP payload type of the audio codec as negotiated (0 for PCMU, 8 for PCMA usually). */
  payloadType: number;
  /** Negotiated RFC 4733 payload type; undefined when the peer offered none. */
  telephoneEventPayloadType?: number;
  /** Where to send RTP; may be set later with `setRemote`. */
  remote?: RemoteEndpoint;
}

export type DtmfSource = 'rfc4733' | 'inband' | 'sip-info';

export interface DtmfEvent {
  /** One of 0-9 * # A-D. */
  digit: string;
  source: DtmfSource;
  /** Duration of the key press where the source tells it, else 0. */
  durationMs: number;
}

export interface PlaybackDoneEvent {
  playbackId: number;
  /** True when stopped by DTMF, by `stopPlayback()` or by a newer `play()`. */
  interrupted: boolean;
}

export interface PlayOptions {
  /** A DTMF digit on the leg stops the playback (type-ahead). Default true. */
  interruptibleByDtmf?: boolean;
}

export interface ToneSpec {
  /** One or two frequencies in Hz, mixed. */
  frequencies: number[];
  durationMs: number;
  /** Level of each frequency in dBFS (negative). Default -12. */
  levelDbfs?: number;
}

export interface RoomMembership {
  /** The leg's audio enters the room's mix. False for listeners and muted legs. */
  speak: boolean;
  /** The leg receives the room's mix. False for deaf legs. */
  hear: boolean;
}

export interface LegStats {
  packetsReceived: number;
  packetsSent: number;
  /** Packets dropped as not RTP, wrong version, truncated or inconsistent lengths. */
  packetsMalformed: number;
  /** Packets from an address other than the leg's remote. */
  packetsFromStrangers: number;
  /** RTP with a payload type that is neither the codec nor telephone-event. */
  packetsUnknownPayload: number;
  /** Frames the jitter buffer had to conceal because their packet never arrived in time. */
  framesConcealed: number;
  dtmfEvents: number;
}

export interface MediaEngineStats {
  legs: number;
  rooms: number;
  ticks: number;
  /** Ticks that started more than one frame late. */
  lateTicks: number;
  packetsReceived: number;
  packetsSent: number;
  packetsMalformed: number;
  packetsFromStrangers: number;
  packetsUnknownPayload: number;
}

export interface MediaLegEvents {
  dtmf: [DtmfEvent];
  playbackDone: [PlaybackDoneEvent];
  /** RTP stopped arriving for `rtpTimeoutMs`. Reported once until RTP resumes. */
  rtpTimeout: [];
  close: [];
}

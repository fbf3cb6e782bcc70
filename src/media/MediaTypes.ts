/**
 * Public types of the media plane. Everything outside `src/media` reaches the
 * native engine through `MediaEngine`, `MediaLeg` and `MediaRoom` only.
 *
 * Ownership: MediaEngine → MediaLeg, MediaEngine → MediaRoom. A leg joins at
 * most one room at a time; closing a room returns its legs to the lobby (they
 * keep playing prompts and detecting DTMF), closing the engine closes all.
 */
import type { Logger } from '../log.js';

export type AudioCodecName = 'PCMU' | 'PCMA' | 'G722' | 'opus';

/** An audio codec the engine can run on a leg (see SUPPORTED_CODECS). */
export interface SupportedCodec {
  name: AudioCodecName;
  /** Payload type we offer: RTP/AVP's static one (RFC 3551), or our dynamic choice for Opus. */
  payloadType: number;
  /** RTP clock rate, as written in SDP a=rtpmap (8000 for G722 too, RFC 3551 4.5.2; 48000 for Opus). */
  clockRate: number;
  /** Channels written in a=rtpmap when not 1 (opus/48000/2, RFC 7587; we send and decode mono). */
  channels?: number;
  /** Audio sample rate the engine runs the leg at (rooms mix at their widest leg's rate). */
  sampleRate: number;
}

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
  /**
   * Default number of talkers mixed per room (the loudest ones, among legs
   * that speak and are detected talking); everyone else hears one shared mix.
   * 1..32, default 4. Per room: `createRoom({ maxTalkers })`.
   */
  maxTalkers?: number;
  /** RTCP sender/receiver report interval per leg (randomized 0.5-1.5x, RFC 3550); 0 sends none. Default 5000. */
  rtcpIntervalMs?: number;
  logger?: Logger;
}

export interface MediaRoomOptions {
  /** Loudest talkers mixed in this room, 1..32. Default: the engine's `maxTalkers`. */
  maxTalkers?: number;
}

/** Per-leg gains in dB (0 = unity), each within [-60, +24]. */
export interface LegGain {
  /** Applied to what the leg says (before talker detection and mixing). */
  inDb: number;
  /** Applied to everything the leg hears (room, prompts, hold music). */
  outDb: number;
}

export interface TalkingEvent {
  /**
   * Level of the frame that started / ended the talk spurt, in dB relative
   * to full scale (frame RMS; 0 dB = RMS 32767, a full-scale sine is -3 dB).
   * Talking starts on a frame at or above -38 dB and stops after 400 ms of
   * frames below -46 dB.
   */
  energy: number;
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
  /**
   * RTCP on the RTP port (RFC 5761), when the peer offered a=rtcp-mux.
   * Otherwise the leg also binds the next port (RTP port + 1) for RTCP and
   * sends its reports to the remote's port + 1.
   */
  rtcpMux?: boolean;
}

export type DtmfSource = 'rfc4733' | 'inband' | 'sip-info';

export interface DtmfEvent {
  /** One of 0-9 * # A-D. */
  digit: string;
  source: DtmfSource;
  /** Duration of the key press where the source tells it, else 0. */
  durationMs: number;
}

export interface RecordingOptions {
  /** Path of the WAV file for the room's mix (created or truncated now). */
  mixFile: string;
  /** When set, each leg that speaks in the room gets trackDirectory/leg-<legId>.wav. */
  trackDirectory?: string;
  /** 8000 or 16000 (default): the files' rate, whatever the room mixes at. */
  sampleRate?: 8000 | 16000;
}

export interface RecordingDoneEvent {
  mixFile: string;
  /** Length of every file (tracks are padded with silence to line up with the mix). */
  durationMs: number;
  /** 20 ms frames the writer could not keep up with (written as silence). */
  framesDropped: number;
  tracks: Array<{ legId: number; callId: string | undefined; file: string }>;
}

export interface SendDigitsOptions {
  /** How long each key is held, in ms (40..5000, rounded to 20 ms). Default 100. */
  durationMs?: number;
  /** Silence between keys, in ms (20..5000, rounded to 20 ms). Default 100. */
  gapMs?: number;
}

export interface DigitsSentEvent {
  requestId: number;
  /** True when a newer `sendDigits` replaced this one before it finished. */
  interrupted: boolean;
}

export interface PlaybackDoneEvent {
  playbackId: number;
  /** True when stopped by DTMF, by `stopPlayback()` or by a newer `play()`. */
  interrupted: boolean;
}

export interface PlayOptions {
  /**
   * A DTMF digit on the leg stops the playback, and the interruptible ones
   * queued after it (type-ahead). Default true.
   */
  interruptibleByDtmf?: boolean;
  /**
   * true: play after the current playback and those already queued; false
   * (default): replace them (their playbackDone report interrupted).
   */
  queue?: boolean;
}

export interface RoomPlayOptions {
  /** As PlayOptions.queue. Announcements are not interrupted by DTMF; use `stopPlayback()`. */
  queue?: boolean;
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
  /** Key presses dropped by the per-leg DTMF rate limit (about 20 per second, bursts of 10). */
  dtmfSuppressed: number;
  /** Of dtmfEvents, the presses detected as tones in the audio (source 'inband'). */
  dtmfInband: number;
  /** 20 ms frames of the leg's audio kept out of the room because they carried (or surrounded) a key press. */
  framesDtmfGated: number;
  /** Audio the jitter buffer held when it played the last frame (that frame included): the delay it adds now. */
  jitterBufferMs: number;
  /** Delay the adaptive jitter buffer aims for beyond the fastest packets' transit; follows measured arrival jitter. */
  jitterTargetMs: number;
  /** 20 ms frames the jitter buffer inserted (delay grew: jitter rose, or the sender's clock is slow). */
  jitterFramesInserted: number;
  /** 20 ms frames the jitter buffer skipped (delay shrank: jitter fell, or the sender's clock is fast). */
  jitterFramesDropped: number;
  /** Audio packets that arrived after their time had been played. */
  packetsLate: number;
  /** RTP bytes (headers included). */
  bytesReceived: number;
  bytesSent: number;
  /** RFC 3550 cumulative loss of the remote's audio stream (expected - received; duplicates can make it negative). */
  packetsLost: number;
  /** Fraction (0-1) of the remote's packets lost over the interval of our last RTCP report. */
  fractionLost: number;
  /** RFC 3550 interarrival jitter of the remote's stream, from kernel receive times. */
  jitterMs: number;
  rtcpSent: number;
  rtcpReceived: number;
  /** RTCP datagrams that failed RFC 3550 validation; dropped. */
  rtcpMalformed: number;
  /** What the peer's last report says about our stream. */
  remotePacketsLost: number;
  remoteFractionLost: number;
  remoteJitterMs: number;
  /** Round-trip time from the peer's report on our last SR (LSR/DLSR); null until one arrived. */
  rttMs: number | null;
}

/** Histogram of tick lateness (tick start minus its scheduled time). */
export interface TickLatenessHistogram {
  /** Bucket width in µs: counts[i] holds ticks [i*bucketUs, (i+1)*bucketUs) late. */
  bucketUs: 100;
  /**
   * 201 entries: 200 buckets, then one overflow bucket (>= 20 ms late, and
   * ticks skipped beyond the catch-up limit). Cumulative since the engine
   * started, summed over workers: diff two samples for a window.
   */
  counts: number[];
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
  /** Notifications (dtmf, talking, rtpTimeout) lost because JS did not drain events in time. */
  eventsDropped: number;
  tickLatenessHistogramUs: TickLatenessHistogram;
}

export interface MediaLegEvents {
  dtmf: [DtmfEvent];
  playbackDone: [PlaybackDoneEvent];
  /** The last end packet of a `sendDigits` request went out (or it was replaced). */
  digitsSent: [DigitsSentEvent];
  /** RTP stopped arriving for `rtpTimeoutMs`. Reported once until RTP resumes. */
  rtpTimeout: [];
  /** The leg started talking (energy detection with hysteresis; fires whether or not it speaks in a room). */
  talkingStarted: [TalkingEvent];
  /** The leg stopped talking (after 400 ms of quiet). */
  talkingStopped: [TalkingEvent];
  close: [];
}

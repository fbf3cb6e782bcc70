/**
 * The read-only `media` object of a Call: what the media engine measures
 * on the call's RTP (our receive side and, from RTCP, the peer's view of
 * what we send). Not part of seed 004; an addition named in its style.
 */
import type { LegStats } from '../media/MediaTypes.js';

export interface CallMedia {
  codec: string;
  packetsReceived: number;
  packetsSent: number;
  bytesReceived: number;
  bytesSent: number;
  /** RFC 3550 cumulative loss of the caller's stream (never below 0 here). */
  packetsLost: number;
  /** Loss over the interval of our last RTCP report, 0-1. */
  fractionLost: number;
  /** RFC 3550 interarrival jitter of the caller's stream. */
  jitterMs: number;
  /** Round trip from the peer's RTCP report on our sender report; null until one came. */
  rttMs: number | null;
  /** Frames the jitter buffer filled in for packets that never came in time. */
  framesConcealed: number;
  rtcpReceived: number;
  /** The peer's last RTCP report about our stream (0 until one came). */
  remotePacketsLost: number;
  remoteFractionLost: number;
  remoteJitterMs: number;
}

/** Millisecond figures to 0.1 ms, fractions to 0.0001: more digits only look precise. */
const ms = (value: number): number => Math.round(value * 10) / 10;
const fraction = (value: number): number => Math.round(value * 10_000) / 10_000;

export function callMediaOut(codec: string, stats: LegStats | undefined): CallMedia {
  return {
    codec,
    packetsReceived: stats?.packetsReceived ?? 0,
    packetsSent: stats?.packetsSent ?? 0,
    bytesReceived: stats?.bytesReceived ?? 0,
    bytesSent: stats?.bytesSent ?? 0,
    packetsLost: Math.max(0, stats?.packetsLost ?? 0),
    fractionLost: fraction(stats?.fractionLost ?? 0),
    jitterMs: ms(stats?.jitterMs ?? 0),
    rttMs: stats?.rttMs == null ? null : ms(stats.rttMs),
    framesConcealed: stats?.framesConcealed ?? 0,
    rtcpReceived: stats?.rtcpReceived ?? 0,
    remotePacketsLost: Math.max(0, stats?.remotePacketsLost ?? 0),
    remoteFractionLost: fraction(stats?.remoteFractionLost ?? 0),
    remoteJitterMs: ms(stats?.remoteJitterMs ?? 0),
  };
}

/**
 * The Prometheus page's per-leg quality figures from given leg stats: sums
 * over the live legs, nearest-rank quantiles, NaN quantiles with no legs,
 * RTT only over legs that have one, and no label that could name a call.
 */
import { describe, expect, it } from 'vitest';
import { renderMetrics, type MetricsSources } from '../../../src/api/MetricsPage.js';
import type { LegStats, MediaEngineStats } from '../../../src/media/MediaTypes.js';
import { parseMetrics } from '../../support/prometheus.js';

const engine: MediaEngineStats = {
  legs: 0, rooms: 0, ticks: 10, lateTicks: 0, packetsReceived: 0, packetsSent: 0, packetsMalformed: 0,
  packetsFromStrangers: 0, packetsUnknownPayload: 0, eventsDropped: 0,
  tickLatenessHistogramUs: { bucketUs: 100, counts: [10, ...new Array<number>(200).fill(0)] },
};

function leg(over: Partial<LegStats>): LegStats {
  return {
    packetsReceived: 0, packetsSent: 0, packetsMalformed: 0, packetsFromStrangers: 0, packetsUnknownPayload: 0, framesConcealed: 0,
    dtmfEvents: 0, dtmfSuppressed: 0, dtmfInband: 0, framesDtmfGated: 0, jitterBufferMs: 0, jitterTargetMs: 0, jitterFramesInserted: 0,
    jitterFramesDropped: 0, packetsLate: 0, bytesReceived: 0, bytesSent: 0, packetsLost: 0, fractionLost: 0, jitterMs: 0, rtcpSent: 0,
    rtcpReceived: 0, rtcpMalformed: 0, remotePacketsLost: 0, remoteFractionLost: 0, remoteJitterMs: 0, rttMs: null, ...over,
  };
}

function page(legs: LegStats[]): Map<string, number> {
  const sources: MetricsSources = {
    meetings: () => ({ meetings: 1, participants: legs.length }),
    media: () => engine,
    legs: () => legs,
    calls: () => ({ total: 0, perSecond: 0 }),
  };
  return parseMetrics(renderMetrics(sources));
}

describe('renderMetrics leg quality', () => {
  it('sums loss over the legs and gives nearest-rank quantiles of jitter, fraction lost and RTT', () => {
    const jitters = [1, 2, 3, 4, 5, 6, 7, 8, 9, 40];
    const legs = jitters.map((j, i) =>
      leg({ jitterMs: j, packetsReceived: 90, packetsLost: i === 0 ? -2 : 1, remotePacketsLost: 2, fractionLost: i / 100, rttMs: i < 4 ? 100 * (i + 1) : null }),
    );
    const m = page(legs);
    expect(m.get('bridge_meeting_legs')).toBe(10);
    // A negative count (duplicates) takes nothing off the others.
    expect(m.get('bridge_meeting_rtp_packets_lost')).toBe(9);
    expect(m.get('bridge_meeting_rtp_loss_ratio')).toBeCloseTo(9 / 909, 6);
    expect(m.get('bridge_meeting_remote_packets_lost')).toBe(20);
    expect(m.get('bridge_meeting_jitter_seconds{quantile="0.5"}')).toBe(0.005);
    expect(m.get('bridge_meeting_jitter_seconds{quantile="0.9"}')).toBe(0.009);
    expect(m.get('bridge_meeting_jitter_seconds{quantile="0.99"}')).toBe(0.04);
    expect(m.get('bridge_meeting_jitter_seconds_count')).toBe(10);
    expect(m.get('bridge_meeting_jitter_seconds_sum')).toBeCloseTo(0.085, 6);
    expect(m.get('bridge_meeting_rtp_fraction_lost{quantile="0.99"}')).toBe(0.09);
    // Only the four legs with a round trip count.
    expect(m.get('bridge_meeting_rtt_seconds_count')).toBe(4);
    expect(m.get('bridge_meeting_rtt_seconds{quantile="0.5"}')).toBe(0.2);
    expect(m.get('bridge_meeting_rtt_seconds{quantile="0.99"}')).toBe(0.4);
  });

  it('answers NaN quantiles and zero counts without legs', () => {
    const m = page([]);
    expect(m.get('bridge_meeting_jitter_seconds{quantile="0.5"}')).toBeNaN();
    expect(m.get('bridge_meeting_rtt_seconds_count')).toBe(0);
    expect(m.get('bridge_meeting_rtp_loss_ratio')).toBe(0);
    expect(m.get('bridge_meeting_packet_loss_ratio')).toBe(0);
  });
});

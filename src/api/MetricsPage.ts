/**
 * `/metrics` in the Prometheus text exposition format (version 0.0.4). The
 * numbers come from read-only providers that Application passes in, so the
 * API reaches neither SIP nor media directly.
 */
import type { LegStats, MediaEngineStats } from '../media/MediaTypes.js';

export interface MetricsSources {
  meetings(): { meetings: number; participants: number };
  media(): MediaEngineStats;
  /** The RTP/RTCP figures of each leg now in a meeting (read once per scrape). */
  legs(): LegStats[];
  calls(): { total: number; perSecond: number };
  /** Calls answered but not in a meeting yet (greeting, access code, PIN). */
  callsInIvr?: () => number;
  webhooks?: () => { delivered: number; failedAttempts: number; givenUp: number; dropped: number; refused: number; queued: number };
  feedClients?: () => number;
}

type Kind = 'gauge' | 'counter' | 'histogram' | 'summary';

/** Quantiles of the per-leg summaries. */
const QUANTILES = [0.5, 0.9, 0.99];

/** `/metrics` in the OpenAPI document. */
export const METRICS_OPENAPI_PATH = {
  '/metrics': {
    get: {
      summary: 'Prometheus metrics (text format 0.0.4); administrators and operators',
      tags: ['Operations'],
      operationId: 'getMetrics',
      'x-roles': ['administrator', 'operator'],
      responses: {
        '200': { description: 'The metrics', content: { 'text/plain': { schema: { type: 'string' } } } },
        '401': { description: 'Authentication required or bad credentials' },
        '403': { description: 'Users may not read the metrics' },
      },
    },
  },
};

/** Tick lateness bucket bounds, seconds (Prometheus `le`), from the engine's 100 µs buckets. */
const LATENESS_BOUNDS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02];

export function renderMetrics(sources: MetricsSources): string {
  const lines: string[] = [];
  const metric = (name: string, kind: Kind, help: string, value: number): void => {
    lines.push(...header(name, kind, help), `${name} ${format(value)}`);
  };
  const { meetings, participants } = sources.meetings();
  metric('bridge_meetings', 'gauge', 'Live meetings.', meetings);
  metric('bridge_participants', 'gauge', 'Participants in live meetings.', participants);
  const calls = sources.calls();
  metric('bridge_calls_total', 'counter', 'Inbound calls offered to the bridge since start.', calls.total);
  metric('bridge_calls_per_second', 'gauge', 'Inbound calls per second over the last minute.', calls.perSecond);
  if (sources.callsInIvr) metric('bridge_calls_in_ivr', 'gauge', 'Answered calls not yet in a meeting.', sources.callsInIvr());

  const media = sources.media();
  metric('bridge_media_legs', 'gauge', 'Media legs (RTP sockets) open.', media.legs);
  metric('bridge_media_rooms', 'gauge', 'Mixing rooms open.', media.rooms);
  metric('bridge_rtp_packets_received_total', 'counter', 'RTP packets received.', media.packetsReceived);
  metric('bridge_rtp_packets_sent_total', 'counter', 'RTP packets sent.', media.packetsSent);
  metric('bridge_rtp_packets_malformed_total', 'counter', 'Packets dropped as malformed.', media.packetsMalformed);
  metric('bridge_rtp_packets_from_strangers_total', 'counter', 'Packets from addresses other than the leg\'s remote.', media.packetsFromStrangers);
  metric('bridge_rtp_packets_unknown_payload_total', 'counter', 'RTP packets with an unexpected payload type.', media.packetsUnknownPayload);
  metric('bridge_media_events_dropped_total', 'counter', 'Media notifications lost because they were not drained in time.', media.eventsDropped);
  metric('bridge_mixer_ticks_total', 'counter', 'Mixer ticks (20 ms each) run.', media.ticks);
  metric('bridge_mixer_late_ticks_total', 'counter', 'Mixer ticks that started more than one frame late.', media.lateTicks);
  lines.push(...latenessHistogram(media.tickLatenessHistogramUs.counts, media.tickLatenessHistogramUs.bucketUs));

  const legs = sources.legs();
  const sum = (pick: (leg: LegStats) => number): number => legs.reduce((n, leg) => n + pick(leg), 0);
  const received = sum((l) => l.packetsReceived);
  const concealed = sum((l) => l.framesConcealed);
  // Duplicates can make RFC 3550's cumulative loss negative; no leg takes loss away from another.
  const lost = sum((l) => Math.max(0, l.packetsLost));
  metric('bridge_meeting_legs', 'gauge', 'Legs of participants in meetings (the ones the loss figures cover).', legs.length);
  metric('bridge_meeting_rtp_packets_received', 'gauge', 'RTP packets received by the legs now in meetings.', received);
  metric('bridge_meeting_frames_concealed', 'gauge', 'Frames concealed (packet lost or late) on the legs now in meetings.', concealed);
  metric('bridge_meeting_packet_loss_ratio', 'gauge', 'Concealed frames over all frames, legs now in meetings.', received + concealed === 0 ? 0 : concealed / (received + concealed));
  metric('bridge_meeting_rtp_packets_lost', 'gauge', 'RTP packets lost on the way in (RFC 3550 cumulative), legs now in meetings.', lost);
  metric('bridge_meeting_rtp_loss_ratio', 'gauge', 'RTP packets lost over packets expected (RFC 3550), legs now in meetings.', received + lost === 0 ? 0 : lost / (received + lost));
  metric('bridge_meeting_remote_packets_lost', 'gauge', 'Packets of the bridge the peers report lost (RTCP), legs now in meetings.', sum((l) => Math.max(0, l.remotePacketsLost)));
  lines.push(
    ...legSummary('bridge_meeting_rtp_fraction_lost', 'Per-leg fraction of RTP lost over the last RTCP interval (0-1), legs now in meetings.', legs.map((l) => l.fractionLost)),
    ...legSummary('bridge_meeting_jitter_seconds', 'Per-leg RTP interarrival jitter (RFC 3550), legs now in meetings.', legs.map((l) => l.jitterMs / 1000)),
    ...legSummary(
      'bridge_meeting_rtt_seconds',
      'Per-leg round-trip time from RTCP, legs now in meetings that have one.',
      legs.flatMap((l) => (l.rttMs === null ? [] : [l.rttMs / 1000])),
    ),
  );

  const webhooks = sources.webhooks?.();
  if (webhooks) {
    metric('bridge_webhooks_delivered_total', 'counter', 'Webhook posts answered 2xx.', webhooks.delivered);
    metric('bridge_webhooks_failed_attempts_total', 'counter', 'Webhook posts that failed.', webhooks.failedAttempts);
    metric('bridge_webhooks_given_up_total', 'counter', 'Webhook events given up.', webhooks.givenUp);
    metric('bridge_webhooks_dropped_total', 'counter', 'Webhook events dropped from a full queue.', webhooks.dropped);
    metric('bridge_webhooks_refused_total', 'counter', 'Webhook events dropped because the callback resolved to a refused address.', webhooks.refused);
    metric('bridge_webhooks_queued', 'gauge', 'Webhook events waiting.', webhooks.queued);
  }
  if (sources.feedClients) metric('bridge_event_feed_clients', 'gauge', 'Connected WebSocket event feed clients.', sources.feedClients());
  return `${lines.join('\n')}\n`;
}

/**
 * A summary over the legs live at this scrape (one observation per leg):
 * quantiles by nearest rank, `_count` the number of legs, `_sum` their
 * total. It is a snapshot, not a running total, so read the quantiles
 * rather than `rate()` of `_sum`; no label names a call, so the series
 * stay few whatever the traffic.
 */
function legSummary(name: string, help: string, values: number[]): string[] {
  const out = header(name, 'summary', help);
  const sorted = [...values].sort((a, b) => a - b);
  for (const q of QUANTILES) {
    const value = sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
    out.push(`${name}{quantile="${q}"} ${format(value)}`);
  }
  out.push(`${name}_sum ${format(sorted.reduce((a, b) => a + b, 0))}`, `${name}_count ${sorted.length}`);
  return out;
}

/**
 * The engine's fixed 100 µs buckets folded into a few Prometheus buckets.
 * The engine keeps no sum, so `_sum` is estimated from bucket midpoints
 * (the overflow bucket counts as 20 ms).
 */
function latenessHistogram(counts: number[], bucketUs: number): string[] {
  const name = 'bridge_mixer_tick_lateness_seconds';
  const out = header(name, 'histogram', 'How late mixer ticks started (sum estimated from bucket midpoints).');
  const finite = counts.slice(0, -1);
  let sum = 0;
  finite.forEach((n, i) => (sum += n * ((i + 0.5) * bucketUs) / 1e6));
  sum += (counts[counts.length - 1] ?? 0) * 0.02;
  for (const bound of LATENESS_BOUNDS) {
    // Bucket i holds [i, i+1) * bucketUs: all of it is <= bound when (i+1) * bucketUs <= bound.
    const upTo = Math.floor((bound * 1e6) / bucketUs);
    let n = 0;
    for (let i = 0; i < Math.min(upTo, finite.length); i++) n += finite[i]!;
    out.push(`${name}_bucket{le="${bound}"} ${n}`);
  }
  const total = counts.reduce((a, b) => a + b, 0);
  out.push(`${name}_bucket{le="+Inf"} ${total}`, `${name}_sum ${format(sum)}`, `${name}_count ${total}`);
  return out;
}

/** The lines that introduce a metric family. */
function header(name: string, kind: Kind, help: string): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${kind}`];
}

function format(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  return Number.isInteger(value) ? String(value) : value.toPrecision(6);
}

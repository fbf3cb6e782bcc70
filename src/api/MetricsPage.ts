/**
 * `/metrics` in the Prometheus text exposition format (version 0.0.4). The
 * numbers come from read-only providers that Application passes in, so the
 * API reaches neither SIP nor media directly.
 */
import type { MediaEngineStats } from '../media/MediaTypes.js';

/** What live legs report about their RTP, summed over the legs in meetings. */
export interface LegTotals {
  legs: number;
  packetsReceived: number;
  /** Frames the jitter buffers filled in because their packet never came: the loss the callers heard. */
  framesConcealed: number;
  /** Mean interarrival jitter in ms, when the media engine reports it. */
  jitterMs?: number;
}

export interface MetricsSources {
  meetings(): { meetings: number; participants: number };
  media(): MediaEngineStats;
  legs(): LegTotals;
  calls(): { total: number; perSecond: number };
  /** Calls answered but not in a meeting yet (greeting, access code, PIN). */
  callsInIvr?: () => number;
  webhooks?: () => { delivered: number; failedAttempts: number; givenUp: number; dropped: number; queued: number };
  feedClients?: () => number;
}

type Kind = 'gauge' | 'counter' | 'histogram';

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
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${kind}`, `${name} ${format(value)}`);
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
  metric('bridge_meeting_legs', 'gauge', 'Legs of participants in meetings (the ones the loss figures cover).', legs.legs);
  metric('bridge_meeting_rtp_packets_received', 'gauge', 'RTP packets received by the legs now in meetings.', legs.packetsReceived);
  metric('bridge_meeting_frames_concealed', 'gauge', 'Frames concealed (packet lost or late) on the legs now in meetings.', legs.framesConcealed);
  const frames = legs.packetsReceived + legs.framesConcealed;
  metric('bridge_meeting_packet_loss_ratio', 'gauge', 'Concealed frames over all frames, legs now in meetings.', frames === 0 ? 0 : legs.framesConcealed / frames);
  if (legs.jitterMs !== undefined) metric('bridge_meeting_jitter_seconds', 'gauge', 'Mean RTP interarrival jitter, legs now in meetings.', legs.jitterMs / 1000);

  const webhooks = sources.webhooks?.();
  if (webhooks) {
    metric('bridge_webhooks_delivered_total', 'counter', 'Webhook posts answered 2xx.', webhooks.delivered);
    metric('bridge_webhooks_failed_attempts_total', 'counter', 'Webhook posts that failed.', webhooks.failedAttempts);
    metric('bridge_webhooks_given_up_total', 'counter', 'Webhook events given up.', webhooks.givenUp);
    metric('bridge_webhooks_dropped_total', 'counter', 'Webhook events dropped from a full queue.', webhooks.dropped);
    metric('bridge_webhooks_queued', 'gauge', 'Webhook events waiting.', webhooks.queued);
  }
  if (sources.feedClients) metric('bridge_event_feed_clients', 'gauge', 'Connected WebSocket event feed clients.', sources.feedClients());
  return `${lines.join('\n')}\n`;
}

/**
 * The engine's fixed 100 µs buckets folded into a few Prometheus buckets.
 * The engine keeps no sum, so `_sum` is estimated from bucket midpoints
 * (the overflow bucket counts as 20 ms).
 */
function latenessHistogram(counts: number[], bucketUs: number): string[] {
  const name = 'bridge_mixer_tick_lateness_seconds';
  const out = [`# HELP ${name} How late mixer ticks started (sum estimated from bucket midpoints).`, `# TYPE ${name} histogram`];
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

function format(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  return Number.isInteger(value) ? String(value) : value.toPrecision(6);
}

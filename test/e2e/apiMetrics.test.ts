/**
 * /metrics against a running server with a real sipp caller in a meeting:
 * Prometheus text format (HELP and TYPE for every family, valid sample
 * lines, a cumulative histogram), the live counts (meeting, participant,
 * legs, calls, RTP received) and the auth rule (administrators and
 * operators; users 403; no credentials 401).
 */
import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { RtpSink } from '../support/rtpSink.js';
import { runCaller } from '../support/sipp.js';
import { apiHarness } from '../support/apiHarness.js';
import { sleep, waitFor } from '../support/wait.js';
import { parseMetrics as parse } from '../support/prometheus.js';

const PORTS = { sip: 25840, http: 25940, rtpMin: 24750, rtpMax: 24799 };
const ADMIN: [string, string] = ['admin', 'metrics-test-password'];
const h = apiHarness({ ports: PORTS, adminPassword: ADMIN[1] });

function getMetrics(auth: [string, string] | null): Promise<{ status: number; type: string; text: string }> {
  const headers: Record<string, string> = auth ? { Authorization: `Basic ${Buffer.from(auth.join(':')).toString('base64')}` } : {};
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: PORTS.http, path: '/metrics', headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('/metrics', () => {
  it('refuses missing credentials and users', async () => {
    const anonymous = await getMetrics(null);
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.text).errors[0].field).toBe('cause');
    const user = await h.api('POST', '/conference/v1/subscribers', { body: { login: 'mia', password: 'mia-password', role: 3 } });
    expect(user.status).toBe(200);
    expect((await getMetrics(['mia', 'mia-password'])).status).toBe(403);
    const operator = await h.api('POST', '/conference/v1/subscribers', { body: { login: 'otto', password: 'otto-password', role: 2 } });
    expect(operator.status).toBe(200);
    expect((await getMetrics(['otto', 'otto-password'])).status).toBe(200);
  });

  it('reports the live meeting, its call and its RTP in Prometheus text format', async () => {
    const before = parse((await getMetrics(ADMIN)).text);
    expect(before.get('bridge_meetings')).toBe(0);
    const sink = await RtpSink.open(24806);
    const run = runCaller(
      {
        dialed: '15550100',
        rtpPort: sink.port,
        steps: [
          { kind: 'pause', ms: 500 },
          { kind: 'pcap', path: h.media.digits('max', '2222#') },
          { kind: 'pause', ms: 1000 },
          { kind: 'stream', path: h.media.tone('max', 600) },
          { kind: 'expectBye', timeoutMs: 60_000 },
        ],
      },
      { serverPort: PORTS.sip, sipPort: 25841, mediaPort: 24530, timeoutSeconds: 90 },
    );
    try {
      await waitFor(() => h.server.app.conferenceManager.getMeeting(1000)?.participants.length === 1, 20_000, 'the caller in meeting 1000', [run]);
      await sleep(1500); // some of the tone's RTP reaches the leg
      const page = await getMetrics(ADMIN);
      expect(page.status).toBe(200);
      expect(page.type).toBe('text/plain; version=0.0.4; charset=utf-8');
      const m = parse(page.text);
      expect(m.get('bridge_meetings')).toBe(1);
      expect(m.get('bridge_participants')).toBe(1);
      expect(m.get('bridge_meeting_legs')).toBe(1);
      expect(m.get('bridge_media_legs')).toBeGreaterThanOrEqual(1);
      expect(m.get('bridge_calls_total')).toBe(before.get('bridge_calls_total')! + 1);
      expect(m.get('bridge_calls_per_second')).toBeGreaterThan(0);
      expect(m.get('bridge_meeting_rtp_packets_received')).toBeGreaterThan(20);
      expect(m.get('bridge_rtp_packets_received_total')).toBeGreaterThan(20);
      expect(m.get('bridge_meeting_packet_loss_ratio')).toBeGreaterThanOrEqual(0);
      expect(m.get('bridge_meeting_packet_loss_ratio')).toBeLessThan(0.5);
      expect(m.get('bridge_mixer_ticks_total')).toBeGreaterThan(before.get('bridge_mixer_ticks_total')!);
      // The histogram is cumulative and ends with every tick.
      const buckets = [...m.entries()].filter(([k]) => k.startsWith('bridge_mixer_tick_lateness_seconds_bucket')).map(([, v]) => v);
      expect(buckets.length).toBe(7);
      for (let i = 1; i < buckets.length; i++) expect(buckets[i]).toBeGreaterThanOrEqual(buckets[i - 1]!);
      expect(buckets.at(-1)).toBe(m.get('bridge_mixer_tick_lateness_seconds_count'));
      expect(m.get('bridge_event_feed_clients')).toBe(0);
      expect(m.get('bridge_webhooks_queued')).toBe(0);
    } finally {
      await h.api('DELETE', '/conference/v1/meetings/1000');
      await run.done;
      run.process.kill();
      sink.close();
    }
    const after = parse((await getMetrics(ADMIN)).text);
    expect(after.get('bridge_meetings')).toBe(0);
    expect(after.get('bridge_participants')).toBe(0);
  });
});

/**
 * RTP/RTCP quality of a real call through the API and /metrics: a sipp
 * caller joins meeting 1000 and names a test phone's port in its SDP; the
 * phone streams PCMU with known packets left out and answers the bridge's
 * RTCP sender report with a receiver report of chosen figures. The Call's
 * read-only `media` object and the Prometheus page show that loss, the
 * round trip the bridge measured, and the phone's view of the bridge.
 */
import { describe, expect, it } from 'vitest';
import { apiHarness } from '../support/apiHarness.js';
import { parseMetrics } from '../support/prometheus.js';
import { RtcpPhone } from '../support/rtcpPhone.js';
import { runCaller } from '../support/sipp.js';
import { sleep, waitFor } from '../support/wait.js';

const PORTS = { sip: 21020, http: 21210, rtpMin: 21350, rtpMax: 21399 };
const PHONE_PORT = 21600;
const h = apiHarness({ ports: PORTS, adminPassword: 'quality-test-password' });

/** Frames the phone leaves out of its stream: 6 lost. */
const SKIP = new Set([20, 21, 60, 100, 101, 102]);

describe('call quality in the API and /metrics', () => {
  it('shows the loss, jitter and RTT of a real call with RTCP in GET /calls/{id} and /metrics', async () => {
    const before = parseMetrics((await h.api('GET', '/metrics')).text);
    expect(before.get('bridge_meeting_jitter_seconds_count')).toBe(0);
    expect(before.get('bridge_meeting_jitter_seconds{quantile="0.5"}')).toBeNaN();
    const phone = await RtcpPhone.open(PHONE_PORT);
    const run = runCaller(
      {
        dialed: '15550100',
        rtpPort: PHONE_PORT,
        steps: [{ kind: 'pause', ms: 500 }, { kind: 'pcap', path: h.media.digits('quinn', '2222#') }, { kind: 'expectBye', timeoutMs: 60_000 }],
      },
      { serverPort: PORTS.sip, sipPort: 21021, mediaPort: 21420, timeoutSeconds: 90 },
    );
    try {
      await waitFor(() => h.server.app.conferenceManager.getMeeting(1000)?.participants.length === 1, 20_000, 'the caller in meeting 1000', [run]);
      const participant = h.server.app.conferenceManager.getMeeting(1000)!.participants[0]!;
      const leg = participant.leg;
      await sleep(300); // the code's last digit packets are over
      phone.stream(leg.localAddress, leg.localPort, SKIP);
      await waitFor(() => phone.framesStreamed > 150, 10_000, 'the lossy part of the stream');
      // The bridge's next sender report covers the whole lossy part; answer it 200 ms later, claiming no delay (DLSR 0).
      const after = phone.senderReports.length;
      await waitFor(() => phone.senderReports.length > after, 15_000, 'a sender report from the bridge');
      const sr = phone.senderReports.at(-1)!;
      await sleep(Math.max(0, 200 - (performance.now() - sr.receivedAt)));
      // The phone's view: a quarter lost (64/256), 9 in all, jitter 160 units of 1/8000 s = 20 ms.
      phone.answer(sr, { fractionLost: 64, cumulativeLost: 9, jitterUnits: 160, dlsrUnits: 0 }, { address: leg.localAddress, port: leg.localRtcpPort });
      const path = `/conference/v1/calls/${participant.id}`;
      await waitFor(() => leg.stats().rtcpReceived >= 1, 5000, 'the receiver report read');

      const call = (await h.api('GET', path)).json;
      expect(call.media).toMatchObject({ codec: 'PCMU', packetsLost: SKIP.size, remotePacketsLost: 9, remoteFractionLost: 0.25, remoteJitterMs: 20 });
      expect(call.media.packetsReceived).toBeGreaterThan(140);
      expect(call.media.packetsSent).toBeGreaterThan(100);
      // The phone's 172-byte packets, besides sipp's smaller key presses.
      expect(call.media.bytesReceived).toBeGreaterThan(140 * 172);
      expect(call.media.jitterMs).toBeGreaterThanOrEqual(0);
      expect(call.media.jitterMs).toBeLessThan(50);
      expect(call.media.rttMs).toBeGreaterThanOrEqual(190);
      expect(call.media.rttMs).toBeLessThan(1000);
      // Read-only: a PUT naming it is refused and changes nothing.
      const put = await h.api('PUT', path, { body: { media: { packetsLost: 0 } } });
      expect(put.status).toBe(422);
      expect(put.json.errors[0].field).toBe('media');
      // The nested fields filter and select like any other.
      const listed = await h.api('GET', `/conference/v1/calls?filter=${encodeURIComponent(`media.packetsLost eq ${SKIP.size} and media.codec eq PCMU`)}&include_fields=id,media`);
      expect(listed.json.calls).toEqual([{ id: participant.id, media: expect.objectContaining({ packetsLost: SKIP.size }) }]);
      const none = await h.api('GET', `/conference/v1/calls?filter=${encodeURIComponent('media.rttMs gt 5000')}`);
      expect(none.json.calls).toEqual([]);
      // The OpenAPI document describes it, from the same schema.
      const doc = (await h.api('GET', '/conference/v1/openapi.json', { auth: null })).json;
      expect(JSON.stringify(doc)).toContain('remoteFractionLost');

      const m = parseMetrics((await h.api('GET', '/metrics')).text);
      expect(m.get('bridge_meeting_legs')).toBe(1);
      expect(m.get('bridge_meeting_rtp_packets_lost')).toBe(SKIP.size);
      expect(m.get('bridge_meeting_remote_packets_lost')).toBe(9);
      expect(m.get('bridge_meeting_rtp_loss_ratio')).toBeGreaterThan(0);
      expect(m.get('bridge_meeting_rtp_loss_ratio')).toBeLessThan(0.1);
      expect(m.get('bridge_meeting_jitter_seconds_count')).toBe(1);
      expect(m.get('bridge_meeting_jitter_seconds{quantile="0.99"}')).toBeLessThan(0.05);
      expect(m.get('bridge_meeting_rtt_seconds_count')).toBe(1);
      const rtt = m.get('bridge_meeting_rtt_seconds{quantile="0.5"}')!;
      expect(rtt).toBeGreaterThanOrEqual(0.19);
      expect(rtt).toBeLessThan(1);
      expect(m.get('bridge_meeting_rtp_fraction_lost_count')).toBe(1);
      expect(m.get('bridge_mixer_tick_lateness_seconds_count')).toBeGreaterThan(0);
      // No series names a call: the page has only the families' fixed labels (checked by the parser).
      expect((await h.api('DELETE', '/conference/v1/meetings/1000')).status).toBe(204);
      const result = await run.done;
      expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
      const end = parseMetrics((await h.api('GET', '/metrics')).text);
      expect(end.get('bridge_meeting_rtt_seconds_count')).toBe(0);
      expect(end.get('bridge_meeting_rtp_packets_lost')).toBe(0);
    } finally {
      run.process.kill();
      await phone.close();
    }
  });
});

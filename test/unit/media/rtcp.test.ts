/**
 * RTCP over real UDP: a fake phone with an RTP port and its RTCP port
 * (port + 1, or the RTP port with rtcp-mux) streams audio with gaps to a leg;
 * the leg's sender/receiver reports must describe that stream (loss, highest
 * sequence, jitter) and its own sending; the phone's receiver report gives
 * the leg an RTT (LSR/DLSR) and the phone's view of our stream; malformed
 * RTCP is counted and dropped.
 */
import type { Socket } from 'node:dgram';

import { describe, expect, it } from 'vitest';

import type { MediaLeg } from '../../../src/media/MediaLeg.js';
import { encodeMulaw } from '../../support/audio.js';
import { buildRtp } from '../../support/rtpPackets.js';
import { bindUdp } from '../../support/udp.js';
import { sleep, waitFor } from '../../support/wait.js';
import { useMediaFixture } from './fixture.js';

const { startEngine } = useMediaFixture();
const ENGINE_PORTS = { rtpPortMin: 30500, rtpPortMax: 30599, rtcpIntervalMs: 300 };
const PHONE_SSRC = 0x5eed1234;

interface ReportBlock {
  ssrc: number;
  fractionLost: number;
  cumulativeLost: number;
  highestSeq: number;
  jitter: number;
  lsr: number;
  dlsr: number;
}

interface Report {
  type: 'SR' | 'RR';
  ssrc: number;
  /** SR only */
  ntpMiddle?: number;
  packetCount?: number;
  octetCount?: number;
  blocks: ReportBlock[];
  cname?: string;
  receivedAt: number;
}

/** Parses a compound RTCP packet the way a phone would (RFC 3550); undefined if it is not one. */
function parseCompound(buf: Buffer): Report | undefined {
  if (buf.length < 8 || buf[0]! >> 6 !== 2 || (buf[1] !== 200 && buf[1] !== 201)) return undefined;
  let report: Report | undefined;
  for (let off = 0; off < buf.length; ) {
    const count = buf[off]! & 0x1f;
    const type = buf[off + 1]!;
    const bytes = (buf.readUInt16BE(off + 2) + 1) * 4;
    if (off + bytes > buf.length) return undefined;
    if (type === 200 || type === 201) {
      const sr = type === 200;
      report = { type: sr ? 'SR' : 'RR', ssrc: buf.readUInt32BE(off + 4), blocks: [], receivedAt: performance.now() };
      let b = off + 8;
      if (sr) {
        report.ntpMiddle = ((buf.readUInt32BE(off + 8) & 0xffff) * 65536 + (buf.readUInt32BE(off + 12) >>> 16)) >>> 0;
        report.packetCount = buf.readUInt32BE(off + 20);
        report.octetCount = buf.readUInt32BE(off + 24);
        b = off + 28;
      }
      for (let i = 0; i < count; i++, b += 24) {
        let lost = buf.readUInt32BE(b + 4) & 0xffffff;
        if (lost & 0x800000) lost -= 0x1000000;
        report.blocks.push({
          ssrc: buf.readUInt32BE(b),
          fractionLost: buf[b + 4]!,
          cumulativeLost: lost,
          highestSeq: buf.readUInt32BE(b + 8),
          jitter: buf.readUInt32BE(b + 12),
          lsr: buf.readUInt32BE(b + 16),
          dlsr: buf.readUInt32BE(b + 20),
        });
      }
    } else if (type === 202 && report !== undefined && buf[off + 8] === 1) {
      report.cname = buf.subarray(off + 10, off + 10 + buf[off + 9]!).toString('latin1');
    }
    off += bytes;
  }
  return report;
}

/** A receiver report from the phone about `ssrc`. */
function receiverReport(block: Omit<ReportBlock, 'highestSeq'> & { highestSeq?: number }): Buffer {
  const b = Buffer.alloc(32);
  b[0] = 0x81;
  b[1] = 201;
  b.writeUInt16BE(7, 2);
  b.writeUInt32BE(PHONE_SSRC, 4);
  b.writeUInt32BE(block.ssrc, 8);
  b.writeUInt32BE(((block.fractionLost & 0xff) << 24 | (block.cumulativeLost & 0xffffff)) >>> 0, 12);
  b.writeUInt32BE(block.highestSeq ?? 0, 16);
  b.writeUInt32BE(block.jitter, 20);
  b.writeUInt32BE(block.lsr >>> 0, 24);
  b.writeUInt32BE(block.dlsr >>> 0, 28);
  return b;
}

interface Phone {
  rtp: Socket;
  rtcp: Socket;
  reports: Report[];
  /** Datagrams on the RTCP socket (or RTCP on the muxed RTP socket). */
  rtcpDatagrams: number;
  close(): Promise<void>;
}

async function openPhone(rtpPort: number, mux: boolean): Promise<Phone> {
  const rtp = await bindUdp(rtpPort);
  const rtcp = mux ? rtp : await bindUdp(rtpPort + 1);
  const phone: Phone = {
    rtp,
    rtcp,
    reports: [],
    rtcpDatagrams: 0,
    async close() {
      await new Promise<void>((r) => rtp.close(() => r()));
      if (!mux) await new Promise<void>((r) => rtcp.close(() => r()));
    },
  };
  rtcp.on('message', (m: Buffer) => {
    if (mux && !(m.length >= 2 && m[1]! >= 192 && m[1]! <= 223)) return; // RTP
    phone.rtcpDatagrams++;
    const r = parseCompound(m);
    if (r !== undefined) phone.reports.push(r);
  });
  return phone;
}

/** Sends `count` 20 ms PCMU frames, leaving out the sequence numbers in `skip`; returns the last sequence number. */
async function stream(phone: Phone, leg: MediaLeg, firstSeq: number, count: number, skip: Set<number>): Promise<number> {
  const silence = encodeMulaw(new Int16Array(160));
  let seq = firstSeq;
  for (let i = 0; i < count; i++, seq = (seq + 1) & 0xffff) {
    if (!skip.has(i)) {
      phone.rtp.send(buildRtp({ payloadType: 0, sequence: seq, timestamp: i * 160, ssrc: PHONE_SSRC }, silence), leg.localPort, leg.localAddress);
    }
    await sleep(20);
  }
  return (seq - 1) & 0xffff;
}

describe('RTCP', () => {
  it('reports the received stream and our sending, takes RTT and the peer view from its RR, drops malformed RTCP', async () => {
    const engine = await startEngine(ENGINE_PORTS);
    const phone = await openPhone(30700, false);
    try {
      const leg = engine.createLeg({ callId: 'rtcp', codec: 'PCMU', payloadType: 0, remote: { address: '127.0.0.1', port: 30700 } });
      expect(leg.localRtcpPort).toBe(leg.localPort + 1);
      const lastSeq = await stream(phone, leg, 65000 + 500, 100, new Set([10, 11, 40, 70, 71]));
      // A report sent after the whole stream arrived: 5 lost of 100, the
      // sequence wrapped once.
      await waitFor(() => phone.reports.some((r) => r.blocks[0]?.highestSeq === 65536 + lastSeq), 5000, 'a report covering the stream');
      const report = phone.reports.find((r) => r.blocks[0]?.highestSeq === 65536 + lastSeq)!;
      expect(report.type).toBe('SR'); // the leg sends RTP (lobby silence) once it has a remote
      expect(report.blocks[0]!.ssrc).toBe(PHONE_SSRC);
      expect(report.blocks[0]!.cumulativeLost).toBe(5);
      expect(report.blocks[0]!.jitter / 8, 'interarrival jitter in ms').toBeLessThan(50);
      expect(report.cname).toMatch(/^ssrc-[0-9a-f]{8}$/);
      const stats = leg.stats();
      expect(stats.packetsLost).toBe(5);
      expect(stats.packetsReceived).toBe(95);
      expect(stats.bytesReceived).toBe(95 * 172);
      expect(stats.rtcpSent).toBeGreaterThanOrEqual(phone.reports.length);
      expect(report.packetCount!).toBeGreaterThan(0);
      expect(report.packetCount!).toBeLessThanOrEqual(stats.packetsSent);
      expect(report.octetCount).toBe(report.packetCount! * 160);
      expect(stats.bytesSent).toBe(stats.packetsSent * 172);

      // The phone answers an SR 250 ms after it arrived, claiming no delay
      // (DLSR 0): the leg measures ~250 ms of round trip.
      const sr = phone.reports.filter((r) => r.type === 'SR').at(-1)!;
      await sleep(Math.max(0, 250 - (performance.now() - sr.receivedAt)));
      phone.rtcp.send(receiverReport({ ssrc: report.ssrc, fractionLost: 64, cumulativeLost: 7, jitter: 80, lsr: sr.ntpMiddle!, dlsr: 0 }), leg.localRtcpPort, leg.localAddress);
      await waitFor(() => leg.stats().rtcpReceived === 1, 2000, 'the RR to be read');
      const after = leg.stats();
      expect(after.rttMs).not.toBeNull();
      expect(after.rttMs!).toBeGreaterThanOrEqual(240);
      expect(after.rttMs!).toBeLessThan(600);
      expect(after.remoteFractionLost).toBe(0.25);
      expect(after.remotePacketsLost).toBe(7);
      expect(after.remoteJitterMs).toBe(10);

      // Malformed RTCP: counted, dropped, nothing else changes.
      const bad = [Buffer.from('not rtcp at all'), receiverReport({ ssrc: 1, fractionLost: 0, cumulativeLost: 0, jitter: 0, lsr: 0, dlsr: 0 }).subarray(0, 20), Buffer.from([0x80, 202, 0, 0])];
      for (const b of bad) phone.rtcp.send(b, leg.localRtcpPort, leg.localAddress);
      await waitFor(() => leg.stats().rtcpMalformed === bad.length, 2000, 'malformed RTCP counted');
      const final = leg.stats();
      expect(final.rtcpReceived).toBe(1);
      expect(final.remotePacketsLost).toBe(7);
      expect(final.packetsMalformed).toBe(0);
    } finally {
      await phone.close();
    }
  }, 20_000);

  it('with rtcp-mux, reports and the peer RTCP share the RTP port and never reach the audio path', async () => {
    const engine = await startEngine(ENGINE_PORTS);
    const phone = await openPhone(30702, true);
    try {
      const leg = engine.createLeg({ callId: 'mux', codec: 'PCMU', payloadType: 0, rtcpMux: true, remote: { address: '127.0.0.1', port: 30702 } });
      expect(leg.localRtcpPort).toBe(0);
      await stream(phone, leg, 1, 30, new Set([5]));
      await waitFor(() => phone.reports.some((r) => r.blocks[0]?.cumulativeLost === 1), 5000, 'a muxed report');
      const sr = phone.reports.at(-1)!;
      phone.rtp.send(receiverReport({ ssrc: sr.ssrc, fractionLost: 0, cumulativeLost: 2, jitter: 8, lsr: 0, dlsr: 0 }), leg.localPort, leg.localAddress);
      await waitFor(() => leg.stats().rtcpReceived === 1, 2000, 'the muxed RR to be read');
      const stats = leg.stats();
      expect(stats.remotePacketsLost).toBe(2);
      expect(stats.packetsReceived).toBe(29);
      expect(stats.packetsUnknownPayload).toBe(0);
      expect(stats.packetsMalformed).toBe(0);
      expect(stats.rttMs).toBeNull(); // LSR 0: no round trip to measure
    } finally {
      await phone.close();
    }
  }, 20_000);
});

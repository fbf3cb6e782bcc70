import { randomBytes } from 'node:crypto';

import { afterEach, describe, expect, it } from 'vitest';

import { MediaEngine } from '../../../src/media/MediaEngine.js';
import type { MediaLeg } from '../../../src/media/MediaLeg.js';
import { buildRtp, dbfs, goertzelAmplitude, RtpPeer, sine, sleep, waitFor } from './helpers.js';

const PORTS = { rtpPortMin: 31000, rtpPortMax: 31999 };

let engine: MediaEngine | undefined;
const peers: RtpPeer[] = [];

afterEach(async () => {
  engine?.close();
  engine = undefined;
  await Promise.all(peers.splice(0).map((p) => p.close()));
});

async function openPeer(address = '127.0.0.1'): Promise<RtpPeer> {
  const p = await RtpPeer.open(address);
  peers.push(p);
  return p;
}

async function legWithPeer(e: MediaEngine, callId: string): Promise<{ leg: MediaLeg; peer: RtpPeer }> {
  const peer = await openPeer();
  const leg = e.createLeg({ callId, codec: 'PCMU', payloadType: 0, telephoneEventPayloadType: 101, remote: { address: peer.address, port: peer.port } });
  peer.target(leg.localAddress, leg.localPort);
  return { leg, peer };
}

function garbage(): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < 50; i++) {
    const b = randomBytes(1 + (i * 37) % 300);
    b[0] = (b[0]! & 0x3f) | ([0, 1, 3][i % 3]! << 6); // versions 0, 1, 3: never valid RTP
    out.push(b);
  }
  const v1 = buildRtp({ payloadType: 0, seq: 1, timestamp: 1, ssrc: 1, payload: Buffer.alloc(160) });
  v1[0] = 0x40;
  out.push(v1);
  out.push(Buffer.from([0x80, 0x00, 0x00, 0x01, 0x00])); // truncated header
  const cc = buildRtp({ payloadType: 0, seq: 1, timestamp: 1, ssrc: 1, payload: Buffer.alloc(8) });
  cc[0] = 0x8f; // 15 CSRCs announced, 8 bytes present
  out.push(cc);
  const ext = buildRtp({ payloadType: 0, seq: 1, timestamp: 1, ssrc: 1, payload: Buffer.from([0, 0, 0xff, 0xff, 1, 2, 3, 4]) });
  ext[0] = 0x90; // extension of 65535 words
  out.push(ext);
  const pad = buildRtp({ payloadType: 0, seq: 1, timestamp: 1, ssrc: 1, payload: Buffer.from([1, 2, 3, 200]) });
  pad[0] = 0xa0; // padding count 200 > packet
  out.push(pad);
  out.push(Buffer.alloc(0));
  return out;
}

describe('robustness', () => {
  it('counts garbage and strangers while the other legs keep their audio', async () => {
    engine = await MediaEngine.create({ bindAddress: '127.0.0.1', ...PORTS });
    const room = engine.createRoom();
    const a = await legWithPeer(engine, 'a');
    const b = await legWithPeer(engine, 'b');
    a.leg.join(room);
    b.leg.join(room);
    a.peer.startTone(450, dbfs(-12));
    await waitFor(() => b.peer.received.length > 20, 'audio at b');

    const junk = garbage();
    const malformedExpected = junk.length - 1; // the empty datagram is TooShort too
    for (const g of junk) a.peer.send(g);
    // An unknown payload type from the right address.
    a.peer.send(buildRtp({ payloadType: 18, seq: 5, timestamp: 5, ssrc: 5, payload: Buffer.alloc(20) }));
    // A stranger (another loopback IP) sending valid audio: dropped, never mixed.
    const stranger = await openPeer('127.0.0.2');
    stranger.target(a.leg.localAddress, a.leg.localPort);
    stranger.startStream((i) => sine(1750, dbfs(-6), 160, i * 160));
    // A flood on b's port: its own legit audio stops mattering, a keeps working.
    const flooder = await openPeer();
    flooder.target(b.leg.localAddress, b.leg.localPort);
    for (let i = 0; i < 3000; i++) flooder.send(junk[i % 50]!);

    await waitFor(() => a.leg.stats().packetsMalformed >= malformedExpected, 'malformed count');
    await waitFor(() => a.leg.stats().packetsFromStrangers >= 10, 'stranger count');
    await waitFor(() => a.leg.stats().packetsUnknownPayload >= 1, 'unknown payload count');
    const base = b.peer.received.length;
    await waitFor(() => b.peer.received.length >= base + 60, 'more audio at b');
    const heard = b.peer.lastSamples(50);
    expect(goertzelAmplitude(heard, 450)).toBeGreaterThan(dbfs(-12) * 0.5);
    expect(goertzelAmplitude(heard, 1750)).toBeLessThan(dbfs(-12) * 0.02);
    // The flooder shares b's remote IP (any source port is accepted), so its
    // junk counts as malformed on b without disturbing a's audio path.
    expect(b.leg.stats().packetsMalformed).toBeGreaterThan(0);
    const es = engine.stats();
    expect(es.packetsMalformed).toBeGreaterThanOrEqual(malformedExpected);
    expect(es.packetsFromStrangers).toBeGreaterThanOrEqual(10);
    expect(es.ticks).toBeGreaterThan(0);
  });

  it('reports rtpTimeout once when RTP stops, and again after it resumes and stops', async () => {
    engine = await MediaEngine.create({ bindAddress: '127.0.0.1', ...PORTS, rtpTimeoutMs: 300 });
    const { leg, peer } = await legWithPeer(engine, 'timeout');
    let timeouts = 0;
    leg.on('rtpTimeout', () => timeouts++);
    const frame = sine(450, 8000, 160);
    for (let i = 0; i < 10; i++) {
      peer.sendFrame(frame);
      await sleep(20);
    }
    await waitFor(() => timeouts === 1, 'first rtpTimeout');
    await sleep(600);
    expect(timeouts).toBe(1);
    for (let i = 0; i < 5; i++) {
      peer.sendFrame(frame);
      await sleep(20);
    }
    await waitFor(() => timeouts === 2, 'second rtpTimeout');
  });

  it('a leg that never received RTP does not time out', async () => {
    engine = await MediaEngine.create({ bindAddress: '127.0.0.1', ...PORTS, rtpTimeoutMs: 100 });
    const { leg, peer } = await legWithPeer(engine, 'silent');
    let timeouts = 0;
    leg.on('rtpTimeout', () => timeouts++);
    await waitFor(() => peer.received.length > 25, 'outgoing packets');
    expect(timeouts).toBe(0);
  });

  it('re-syncs on an SSRC change (re-INVITE)', async () => {
    engine = await MediaEngine.create({ bindAddress: '127.0.0.1', ...PORTS });
    const room = engine.createRoom();
    const a = await legWithPeer(engine, 'a');
    const b = await legWithPeer(engine, 'b');
    a.leg.join(room);
    b.leg.join(room);
    a.peer.startTone(450, dbfs(-12));
    await waitFor(() => b.peer.received.length > 30, 'audio');
    a.peer.stopStream();
    // New source: new SSRC and unrelated timestamps/sequence.
    const other = await openPeer();
    other.target(a.leg.localAddress, a.leg.localPort);
    other.startTone(1100, dbfs(-12));
    const base = b.peer.received.length;
    await waitFor(() => b.peer.received.length >= base + 60, 'audio after switch');
    expect(goertzelAmplitude(b.peer.lastSamples(25), 1100)).toBeGreaterThan(dbfs(-12) * 0.5);
  });
});

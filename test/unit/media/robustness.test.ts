import { randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { dbfs, sine, toneAmplitude } from '../../support/audio.js';
import { buildRtp } from '../../support/rtpPackets.js';
import { sleep, waitFor } from '../../support/wait.js';
import { useMediaFixture } from './fixture.js';

const { startEngine, openPeer, legWithPeer, pairInRoom } = useMediaFixture();

function garbage(): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < 50; i++) {
    const b = randomBytes(1 + (i * 37) % 300);
    b[0] = (b[0]! & 0x3f) | ([0, 1, 3][i % 3]! << 6); // versions 0, 1, 3: never valid RTP
    out.push(b);
  }
  const v1 = buildRtp({ payloadType: 0, sequence: 1, timestamp: 1, ssrc: 1 }, Buffer.alloc(160));
  v1[0] = 0x40;
  out.push(v1);
  out.push(Buffer.from([0x80, 0x00, 0x00, 0x01, 0x00])); // truncated header
  const cc = buildRtp({ payloadType: 0, sequence: 1, timestamp: 1, ssrc: 1 }, Buffer.alloc(8));
  cc[0] = 0x8f; // 15 CSRCs announced, 8 bytes present
  out.push(cc);
  const ext = buildRtp({ payloadType: 0, sequence: 1, timestamp: 1, ssrc: 1 }, Buffer.from([0, 0, 0xff, 0xff, 1, 2, 3, 4]));
  ext[0] = 0x90; // extension of 65535 words
  out.push(ext);
  const pad = buildRtp({ payloadType: 0, sequence: 1, timestamp: 1, ssrc: 1 }, Buffer.from([1, 2, 3, 200]));
  pad[0] = 0xa0; // padding count 200 > packet
  out.push(pad);
  out.push(Buffer.alloc(0));
  return out;
}

describe('robustness', () => {
  it('counts garbage and strangers while the other legs keep their audio', async () => {
    const engine = await startEngine();
    const { a, b } = await pairInRoom(engine);
    a.peer.startTone(450, dbfs(-12));
    await waitFor(() => b.peer.received.length > 20, 10_000, 'audio at b');

    const junk = garbage();
    const malformedExpected = junk.length - 1; // the empty datagram is TooShort too
    for (const g of junk) a.peer.send(g);
    // An unknown payload type from the right address.
    a.peer.send(buildRtp({ payloadType: 18, sequence: 5, timestamp: 5, ssrc: 5 }, Buffer.alloc(20)));
    // A stranger (another loopback IP) sending valid audio: dropped, never mixed.
    const stranger = await openPeer('127.0.0.2');
    stranger.target(a.leg.localAddress, a.leg.localPort);
    stranger.startStream((i) => sine(1750, 160, dbfs(-6), 8000, i * 160));
    // A flood on b's port: its own legit audio stops mattering, a keeps working.
    const flooder = await openPeer();
    flooder.target(b.leg.localAddress, b.leg.localPort);
    for (let i = 0; i < 3000; i++) flooder.send(junk[i % 50]!);

    await waitFor(() => a.leg.stats().packetsMalformed >= malformedExpected, 10_000, 'malformed count');
    await waitFor(() => a.leg.stats().packetsFromStrangers >= 10, 10_000, 'stranger count');
    await waitFor(() => a.leg.stats().packetsUnknownPayload >= 1, 10_000, 'unknown payload count');
    const base = b.peer.received.length;
    await waitFor(() => b.peer.received.length >= base + 60, 10_000, 'more audio at b');
    const heard = b.peer.lastSamples(50);
    expect(toneAmplitude(heard, 450)).toBeGreaterThan(dbfs(-12) * 0.5);
    expect(toneAmplitude(heard, 1750)).toBeLessThan(dbfs(-12) * 0.02);
    // The flooder shares b's remote IP (any source port is accepted), so its
    // junk counts as malformed on b without disturbing a's audio path.
    expect(b.leg.stats().packetsMalformed).toBeGreaterThan(0);
    const es = engine.stats();
    expect(es.packetsMalformed).toBeGreaterThanOrEqual(malformedExpected);
    expect(es.packetsFromStrangers).toBeGreaterThanOrEqual(10);
    expect(es.ticks).toBeGreaterThan(0);
  });

  it('reports rtpTimeout once when RTP stops, and again after it resumes and stops', async () => {
    const engine = await startEngine({ rtpTimeoutMs: 300 });
    const { leg, peer } = await legWithPeer(engine, 'timeout');
    let timeouts = 0;
    leg.on('rtpTimeout', () => timeouts++);
    const frame = sine(450, 160, 8000);
    for (let i = 0; i < 10; i++) {
      peer.sendFrame(frame);
      await sleep(20);
    }
    await waitFor(() => timeouts === 1, 10_000, 'first rtpTimeout');
    await sleep(600);
    expect(timeouts).toBe(1);
    for (let i = 0; i < 5; i++) {
      peer.sendFrame(frame);
      await sleep(20);
    }
    await waitFor(() => timeouts === 2, 10_000, 'second rtpTimeout');
  });

  it('a leg whose RTP never arrives times out, counted from when its remote was set', async () => {
    const engine = await startEngine({ rtpTimeoutMs: 300 });
    const { leg, peer } = await legWithPeer(engine, 'silent');
    let timeouts = 0;
    leg.on('rtpTimeout', () => timeouts++);
    await waitFor(() => timeouts === 1, 10_000, 'rtpTimeout of a leg that never sent');
    // Reported once, while the leg keeps sending its own RTP.
    const sent = peer.received.length;
    await waitFor(() => peer.received.length > sent + 25, 10_000, 'outgoing packets');
    expect(timeouts).toBe(1);
  });

  it('a leg without a remote does not time out', async () => {
    const engine = await startEngine({ rtpTimeoutMs: 100 });
    const leg = engine.createLeg({ callId: 'no-remote', codec: 'PCMU', payloadType: 0 });
    let timeouts = 0;
    leg.on('rtpTimeout', () => timeouts++);
    const ticks = engine.stats().ticks;
    await waitFor(() => engine.stats().ticks > ticks + 25, 10_000, 'mixer ticks');
    expect(timeouts).toBe(0);
  });

  it('re-syncs on an SSRC change (re-INVITE)', async () => {
    const engine = await startEngine();
    const { a, b } = await pairInRoom(engine);
    a.peer.startTone(450, dbfs(-12));
    await waitFor(() => b.peer.received.length > 30, 10_000, 'audio');
    a.peer.stopStream();
    // New source: new SSRC and unrelated timestamps/sequence.
    const other = await openPeer();
    other.target(a.leg.localAddress, a.leg.localPort);
    other.startTone(1100, dbfs(-12));
    const base = b.peer.received.length;
    await waitFor(() => b.peer.received.length >= base + 60, 10_000, 'audio after switch');
    expect(toneAmplitude(b.peer.lastSamples(25), 1100)).toBeGreaterThan(dbfs(-12) * 0.5);
  });
});

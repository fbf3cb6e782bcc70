import { describe, expect, it } from 'vitest';

import { dbfs, toneAmplitude } from '../../support/audio.js';
import type { RtpPeer } from '../../support/rtpPeer.js';
import { waitFor } from '../../support/wait.js';
import { useMediaFixture } from './fixture.js';

const { startEngine, legWithPeer } = useMediaFixture();

function median(x: Int16Array): number {
  const s = Array.from(x).sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Waits until every peer got `packets` more packets than it has now. */
async function receiveMore(list: RtpPeer[], packets: number): Promise<void> {
  const base = list.map((p) => p.received.length);
  await waitFor(() => list.every((p, i) => p.received.length >= base[i]! + packets), 20_000, `${packets} packets`);
}

describe.each([1, 2])('room mixing (workerThreads=%i)', (workerThreads) => {
  it('each leg hears the two others and not itself', async () => {
    const engine = await startEngine({ workerThreads });
    const room = engine.createRoom();
    const freqs = [450, 1100, 1750];
    const parts = await Promise.all(freqs.map((_, i) => legWithPeer(engine, `call-${i}`)));
    for (const { leg } of parts) leg.join(room, { speak: true, hear: true });
    expect(room.legs.size).toBe(3);
    parts.forEach(({ peer }, i) => peer.startTone(freqs[i]!, dbfs(-12)));
    await receiveMore(
      parts.map((p) => p.peer),
      100,
    );
    const level = dbfs(-12);
    parts.forEach(({ peer }, i) => {
      const samples = peer.lastSamples(50);
      freqs.forEach((f, j) => {
        const a = toneAmplitude(samples, f);
        if (i === j) expect(a, `leg ${i} hears its own ${f} Hz`).toBeLessThan(level * 0.02);
        else expect(a, `leg ${i} hears ${f} Hz`).toBeGreaterThan(level * 0.5);
      });
    });
    const s = parts[0]!.leg.stats();
    expect(s.packetsReceived).toBeGreaterThan(50);
    expect(s.packetsSent).toBeGreaterThan(50);
    expect(s.packetsMalformed).toBe(0);
    expect(engine.stats().legs).toBe(3);
    expect(engine.stats().rooms).toBe(1);
  });

  it('a speak=false leg is heard by nobody but hears everyone', async () => {
    const engine = await startEngine({ workerThreads });
    const room = engine.createRoom();
    const a = await legWithPeer(engine, 'a');
    const b = await legWithPeer(engine, 'b');
    const listener = await legWithPeer(engine, 'listener');
    a.leg.join(room);
    b.leg.join(room);
    listener.leg.join(room, { speak: false, hear: true });
    a.peer.startTone(450, dbfs(-12));
    b.peer.startTone(1100, dbfs(-12));
    listener.peer.startTone(1750, dbfs(-12));
    await receiveMore([a.peer, b.peer, listener.peer], 100);
    const level = dbfs(-12);
    for (const p of [a.peer, b.peer]) {
      expect(toneAmplitude(p.lastSamples(50), 1750)).toBeLessThan(level * 0.02);
    }
    const heard = listener.peer.lastSamples(50);
    expect(toneAmplitude(heard, 450)).toBeGreaterThan(level * 0.5);
    expect(toneAmplitude(heard, 1100)).toBeGreaterThan(level * 0.5);
    expect(toneAmplitude(heard, 1750)).toBeLessThan(level * 0.02);

    // Unmute it: now the others hear it.
    listener.leg.update({ speak: true });
    await receiveMore([a.peer, b.peer], 60);
    expect(toneAmplitude(a.peer.lastSamples(25), 1750)).toBeGreaterThan(level * 0.5);
    // Deafen it: it hears silence.
    listener.leg.update({ hear: false });
    await receiveMore([listener.peer], 60);
    const deaf = listener.peer.lastSamples(25);
    expect(Math.max(...Array.from(deaf, Math.abs))).toBeLessThanOrEqual(8);
  });
});

describe('saturation', () => {
  it('two near-full-scale talkers are limited instead of wrapping around', async () => {
    const engine = await startEngine();
    const roomPos = engine.createRoom();
    const roomNeg = engine.createRoom();
    const talkers = await Promise.all([0, 1, 2, 3].map((i) => legWithPeer(engine, `t${i}`)));
    const listeners = await Promise.all([0, 1].map((i) => legWithPeer(engine, `l${i}`)));
    talkers[0]!.leg.join(roomPos);
    talkers[1]!.leg.join(roomPos);
    listeners[0]!.leg.join(roomPos, { speak: false, hear: true });
    talkers[2]!.leg.join(roomNeg);
    talkers[3]!.leg.join(roomNeg);
    listeners[1]!.leg.join(roomNeg, { speak: false, hear: true });
    // Near full-scale DC: 2 x 28000 = 56000 would wrap to -9536 in int16.
    const pos = new Int16Array(160).fill(28000);
    const neg = new Int16Array(160).fill(-28000);
    talkers[0]!.peer.startStream(() => pos);
    talkers[1]!.peer.startStream(() => pos);
    talkers[2]!.peer.startStream(() => neg);
    talkers[3]!.peer.startStream(() => neg);
    await receiveMore(
      listeners.map((l) => l.peer),
      100,
    );
    const hp = listeners[0]!.peer.lastSamples(25);
    const hn = listeners[1]!.peer.lastSamples(25);
    // Limited to -1 dBFS (29204, 29052 after mu-law), never folded: a wrap
    // shows as the opposite sign (56000 -> -9536). (Not every sample is at
    // the threshold: if a talker's packet is late, the limiter releases over
    // 60 ms; and both talkers' streams run on this process's timers, so a
    // stall of the test process under CI load can leave a frame of silence,
    // 0, which is no fold.)
    expect(Math.min(...hp)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...hp)).toBeLessThanOrEqual(29204);
    expect(median(hp)).toBeGreaterThanOrEqual(27000);
    expect(Math.max(...hn)).toBeLessThanOrEqual(0);
    expect(Math.min(...hn)).toBeGreaterThanOrEqual(-29204);
    expect(median(hn)).toBeLessThanOrEqual(-27000);
    // Each talker hears only the other one (N-1), under the limiter threshold:
    // untouched and never folded. (A packet of the other talker that slips
    // past a tick is concealed, a fading repeat, so single samples may dip;
    // the jitter buffer then keeps one frame in hand.)
    const t0 = talkers[0]!.peer.lastSamples(25);
    expect(Math.min(...t0)).toBeGreaterThan(0);
    expect(median(t0)).toBeGreaterThan(26000);
    expect(Math.max(...t0)).toBeLessThan(30000);
  });
});

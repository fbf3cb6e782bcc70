/**
 * The adaptive jitter buffer over real UDP: a phone sends a tone through an
 * impaired "network" (loss, random delay so packets reorder, a sender clock
 * running fast or slow); another leg in the room hears it. The audio that
 * comes back must still be the tone at its level without long gaps, and the
 * buffer's delay (leg stats) must adapt to the jitter and stay bounded.
 */
import { describe, expect, it } from 'vitest';

import type { MediaLeg } from '../../../src/media/MediaLeg.js';
import { dbfs, decodeMulaw, encodeMulaw, rms, sine, toneAmplitude } from '../../support/audio.js';
import { buildRtp } from '../../support/rtpPackets.js';
import type { RtpPeer } from '../../support/rtpPeer.js';
import { sleep } from '../../support/wait.js';
import { useMediaFixture } from './fixture.js';

const { startEngine, legWithPeer } = useMediaFixture();
const JITTER_PORTS = { rtpPortMin: 30000, rtpPortMax: 30499 };

interface Impairment {
  seconds: number;
  lossRate: number;
  /** Extra one-way delay, uniform in [0, jitterMs]. */
  jitterMs: number;
  /** Sender clock error: +0.01 sends 1 % more audio per real second. */
  drift: number;
  /** 1 s of tone, then 1 s of silence, when true; tone throughout otherwise. */
  pauses?: boolean;
}

const TONE_HZ = 1000;
const LEVEL = dbfs(-12);

/** Small deterministic PRNG (mulberry32) so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Sends frame k at start + k·20/(1+drift) ms + a random delay, skipping lost
 * frames; samples the talker leg's jitter buffer stats every 100 ms.
 */
async function impairedTone(peer: RtpPeer, leg: MediaLeg, imp: Impairment, seed: number): Promise<Array<{ bufferMs: number; targetMs: number }>> {
  const random = prng(seed);
  const frames = Math.round((imp.seconds * 50) * (1 + imp.drift));
  const schedule: Array<{ at: number; k: number }> = [];
  for (let k = 0; k < frames; k++) {
    if (random() < imp.lossRate) continue;
    schedule.push({ at: (k * 20) / (1 + imp.drift) + random() * imp.jitterMs, k });
  }
  schedule.sort((a, b) => a.at - b.at);
  const samples: Array<{ bufferMs: number; targetMs: number }> = [];
  const start = performance.now();
  let next = 0;
  let lastSample = 0;
  while (next < schedule.length) {
    const now = performance.now() - start;
    for (; next < schedule.length && schedule[next]!.at <= now; next++) {
      const { k } = schedule[next]!;
      const quiet = imp.pauses === true && Math.floor(k / 50) % 2 === 1;
      const audio = quiet ? new Int16Array(160) : sine(TONE_HZ, 160, LEVEL, 8000, k * 160);
      const header = { payloadType: 0, sequence: (peer.sequence + k) & 0xffff, timestamp: (peer.timestamp + k * 160) >>> 0, ssrc: peer.ssrc };
      peer.send(buildRtp(header, encodeMulaw(audio)));
    }
    if (now - lastSample >= 100) {
      lastSample = now;
      const s = leg.stats();
      samples.push({ bufferMs: s.jitterBufferMs, targetMs: s.jitterTargetMs });
    }
    await sleep(2);
  }
  return samples;
}

/** The listener's audio, in RTP order, from the packets it got in [from, to) (indices into peer.received). */
function heard(peer: RtpPeer, from: number, to: number): Int16Array {
  const packets = peer.received.slice(from, to).sort((a, b) => ((a.sequence - b.sequence + 0x8000) & 0xffff) - 0x8000);
  const out = new Int16Array(packets.length * 160);
  packets.forEach((p, i) => out.set(decodeMulaw(p.payload).subarray(0, 160), i * 160));
  return out;
}

/** Longest run of 20 ms frames below -40 dBFS RMS, in frames. */
function longestSilentRun(audio: Int16Array): number {
  let run = 0;
  let longest = 0;
  for (let i = 0; i + 160 <= audio.length; i += 160) {
    if (rms(audio.subarray(i, i + 160)) < dbfs(-40)) longest = Math.max(longest, ++run);
    else run = 0;
  }
  return longest;
}

const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

describe('adaptive jitter buffer over UDP', () => {
  it('keeps a tone whole through 5 % loss, 40 ms jitter, reordering and a 0.5 % fast clock, with bounded delay', async () => {
    const engine = await startEngine(JITTER_PORTS);
    const room = engine.createRoom();
    const talker = await legWithPeer(engine, 'talker');
    const listener = await legWithPeer(engine, 'listener');
    talker.leg.join(room, { speak: true, hear: false });
    listener.leg.join(room, { speak: false, hear: true });
    const seconds = 8;
    const from = listener.peer.received.length;
    const samples = await impairedTone(talker.peer, talker.leg, { seconds, lossRate: 0.05, jitterMs: 40, drift: 0.005 }, 42);
    await sleep(300);
    const to = listener.peer.received.length;
    // Skip the first second (start-up, the buffer learning the jitter).
    const audio = heard(listener.peer, from + 50, to - 10);
    expect(audio.length).toBeGreaterThan(160 * 50 * (seconds - 2));
    expect(toneAmplitude(audio, TONE_HZ), 'the tone, at about its level').toBeGreaterThan(LEVEL * 0.7);
    expect(toneAmplitude(audio, TONE_HZ), 'not louder than sent').toBeLessThan(LEVEL * 1.1);
    expect(toneAmplitude(audio, 600) + toneAmplitude(audio, 1400), 'no other tone').toBeLessThan(LEVEL * 0.1);
    expect(longestSilentRun(audio), 'no gap longer than 40 ms').toBeLessThanOrEqual(2);

    const stats = talker.leg.stats();
    expect(stats.framesConcealed).toBeGreaterThan(0); // the loss was real
    expect(stats.framesConcealed).toBeLessThan(seconds * 50 * 0.12);
    // The target followed the jitter (up to 40 ms); the delay stayed bounded and
    // did not creep up over the run.
    const targets = samples.map((s) => s.targetMs);
    expect(Math.max(...targets), "target rose well above its 20 ms floor").toBeGreaterThanOrEqual(30);
    const delays = samples.map((s) => s.bufferMs).filter((d) => d > 0);
    expect(Math.max(...delays)).toBeLessThanOrEqual(200);
    const tenth = Math.floor(delays.length / 4);
    expect(mean(delays.slice(-tenth))).toBeLessThanOrEqual(mean(delays.slice(tenth, 2 * tenth)) + 30);
  }, 30_000);

  it.each([
    { drift: 0.01, what: 'fast: frames dropped' },
    { drift: -0.01, what: 'slow: frames inserted' },
  ])('follows a sender clock 1 % $what, without the delay drifting', async ({ drift }) => {
    const engine = await startEngine(JITTER_PORTS);
    const room = engine.createRoom();
    const talker = await legWithPeer(engine, 'talker');
    const listener = await legWithPeer(engine, 'listener');
    talker.leg.join(room, { speak: true, hear: false });
    listener.leg.join(room, { speak: false, hear: true });
    const seconds = 10;
    const samples = await impairedTone(talker.peer, talker.leg, { seconds, lossRate: 0, jitterMs: 5, drift, pauses: true }, 7);
    const stats = talker.leg.stats();
    // 10 s at 1 % = 100 ms = 5 frames to drop or insert.
    if (drift > 0) {
      expect(stats.jitterFramesDropped).toBeGreaterThanOrEqual(3);
      expect(stats.jitterFramesInserted).toBeLessThanOrEqual(stats.jitterFramesDropped);
    } else {
      expect(stats.jitterFramesInserted).toBeGreaterThanOrEqual(3);
      expect(stats.jitterFramesDropped).toBeLessThanOrEqual(stats.jitterFramesInserted);
    }
    const delays = samples.map((s) => s.bufferMs).filter((d) => d > 0);
    const quarter = Math.floor(delays.length / 4);
    // Untracked, 1 % would move the delay by 100 ms over the run; tracked, it
    // stays within two frames (the sender's own timer jitter included).
    expect(Math.abs(mean(delays.slice(-quarter)) - mean(delays.slice(quarter, 2 * quarter)))).toBeLessThanOrEqual(40);
    expect(Math.max(...delays)).toBeLessThanOrEqual(200);
  }, 30_000);
});

/**
 * The mixer's rules over real UDP on 127.0.0.1: levels and gains, the
 * limiter, top-N talkers, the shared encoding for listeners, mute / deaf /
 * hold, talking events, send suppression, the DTMF rate limit and the tick
 * lateness histogram. No timing assertions: every wait is on packets.
 */
import { describe, expect, it } from 'vitest';

import type { MediaEngine } from '../../../src/media/MediaEngine.js';
import type { TalkingEvent } from '../../../src/media/MediaTypes.js';
import { dbfs, toneAmplitude } from '../../support/audio.js';
import { buildRtp, telephoneEvent } from '../../support/rtpPackets.js';
import type { RtpPeer } from '../../support/rtpPeer.js';
import { waitFor } from '../../support/wait.js';
import { useMediaFixture } from './fixture.js';

const { startEngine, legWithPeer } = useMediaFixture();

/** Waits until every peer got `packets` more packets than it has now. */
async function receiveMore(list: RtpPeer[], packets: number): Promise<void> {
  const base = list.map((p) => p.received.length);
  await waitFor(() => list.every((p, i) => p.received.length >= base[i]! + packets), 20_000, `${packets} packets`);
}

/** Waits for `n` more mixer ticks. */
async function ticks(engine: MediaEngine, n: number): Promise<void> {
  const base = engine.stats().ticks;
  await waitFor(() => engine.stats().ticks >= base + n, 20_000, `${n} ticks`);
}

function median(x: Int16Array): number {
  const s = Array.from(x).sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const dB = (ratio: number): number => 20 * Math.log10(ratio);

/** The level of `frequency` in the last packets, in dB relative to `reference` (linear amplitude). */
function levelDb(peer: RtpPeer, frequency: number, reference: number, packets = 40): number {
  return dB(toneAmplitude(peer.lastSamples(packets), frequency) / reference);
}

describe('levels and gains', () => {
  it('a tone crosses the mix at unity within 1 dB and follows the in/out gains', async () => {
    const engine = await startEngine();
    const room = engine.createRoom();
    const talker = await legWithPeer(engine, 'talker');
    const listener = await legWithPeer(engine, 'listener');
    talker.leg.join(room);
    listener.leg.join(room, { speak: false, hear: true });
    const level = dbfs(-12);
    talker.peer.startTone(1000, level);
    await receiveMore([listener.peer], 80);
    expect(Math.abs(levelDb(listener.peer, 1000, level))).toBeLessThanOrEqual(1);

    listener.leg.setGain({ outDb: 6 });
    expect(listener.leg.gain).toEqual({ inDb: 0, outDb: 6 });
    await receiveMore([listener.peer], 60);
    expect(Math.abs(levelDb(listener.peer, 1000, level) - 6)).toBeLessThanOrEqual(1);

    listener.leg.setGain({ outDb: -6 });
    await receiveMore([listener.peer], 60);
    expect(Math.abs(levelDb(listener.peer, 1000, level) + 6)).toBeLessThanOrEqual(1);

    listener.leg.setGain({ outDb: 0 });
    talker.leg.setGain({ inDb: 6 });
    await receiveMore([listener.peer], 60);
    expect(Math.abs(levelDb(listener.peer, 1000, level) - 6)).toBeLessThanOrEqual(1);

    talker.leg.setGain({ inDb: -6 });
    await receiveMore([listener.peer], 60);
    expect(Math.abs(levelDb(listener.peer, 1000, level) + 6)).toBeLessThanOrEqual(1);

    expect(() => talker.leg.setGain({ inDb: 40 })).toThrow(/gain/);
    expect(() => talker.leg.setGain({ outDb: Number.NaN })).toThrow(/gain/);
  });
});

describe('limiter', () => {
  it('ten simultaneous full-scale talkers never clip, wrap or flip sign', async () => {
    const engine = await startEngine({ maxTalkers: 10 });
    const rooms = [engine.createRoom(), engine.createRoom()];
    const signs = [1, -1];
    const talkers: Array<Awaited<ReturnType<typeof legWithPeer>>> = [];
    const listeners: Array<Awaited<ReturnType<typeof legWithPeer>>> = [];
    for (const [r, room] of rooms.entries()) {
      const frame = new Int16Array(160).fill(signs[r]! * 32767);
      for (let i = 0; i < 10; i++) {
        const t = await legWithPeer(engine, `t${r}-${i}`);
        t.leg.join(room);
        t.peer.startStream(() => frame);
        talkers.push(t);
      }
      const l = await legWithPeer(engine, `l${r}`);
      l.leg.join(room, { speak: false, hear: true });
      listeners.push(l);
    }
    await receiveMore([...listeners, ...talkers].map((x) => x.peer), 100);
    for (const [r, l] of listeners.entries()) {
      const sign = signs[r]!;
      // Everything since the start: the limiter acts from the first frame.
      const all = l.peer.lastSamples(l.peer.received.length);
      for (const s of all) {
        expect(s * sign).toBeGreaterThanOrEqual(0); // no sign flip, no wrap-around
        expect(Math.abs(s)).toBeLessThanOrEqual(29204); // under -1 dBFS: never at full scale
      }
      // Limited, not muted: the steady state sits at the threshold (not every
      // sample: a late packet makes the limiter release for a while).
      expect(median(l.peer.lastSamples(25)) * sign).toBeGreaterThanOrEqual(27000);
    }
    // Talkers (in the mix) hear the nine others, limited the same way.
    for (const [i, t] of talkers.entries()) {
      const sign = signs[Math.floor(i / 10)]!;
      const heard = t.peer.lastSamples(25);
      for (const s of heard) {
        expect(s * sign).toBeGreaterThan(0);
        expect(Math.abs(s)).toBeLessThanOrEqual(29204);
      }
      expect(median(heard) * sign).toBeGreaterThanOrEqual(27000);
    }
  });
});

describe('talker selection', () => {
  it('only the loudest maxTalkers talkers are heard', async () => {
    const engine = await startEngine();
    const room = engine.createRoom({ maxTalkers: 3 });
    expect(room.maxTalkers).toBe(3);
    const freqs = [400, 700, 1000, 1300, 1700, 2100];
    const levels = [-10, -22, -13, -25, -16, -28].map(dbfs); // loud: 400, 1000, 1700
    const parts = await Promise.all(freqs.map((_, i) => legWithPeer(engine, `t${i}`)));
    for (const p of parts) p.leg.join(room);
    const listener = await legWithPeer(engine, 'listener');
    listener.leg.join(room, { speak: false, hear: true });
    parts.forEach((p, i) => p.peer.startTone(freqs[i]!, levels[i]!));
    await receiveMore([listener.peer, ...parts.map((p) => p.peer)], 100);
    const heard = listener.peer.lastSamples(50);
    freqs.forEach((f, i) => {
      const a = toneAmplitude(heard, f);
      if (i % 2 === 0) expect(a, `${f} Hz is among the loudest`).toBeGreaterThan(levels[i]! * 0.8);
      else expect(a, `${f} Hz is not`).toBeLessThan(levels[i]! * 0.05);
    });
    // A quiet talker (not in the mix) hears the shared mix: the three loud ones.
    const quiet = parts[1]!.peer.lastSamples(50);
    expect(toneAmplitude(quiet, 400)).toBeGreaterThan(levels[0]! * 0.8);
    expect(toneAmplitude(quiet, 2100)).toBeLessThan(levels[5]! * 0.05);
    // Room-level change: with 6 talkers allowed, everyone is heard.
    room.setMaxTalkers(6);
    await receiveMore([listener.peer], 60);
    const all = listener.peer.lastSamples(40);
    freqs.forEach((f, i) => expect(toneAmplitude(all, f), `${f} Hz`).toBeGreaterThan(levels[i]! * 0.8));
  });

  it('non-talking listeners on one codec get byte-identical payloads (one shared encoding)', async () => {
    const engine = await startEngine();
    const room = engine.createRoom();
    const a = await legWithPeer(engine, 'a');
    const b = await legWithPeer(engine, 'b');
    a.leg.join(room);
    b.leg.join(room);
    const listeners = await Promise.all([0, 1, 2].map((i) => legWithPeer(engine, `l${i}`)));
    listeners[0]!.leg.join(room, { speak: false, hear: true });
    listeners[1]!.leg.join(room, { speak: false, hear: true });
    listeners[2]!.leg.join(room); // may speak, but is silent: not a talker either
    a.peer.startTone(450, dbfs(-12));
    b.peer.startStream((i) => {
      // a chirp, so that consecutive frames differ
      const out = new Int16Array(160);
      for (let k = 0; k < 160; k++) out[k] = Math.round(dbfs(-14) * Math.sin((2 * Math.PI * (300 + (i % 40) * 20) * (i * 160 + k)) / 8000));
      return out;
    });
    await receiveMore(listeners.map((l) => l.peer), 100);
    const ref = listeners[0]!.peer.received.slice(-40, -10).map((p) => p.payload.toString('hex'));
    expect(new Set(ref).size).toBeGreaterThan(20); // real, changing audio
    for (const l of listeners.slice(1)) {
      const got = l.peer.received.map((p) => p.payload.toString('hex'));
      // The two streams repeat (a 450 Hz tone and a 40-frame chirp), so a
      // payload can occur more than once: align on the occurrence that
      // starts the same run (an earlier period may differ by a concealed frame).
      const starts = got.flatMap((payload, i) => (payload === ref[0] ? [i] : []));
      expect(starts.length, 'the same payload reached the other listener').toBeGreaterThan(0);
      const start = starts.find((i) => got.slice(i, i + ref.length).join() === ref.join()) ?? starts[0]!;
      expect(got.slice(start, start + ref.length)).toEqual(ref);
    }
    // A talker in the mix hears N-1: not the shared payload.
    const aGot = new Set(a.peer.received.map((p) => p.payload.toString('hex')));
    expect(ref.filter((x) => aGot.has(x)).length).toBeLessThan(3);
  });
});

describe('mute, deaf, hold', () => {
  it('a muted leg is absent from every mix, a deaf leg hears pure silence', async () => {
    const engine = await startEngine();
    const room = engine.createRoom();
    const a = await legWithPeer(engine, 'a');
    const muted = await legWithPeer(engine, 'muted');
    const listener = await legWithPeer(engine, 'listener');
    const deaf = await legWithPeer(engine, 'deaf');
    a.leg.join(room);
    muted.leg.join(room, { speak: false, hear: true });
    listener.leg.join(room, { speak: false, hear: true });
    deaf.leg.join(room, { speak: true, hear: false });
    const level = dbfs(-12);
    a.peer.startTone(450, level);
    muted.peer.startTone(1750, dbfs(-6)); // the loudest leg, yet muted
    deaf.peer.startTone(1100, level);
    await receiveMore([a.peer, muted.peer, listener.peer, deaf.peer], 100);
    for (const p of [a.peer, listener.peer]) {
      const s = p.lastSamples(50);
      expect(toneAmplitude(s, 1750)).toBeLessThan(level * 0.02);
      expect(toneAmplitude(s, 1100)).toBeGreaterThan(level * 0.8); // the deaf leg still speaks
    }
    expect(toneAmplitude(muted.peer.lastSamples(50), 450)).toBeGreaterThan(level * 0.8);
    // Deaf: every payload byte is the mu-law code of 0.
    for (const p of deaf.peer.received.slice(-50)) expect(p.payload.every((x) => x === 0xff)).toBe(true);
  });

  it('a held leg hears only the music, is not mixed, and stays muted when unheld muted', async () => {
    const engine = await startEngine();
    const room = engine.createRoom();
    const a = await legWithPeer(engine, 'a');
    const b = await legWithPeer(engine, 'b');
    const h = await legWithPeer(engine, 'held');
    for (const x of [a, b, h]) x.leg.join(room);
    const level = dbfs(-12);
    a.peer.startTone(450, level);
    b.peer.startTone(1100, level);
    h.peer.startTone(1750, level);
    await receiveMore([a.peer, h.peer], 60);
    expect(toneAmplitude(a.peer.lastSamples(25), 1750)).toBeGreaterThan(level * 0.8);

    const music = engine.createToneSound({ frequencies: [2000], durationMs: 300, levelDbfs: -12 });
    h.leg.hold(music);
    expect(h.leg.held).toBe(true);
    // Several loops of the 300 ms music.
    await receiveMore([a.peer, h.peer], 100);
    const heard = h.peer.lastSamples(60);
    expect(toneAmplitude(heard, 2000)).toBeGreaterThan(level * 0.7);
    expect(toneAmplitude(heard, 450)).toBeLessThan(level * 0.02);
    expect(toneAmplitude(heard, 1100)).toBeLessThan(level * 0.02);
    expect(toneAmplitude(a.peer.lastSamples(40), 1750)).toBeLessThan(level * 0.02);

    // Muted while held, then unheld: hears the room again, still not mixed.
    h.leg.update({ speak: false });
    h.leg.unhold();
    expect(h.leg.held).toBe(false);
    await receiveMore([a.peer, h.peer], 60);
    const back = h.peer.lastSamples(25);
    expect(toneAmplitude(back, 450)).toBeGreaterThan(level * 0.8);
    expect(toneAmplitude(back, 2000)).toBeLessThan(level * 0.02);
    expect(toneAmplitude(a.peer.lastSamples(40), 1750)).toBeLessThan(level * 0.02);
    expect(toneAmplitude(b.peer.lastSamples(40), 1750)).toBeLessThan(level * 0.02);

    // Hold without music: silence.
    h.leg.hold(undefined);
    await receiveMore([h.peer], 30);
    for (const p of h.peer.received.slice(-20)) expect(p.payload.every((x) => x === 0xff)).toBe(true);
  });
});

describe('talking events', () => {
  it('fire once on speech with pauses and stop after silence', async () => {
    const engine = await startEngine();
    const { leg, peer } = await legWithPeer(engine, 'speaker');
    const started: TalkingEvent[] = [];
    const stopped: TalkingEvent[] = [];
    leg.on('talkingStarted', (e) => started.push(e));
    leg.on('talkingStopped', (e) => stopped.push(e));
    const level = dbfs(-12);
    // 300 ms of tone, 160 ms of digital silence, three times: one talk spurt.
    const silent = new Int16Array(160);
    peer.startStream((i) => {
      if (i >= 75) return silent;
      if (i % 23 >= 15) return silent;
      const out = new Int16Array(160);
      for (let k = 0; k < 160; k++) out[k] = Math.round(level * Math.sin((2 * Math.PI * 500 * (i * 160 + k)) / 8000));
      return out;
    });
    await waitFor(() => started.length >= 1, 10_000, 'talkingStarted');
    expect(leg.talking).toBe(true);
    expect(Math.abs(started[0]!.energy - (-15))).toBeLessThanOrEqual(2); // sine RMS: level - 3 dB
    await waitFor(() => stopped.length >= 1, 20_000, 'talkingStopped');
    expect(leg.talking).toBe(false);
    expect(stopped[0]!.energy).toBeLessThan(-46);
    await ticks(engine, 30);
    expect(started).toHaveLength(1);
    expect(stopped).toHaveLength(1);
  });
});

describe('send suppression', () => {
  it('setSending(false) stops outgoing RTP while receive goes on; true resumes with a marker', async () => {
    const engine = await startEngine();
    const room = engine.createRoom();
    const { leg, peer } = await legWithPeer(engine, 'phone-on-hold');
    const other = await legWithPeer(engine, 'other');
    leg.join(room);
    other.leg.join(room, { speak: false, hear: true });
    const level = dbfs(-12);
    peer.startTone(700, level);
    await receiveMore([peer, other.peer], 30);

    leg.setSending(false);
    expect(leg.sending).toBe(false);
    await ticks(engine, 5); // packets already in flight arrive
    const frozen = peer.received.length;
    const rx = leg.stats().packetsReceived;
    await receiveMore([other.peer], 50);
    expect(peer.received.length).toBe(frozen);
    expect(leg.stats().packetsReceived).toBeGreaterThan(rx + 20);
    // Still mixed: the other leg hears it.
    expect(toneAmplitude(other.peer.lastSamples(25), 700)).toBeGreaterThan(level * 0.8);

    const last = peer.received[peer.received.length - 1]!;
    leg.setSending(true);
    await receiveMore([peer], 10);
    const first = peer.received[frozen]!;
    expect(first.marker).toBe(true);
    expect(first.sequence).toBe((last.sequence + 1) & 0xffff);
    // The timestamp kept running while nothing was sent.
    expect(((first.timestamp - last.timestamp) >>> 0) / 160).toBeGreaterThan(40);
  });
});

describe('DTMF rate limit', () => {
  it('a flood of distinct presses does not become a flood of events', async () => {
    const engine = await startEngine();
    const { leg, peer } = await legWithPeer(engine, 'flood');
    const digits: string[] = [];
    leg.on('dtmf', (e) => digits.push(e.digit));
    const n = 200;
    for (let i = 0; i < n; i++) {
      peer.send(buildRtp({ payloadType: 101, sequence: i + 1, timestamp: 1000 + i * 800, ssrc: 42, marker: true }, telephoneEvent(i % 10, false, 160)));
    }
    await waitFor(() => leg.stats().dtmfEvents + leg.stats().dtmfSuppressed >= n, 10_000, 'all presses seen');
    await ticks(engine, 5);
    const s = leg.stats();
    expect(s.dtmfEvents + s.dtmfSuppressed).toBe(n);
    expect(s.dtmfSuppressed).toBeGreaterThan(0);
    expect(digits.length).toBe(s.dtmfEvents);
    expect(digits.length).toBeLessThan(n / 2);
  });
});

describe('engine stats', () => {
  it('exposes the tick lateness histogram and dropped events', async () => {
    const engine = await startEngine({ workerThreads: 2 });
    await ticks(engine, 20);
    const s = engine.stats();
    expect(s.eventsDropped).toBe(0);
    expect(s.tickLatenessHistogramUs.bucketUs).toBe(100);
    expect(s.tickLatenessHistogramUs.counts).toHaveLength(201);
    const total = s.tickLatenessHistogramUs.counts.reduce((x, y) => x + y, 0);
    expect(total).toBeGreaterThanOrEqual(20);
    const later = engine.stats().tickLatenessHistogramUs.counts.reduce((x, y) => x + y, 0);
    expect(later).toBeGreaterThanOrEqual(total); // cumulative
    expect(() => engine.createRoom({ maxTalkers: 0 })).toThrow(/maxTalkers/);
  });
});

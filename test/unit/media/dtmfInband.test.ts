import { describe, expect, it } from 'vitest';

import type { MediaLeg } from '../../../src/media/MediaLeg.js';
import type { DtmfEvent } from '../../../src/media/MediaTypes.js';
import { decodeMulaw } from '../../support/audio.js';
import { dtmfSequence, type TimedPacket } from '../../support/rtpPackets.js';
import type { RtpPeer } from '../../support/rtpPeer.js';
import { sleep, waitFor } from '../../support/wait.js';
import { useMediaFixture } from './fixture.js';

const { startEngine, openPeer } = useMediaFixture();
const PORTS = { rtpPortMin: 29000, rtpPortMax: 29199 };

const KEYS = '123A456B789C*0#D';
const LOW = [697, 770, 852, 941];
const HIGH = [1209, 1336, 1477, 1633];
const TONE_AMPLITUDE = 5000; // each of the two tones, about -16 dBFS
const TONE_MS = 80;
const GAP_MS = 80;
// The room's talker: low enough that a hiccup in its stream (this test's
// sender is a Node timer) does not splatter into the DTMF bins.
const VOICE_HZ = 350;
const VOICE_AMPLITUDE = 2000;

function keyFrequencies(key: string): [number, number] {
  const k = KEYS.indexOf(key);
  return [LOW[Math.floor(k / 4)]!, HIGH[k % 4]!];
}

/** `count` digits from a seeded generator, with many repeats ("11", "555"). */
function digitString(seed: number, count: number): string {
  let x = seed;
  const next = (): number => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x / 0x7fffffff;
  };
  let s = '';
  while (s.length < count) {
    const repeat = s.length > 0 && next() < 0.3;
    s += repeat ? s[s.length - 1]! : KEYS[Math.floor(next() * KEYS.length)]!;
  }
  return s;
}

/** The in-band audio of `digits`: TONE_MS of the key's two tones, then GAP_MS of silence, each. */
function dtmfAudio(digits: string): Int16Array {
  const perDigit = ((TONE_MS + GAP_MS) * 8000) / 1000;
  const toneSamples = (TONE_MS * 8000) / 1000;
  const out = new Int16Array(perDigit * digits.length + 8000);
  for (let d = 0; d < digits.length; d++) {
    const [fl, fh] = keyFrequencies(digits[d]!);
    for (let i = 0; i < toneSamples; i++) {
      const t = i / 8000;
      out[d * perDigit + i] = Math.round(TONE_AMPLITUDE * (Math.sin(2 * Math.PI * fl * t) + Math.sin(2 * Math.PI * fh * t)));
    }
  }
  return out;
}

function sineFrames(frequency: number, amplitude: number): (i: number) => Int16Array {
  return (i) => {
    const f = new Int16Array(160);
    for (let k = 0; k < 160; k++) f[k] = Math.round(amplitude * Math.sin((2 * Math.PI * frequency * (i * 160 + k)) / 8000));
    return f;
  };
}

/**
 * Amplitude of `frequency` in `samples` (Hann-windowed DFT bin, scaled so a
 * pure sine of amplitude A reads A): the window keeps the room's voice
 * voice from leaking into the DTMF bins.
 */
function windowedAmplitude(samples: Int16Array, frequency: number): number {
  const n = samples.length;
  let re = 0;
  let im = 0;
  let wsum = 0;
  for (let i = 0; i < n; i++) {
    const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
    const ph = (2 * Math.PI * frequency * i) / 8000;
    re += w * samples[i]! * Math.cos(ph);
    im -= w * samples[i]! * Math.sin(ph);
    wsum += w;
  }
  return (2 * Math.hypot(re, im)) / wsum;
}

interface Sender {
  leg: MediaLeg;
  peer: RtpPeer;
  digits: string;
  kind: 'inband' | 'rfc4733+inband' | 'rfc4733';
  got: DtmfEvent[];
}

describe('in-band DTMF and keeping digits out of the room', () => {
  it('detects 1,000 digits (in-band, RFC 4733 with and without shared timestamps, repeats) and none reaches the mix', async () => {
    const engine = await startEngine(PORTS);
    const room = engine.createRoom();
    const newLeg = async (callId: string): Promise<{ leg: MediaLeg; peer: RtpPeer }> => {
      const peer = await openPeer();
      const leg = engine.createLeg({
        callId,
        codec: 'PCMU',
        payloadType: 0,
        telephoneEventPayloadType: 101,
        remote: { address: peer.address, port: peer.port },
      });
      peer.target(leg.localAddress, leg.localPort);
      return { leg, peer };
    };

    // A talker the room must keep hearing, and the listener whose ears we check.
    const voice = await newLeg('voice');
    voice.leg.join(room, { speak: true, hear: false });
    const listener = await newLeg('listener');
    listener.leg.join(room, { speak: false, hear: true });

    const kinds: Sender['kind'][] = ['inband', 'inband', 'inband', 'inband', 'rfc4733+inband', 'rfc4733+inband', 'rfc4733+inband', 'rfc4733', 'rfc4733', 'rfc4733'];
    const senders: Sender[] = [];
    for (let i = 0; i < kinds.length; i++) {
      const { leg, peer } = await newLeg(`dtmf-${i}`);
      leg.join(room);
      const s: Sender = { leg, peer, digits: digitString(1000 + i, 100), kind: kinds[i]!, got: [] };
      leg.on('dtmf', (e) => s.got.push(e));
      senders.push(s);
    }
    expect(senders.reduce((n, s) => n + s.digits.length, 0)).toBe(1000);

    voice.peer.startStream(sineFrames(VOICE_HZ, VOICE_AMPLITUDE));
    await sleep(300);
    const listenFrom = listener.peer.received.length;

    // Every sender starts together and, like a phone, sends its audio and
    // its RFC 4733 packets from one clock.
    const scheduled: Array<{ peer: RtpPeer; audio: Int16Array; frame: number; packets: TimedPacket[]; next: number }> = [];
    for (const [i, s] of senders.entries()) {
      const audio = s.kind === 'rfc4733' ? new Int16Array(dtmfAudio(s.digits).length) : dtmfAudio(s.digits);
      const packets =
        s.kind === 'inband'
          ? []
          : dtmfSequence(s.digits, {
              payloadType: 101,
              ssrc: 0x4733_0000 + i,
              toneMs: TONE_MS,
              gapMs: GAP_MS,
              sameTimestamp: s.kind === 'rfc4733+inband', // sipp's stock pcaps: one timestamp for all
              firstSequence: 100,
            });
      scheduled.push({ peer: s.peer, audio, frame: 0, packets, next: 0 });
    }
    const start = Date.now();
    const pump = setInterval(() => {
      const now = Date.now() - start;
      for (const sch of scheduled) {
        while (sch.frame * 20 <= now) {
          const off = sch.frame++ * 160;
          sch.peer.sendFrame(off + 160 <= sch.audio.length ? sch.audio.subarray(off, off + 160) : new Int16Array(160));
        }
        while (sch.next < sch.packets.length && sch.packets[sch.next]!.atMs <= now) sch.peer.send(sch.packets[sch.next++]!.packet);
      }
    }, 5);
    try {
      await waitFor(() => senders.every((s) => s.got.length >= s.digits.length), 60_000, 'all 1,000 digits');
      await sleep(500);
    } finally {
      clearInterval(pump);
    }

    // What the listener heard: the voice throughout, no DTMF frequency ever.
    const heard = listener.peer.received.slice(listenFrom).map((p) => decodeMulaw(p.payload));
    const all = new Int16Array(heard.length * 160);
    heard.forEach((f, i) => all.set(f.subarray(0, 160), i * 160));
    let worstDtmf = 0;
    let worstHigh = 0;
    const voiceLevels: number[] = [];
    for (let off = 0; off + 320 <= all.length; off += 160) {
      const w = all.subarray(off, off + 320);
      // A key is a pair: one low and one high tone. (A hiccup in the voice,
      // e.g. a late packet from this test's own sender, splatters energy
      // into the low group only.)
      const low = Math.max(...LOW.map((f) => windowedAmplitude(w, f)));
      const high = Math.max(...HIGH.map((f) => windowedAmplitude(w, f)));
      worstDtmf = Math.max(worstDtmf, Math.min(low, high));
      worstHigh = Math.max(worstHigh, high);
      voiceLevels.push(windowedAmplitude(w, VOICE_HZ));
    }
    voiceLevels.sort((a, b) => a - b);
    expect(heard.length).toBeGreaterThan(500);
    expect(voiceLevels[Math.floor(voiceLevels.length * 0.05)]!).toBeGreaterThan(VOICE_AMPLITUDE * 0.89); // -1 dB
    // 40 dB below each sent tone: nothing of the keys is audible.
    process.stderr.write(`dtmf leak: pair ${worstDtmf.toFixed(1)}, high ${worstHigh.toFixed(1)} (tones sent at ${TONE_AMPLITUDE})\n`);
    expect(worstDtmf).toBeLessThan(TONE_AMPLITUDE / 100);
    expect(worstHigh).toBeLessThan(TONE_AMPLITUDE / 50);

    for (const s of senders) {
      expect(s.got.map((e) => e.digit).join(''), `${s.kind} ${s.leg.callId}`).toBe(s.digits);
      const want = s.kind === 'inband' ? 'inband' : 'rfc4733';
      expect(s.got.every((e) => e.source === want), `${s.leg.callId} sources`).toBe(true);
      expect(s.leg.stats().dtmfSuppressed).toBe(0);
      if (s.kind !== 'rfc4733') expect(s.leg.stats().framesDtmfGated).toBeGreaterThan(100 * 3);
    }
  });

  it('reports an in-band digit on a lobby leg and interrupts its prompt', async () => {
    const engine = await startEngine(PORTS);
    const peer = await openPeer();
    const leg = engine.createLeg({ callId: 'lobby', codec: 'PCMU', payloadType: 0, remote: { address: peer.address, port: peer.port } });
    peer.target(leg.localAddress, leg.localPort);
    const got: DtmfEvent[] = [];
    leg.on('dtmf', (e) => got.push(e));
    const done: boolean[] = [];
    leg.on('playbackDone', (e) => done.push(e.interrupted));
    leg.play(engine.createToneSound({ frequencies: [400], durationMs: 10_000 }));
    const audio = dtmfAudio('#');
    peer.startStream((f) => (f * 160 + 160 <= audio.length ? audio.subarray(f * 160, f * 160 + 160) : new Int16Array(160)));
    await waitFor(() => got.length === 1 && done.length === 1, 10_000, 'digit and interrupted prompt');
    expect(got[0]).toEqual({ digit: '#', source: 'inband', durationMs: 0 });
    expect(done).toEqual([true]);
  });
});

import { describe, expect, it } from 'vitest';

import type { MediaLeg } from '../../../src/media/MediaLeg.js';
import type { PlaybackDoneEvent } from '../../../src/media/MediaTypes.js';
import { dbfs, toneAmplitude } from '../../support/audio.js';
import { buildRtp, telephoneEvent } from '../../support/rtpPackets.js';
import type { RtpPeer } from '../../support/rtpPeer.js';
import { waitFor } from '../../support/wait.js';
import { useMediaFixture } from './fixture.js';

const { startEngine, legWithPeer, pairInRoom } = useMediaFixture();

function collectDone(leg: MediaLeg): PlaybackDoneEvent[] {
  const done: PlaybackDoneEvent[] = [];
  leg.on('playbackDone', (e) => done.push(e));
  return done;
}

function pressDigit(peer: RtpPeer, code: number, ts: number): void {
  let seq = 7000 + ts;
  for (const [end, dur] of [[false, 160], [true, 480], [true, 480], [true, 480]] as const) {
    peer.send(buildRtp({ payloadType: 101, sequence: seq++, timestamp: ts, ssrc: 42 }, telephoneEvent(code, end, dur)));
  }
}

describe('player', () => {
  it('plays a tone to a lobby leg and reports playbackDone', async () => {
    const engine = await startEngine();
    const { leg, peer } = await legWithPeer(engine, 'play-1');
    const tone = engine.createToneSound({ frequencies: [1000], durationMs: 600, levelDbfs: -12 });
    expect(tone.durationMs).toBe(600);
    const done = collectDone(leg);
    const start = peer.received.length;
    const id = leg.play(tone);
    expect(leg.playbackId).toBe(id);
    await waitFor(() => done.length === 1, 10_000, 'playbackDone');
    expect(done[0]).toEqual({ playbackId: id, interrupted: false });
    expect(leg.playbackId).toBeUndefined();
    await waitFor(() => peer.received.length >= start + 40, 10_000, 'packets');
    const samples = peer.lastSamples(peer.received.length - start);
    // Find the tone in the received stream (in 200 ms windows).
    let best = 0;
    for (let off = 0; off + 1600 <= samples.length; off += 160) {
      best = Math.max(best, toneAmplitude(samples.subarray(off, off + 1600), 1000));
    }
    expect(best).toBeGreaterThan(dbfs(-12) * 0.5);
  });

  it('mixes a prompt over the room audio', async () => {
    const engine = await startEngine();
    const { a, b } = await pairInRoom(engine);
    b.peer.startTone(450, dbfs(-12));
    await waitFor(() => a.peer.received.length > 30, 10_000, 'room audio');
    const prompt = engine.createToneSound({ frequencies: [1750], durationMs: 5000, levelDbfs: -12 });
    const start = a.peer.received.length;
    a.leg.play(prompt);
    await waitFor(() => a.peer.received.length >= start + 40, 10_000, 'packets');
    const s = a.peer.lastSamples(20);
    expect(toneAmplitude(s, 1750)).toBeGreaterThan(dbfs(-12) * 0.5);
    expect(toneAmplitude(s, 450)).toBeGreaterThan(dbfs(-12) * 0.5);
    // The prompt is private to the leg.
    expect(toneAmplitude(b.peer.lastSamples(20), 1750)).toBeLessThan(dbfs(-12) * 0.02);
  });

  it('a DTMF digit interrupts an interruptible playback and is still reported', async () => {
    const engine = await startEngine();
    const { leg, peer } = await legWithPeer(engine, 'play-2');
    const long = engine.createToneSound({ frequencies: [350, 440], durationMs: 20_000 });
    const done = collectDone(leg);
    const order: string[] = [];
    leg.on('dtmf', (e) => order.push(`dtmf:${e.digit}`));
    leg.on('playbackDone', (e) => order.push(`done:${e.interrupted}`));
    const id = leg.play([long, long]);
    await waitFor(() => peer.received.length > 10, 10_000, 'packets');
    pressDigit(peer, 5, 1000);
    await waitFor(() => done.length === 1, 10_000, 'playbackDone');
    expect(done[0]).toEqual({ playbackId: id, interrupted: true });
    expect(order).toEqual(['dtmf:5', 'done:true']);
  });

  it('a non-interruptible playback ignores DTMF; play() and stopPlayback() interrupt', async () => {
    const engine = await startEngine();
    const { leg, peer } = await legWithPeer(engine, 'play-3');
    const short = engine.createToneSound({ frequencies: [800], durationMs: 400 });
    const long = engine.createToneSound({ frequencies: [800], durationMs: 20_000 });
    const done = collectDone(leg);
    const digits: string[] = [];
    leg.on('dtmf', (e) => digits.push(e.digit));
    const before = peer.received.length;
    const p1 = leg.play(short, { interruptibleByDtmf: false });
    await waitFor(() => peer.received.length > before + 5, 10_000, 'playback under way');
    pressDigit(peer, 9, 2000);
    await waitFor(() => done.length === 1, 10_000, 'first playbackDone');
    expect(digits).toEqual(['9']);
    expect(done[0]).toEqual({ playbackId: p1, interrupted: false });
    const p2 = leg.play(long);
    const p3 = leg.play(long);
    await waitFor(() => done.length === 2, 10_000, 'replaced playback');
    expect(done[1]).toEqual({ playbackId: p2, interrupted: true });
    leg.stopPlayback();
    await waitFor(() => done.length === 3, 10_000, 'stopped playback');
    expect(done[2]).toEqual({ playbackId: p3, interrupted: true });
    // An empty queue completes at once.
    const p4 = leg.play([]);
    await waitFor(() => done.length === 4, 10_000, 'empty playback');
    expect(done[3]).toEqual({ playbackId: p4, interrupted: false });
  });
});

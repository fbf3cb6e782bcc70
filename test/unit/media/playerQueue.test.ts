import { describe, expect, it } from 'vitest';

import type { PlaybackDoneEvent } from '../../../src/media/MediaTypes.js';
import { dbfs, toneAmplitude } from '../../support/audio.js';
import { buildRtp, telephoneEvent } from '../../support/rtpPackets.js';
import type { RtpPeer } from '../../support/rtpPeer.js';
import { sleep, waitFor } from '../../support/wait.js';
import { useMediaFixture } from './fixture.js';

const { startEngine, legWithPeer } = useMediaFixture();
const PORTS = { rtpPortMin: 29600, rtpPortMax: 29699 };

function pressDigit(peer: RtpPeer, code: number, ts: number): void {
  let seq = 7000 + ts;
  for (const [end, dur] of [[false, 160], [true, 480], [true, 480], [true, 480]] as const) {
    peer.send(buildRtp({ payloadType: 101, sequence: seq++, timestamp: ts, ssrc: 42 }, telephoneEvent(code, end, dur)));
  }
}

/** The strongest of `frequencies` in each 20 ms frame the peer received after `from` (undefined when all are quiet). */
function frameTones(peer: RtpPeer, from: number, frequencies: number[]): Array<number | undefined> {
  const out: Array<number | undefined> = [];
  for (let i = from; i < peer.received.length; i++) {
    const s = peer.lastSamples(peer.received.length - i).subarray(0, 160);
    let best: number | undefined;
    let bestAmp = dbfs(-40);
    for (const f of frequencies) {
      const a = toneAmplitude(s, f);
      if (a > bestAmp) [best, bestAmp] = [f, a];
    }
    out.push(best);
  }
  return out;
}

describe('player queue', () => {
  it('queued playbacks play one after the other, each with its done event', async () => {
    const engine = await startEngine(PORTS);
    const { leg, peer } = await legWithPeer(engine, 'queue-1');
    const a = engine.createToneSound({ frequencies: [500], durationMs: 400, levelDbfs: -12 });
    const b = engine.createToneSound({ frequencies: [1500], durationMs: 400, levelDbfs: -12 });
    const done: PlaybackDoneEvent[] = [];
    leg.on('playbackDone', (e) => done.push(e));
    await waitFor(() => peer.received.length > 5, 5000, 'audio');
    const from = peer.received.length;
    const first = leg.play(a);
    const second = leg.play(b, { queue: true });
    await waitFor(() => done.length === 2, 5000, 'both done');
    await sleep(100);
    expect(done).toEqual([
      { playbackId: first, interrupted: false },
      { playbackId: second, interrupted: false },
    ]);
    // What the phone heard: 500 Hz for ~400 ms, then 1500 Hz for ~400 ms.
    const seq = frameTones(peer, from, [500, 1500]).filter((f) => f !== undefined);
    const runs: Array<[number, number]> = [];
    for (const f of seq) {
      if (runs.length > 0 && runs[runs.length - 1]![0] === f) runs[runs.length - 1]![1]++;
      else runs.push([f!, 1]);
    }
    expect(runs.map((r) => r[0])).toEqual([500, 1500]);
    for (const [, frames] of runs) expect(Math.abs(frames - 20)).toBeLessThanOrEqual(2);
  });

  it('a key skips the prompt playing and the interruptible ones queued, not the others', async () => {
    const engine = await startEngine(PORTS);
    const { leg, peer } = await legWithPeer(engine, 'queue-2');
    const long = engine.createToneSound({ frequencies: [600], durationMs: 5000 });
    const short = engine.createToneSound({ frequencies: [900], durationMs: 300 });
    const done: PlaybackDoneEvent[] = [];
    const digits: string[] = [];
    leg.on('playbackDone', (e) => done.push(e));
    leg.on('dtmf', (e) => digits.push(e.digit));
    const p1 = leg.play(long);
    const p2 = leg.play(long, { queue: true });
    const p3 = leg.play(short, { queue: true, interruptibleByDtmf: false });
    const p4 = leg.play(long, { queue: true });
    await sleep(200);
    pressDigit(peer, 1, 5000);
    await waitFor(() => done.length === 3, 5000, 'three interrupted');
    expect(done).toEqual([
      { playbackId: p1, interrupted: true },
      { playbackId: p2, interrupted: true },
      { playbackId: p4, interrupted: true },
    ]);
    await waitFor(() => done.length === 4, 5000, 'the kept prompt ends');
    expect(done[3]).toEqual({ playbackId: p3, interrupted: false });
    expect(digits).toEqual(['1']);
    // stopPlayback() empties the queue too.
    const q1 = leg.play(long);
    const q2 = leg.play(short, { queue: true, interruptibleByDtmf: false });
    leg.stopPlayback();
    await waitFor(() => done.length === 6, 5000, 'stopped');
    expect(done.slice(4)).toEqual([
      { playbackId: q1, interrupted: true },
      { playbackId: q2, interrupted: true },
    ]);
  });

  it('an announcement reaches every hearing leg of the room, talkers included, but not held legs', async () => {
    const engine = await startEngine(PORTS);
    const room = engine.createRoom();
    const talker = await legWithPeer(engine, 'talker');
    const listener = await legWithPeer(engine, 'listener');
    const held = await legWithPeer(engine, 'held');
    for (const l of [talker, listener, held]) l.leg.join(room);
    held.leg.hold(undefined);
    talker.peer.startTone(400, dbfs(-20));
    await sleep(500);
    const done: PlaybackDoneEvent[] = [];
    room.on('playbackDone', (e) => done.push(e));
    const announcement = engine.createToneSound({ frequencies: [1000], durationMs: 5000, levelDbfs: -20 });
    const id = room.play(announcement);
    await sleep(800);
    const level = (p: RtpPeer, f: number): number => 20 * Math.log10(toneAmplitude(p.lastSamples(20), f) / dbfs(-20));
    expect(Math.abs(level(listener.peer, 1000))).toBeLessThan(1);
    expect(Math.abs(level(listener.peer, 400))).toBeLessThan(1);
    expect(Math.abs(level(talker.peer, 1000))).toBeLessThan(1);
    expect(level(talker.peer, 400)).toBeLessThan(-40); // N-1 still
    expect(level(held.peer, 1000)).toBeLessThan(-40);

    const queued = room.play(announcement, { queue: true });
    room.stopPlayback();
    await waitFor(() => done.length === 2, 5000, 'announcements stopped');
    expect(done).toEqual([
      { playbackId: id, interrupted: true },
      { playbackId: queued, interrupted: true },
    ]);
    const short = room.play(engine.createToneSound({ frequencies: [1000], durationMs: 200 }));
    await waitFor(() => done.length === 3, 5000, 'short announcement done');
    expect(done[2]).toEqual({ playbackId: short, interrupted: false });
  });
});

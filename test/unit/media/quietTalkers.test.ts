import { describe, expect, it } from 'vitest';

import { dbfs, toneAmplitude } from '../../support/audio.js';
import { sleep } from '../../support/wait.js';
import { useMediaFixture } from './fixture.js';

const { startEngine, legWithPeer } = useMediaFixture();
const PORTS = { rtpPortMin: 29700, rtpPortMax: 29799 };

describe('quiet talkers', () => {
  it('a phone too quiet to count as talking fills a free slot; line noise does not', async () => {
    const engine = await startEngine(PORTS);
    const room = engine.createRoom({ maxTalkers: 2 });
    const quiet = await legWithPeer(engine, 'quiet');
    const hiss = await legWithPeer(engine, 'hiss');
    const listener = await legWithPeer(engine, 'listener');
    for (const l of [quiet, hiss, listener]) l.leg.join(room);
    let talking = false;
    quiet.leg.on('talkingStarted', () => (talking = true));
    // -45 dBFS peak (RMS about -48 dB): below the -38 dB talking start.
    quiet.peer.startTone(500, dbfs(-45));
    // -66 dBFS peak (RMS about -69 dB): below the -60 dB noise floor.
    hiss.peer.startTone(1300, dbfs(-66));
    await sleep(1000);
    expect(talking).toBe(false);
    const heard = listener.peer.lastSamples(25);
    expect(Math.abs(20 * Math.log10(toneAmplitude(heard, 500) / dbfs(-45)))).toBeLessThan(1);
    expect(toneAmplitude(heard, 1300)).toBeLessThan(dbfs(-66) / 4);

    // Talkers take the slots first: with both taken, the quiet phone is out.
    const a = await legWithPeer(engine, 'a');
    const b = await legWithPeer(engine, 'b');
    a.leg.join(room);
    b.leg.join(room);
    a.peer.startTone(700, dbfs(-20));
    b.peer.startTone(900, dbfs(-20));
    await sleep(800);
    const busy = listener.peer.lastSamples(25);
    expect(Math.abs(20 * Math.log10(toneAmplitude(busy, 700) / dbfs(-20)))).toBeLessThan(1);
    expect(Math.abs(20 * Math.log10(toneAmplitude(busy, 900) / dbfs(-20)))).toBeLessThan(1);
    expect(toneAmplitude(busy, 500)).toBeLessThan(dbfs(-45) / 10);
  });
});

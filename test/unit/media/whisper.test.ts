import { describe, expect, it } from 'vitest';

import { MediaInvalidArgumentError } from '../../../src/media/MediaErrors.js';
import { dbfs, toneAmplitude } from '../../support/audio.js';
import type { RtpPeer } from '../../support/rtpPeer.js';
import { sleep } from '../../support/wait.js';
import { useMediaFixture } from './fixture.js';

const { startEngine, legWithPeer } = useMediaFixture();
const PORTS = { rtpPortMin: 29500, rtpPortMax: 29599 };
const LEVEL = -20;

/** Level of `frequency` in the last 0.5 s a peer heard, in dB re the sent level. */
function heard(peer: RtpPeer, frequency: number): number {
  return 20 * Math.log10(toneAmplitude(peer.lastSamples(25), frequency) / dbfs(LEVEL));
}

describe('whisper', () => {
  it('a whispering leg is heard only by its targets, over the room, until cleared', async () => {
    const engine = await startEngine(PORTS);
    const room = engine.createRoom();
    const coach = await legWithPeer(engine, 'coach');
    const speaker = await legWithPeer(engine, 'speaker');
    const agent = await legWithPeer(engine, 'agent');
    const other = await legWithPeer(engine, 'other');
    for (const l of [coach, speaker, agent, other]) l.leg.join(room);
    coach.peer.startTone(700, dbfs(LEVEL));
    speaker.peer.startTone(400, dbfs(LEVEL));

    coach.leg.setWhisperTargets([agent.leg]);
    await sleep(1000);
    // The agent hears the room and the coach; everyone else only the room.
    expect(Math.abs(heard(agent.peer, 700))).toBeLessThan(1);
    expect(Math.abs(heard(agent.peer, 400))).toBeLessThan(1);
    expect(Math.abs(heard(other.peer, 400))).toBeLessThan(1);
    expect(heard(other.peer, 700)).toBeLessThan(-40);
    expect(heard(speaker.peer, 700)).toBeLessThan(-40); // in the mix: hears N-1, still no coach
    expect(Math.abs(heard(coach.peer, 400))).toBeLessThan(1); // the coach hears the room
    expect(coach.leg.whisperTargets).toEqual([agent.leg]);

    // A talker in the mix can be a target too (its own N-1 plus the whisper).
    coach.leg.setWhisperTargets([agent.leg, speaker.leg]);
    await sleep(700);
    expect(Math.abs(heard(speaker.peer, 700))).toBeLessThan(1);
    expect(heard(speaker.peer, 400)).toBeLessThan(-40);
    expect(heard(other.peer, 700)).toBeLessThan(-40);

    coach.leg.clearWhisper();
    await sleep(700);
    expect(Math.abs(heard(other.peer, 700))).toBeLessThan(1);
    expect(Math.abs(heard(agent.peer, 700))).toBeLessThan(1);
  });

  it('refuses itself, closed legs and too many targets', async () => {
    const engine = await startEngine(PORTS);
    const a = await legWithPeer(engine, 'a');
    const b = await legWithPeer(engine, 'b');
    expect(() => a.leg.setWhisperTargets([a.leg])).toThrow(MediaInvalidArgumentError);
    b.leg.close();
    expect(() => a.leg.setWhisperTargets([b.leg])).toThrow(/closed/);
    expect(() => a.leg.setWhisperTargets(new Array(17).fill(b.leg))).toThrow(MediaInvalidArgumentError);
  });
});

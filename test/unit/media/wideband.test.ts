import { describe, expect, it } from 'vitest';

import { SUPPORTED_CODECS } from '../../../src/media/index.js';
import { dbfs, toneAmplitude } from '../../support/audio.js';
import { sleep, waitFor } from '../../support/wait.js';
import { useMediaFixture } from './fixture.js';

const { startEngine, trunkedRooms } = useMediaFixture();
const PORTS = { rtpPortMin: 29300, rtpPortMax: 29399 };

function levelDb(amplitude: number, reference: number): number {
  return 20 * Math.log10(amplitude / reference);
}

describe('G.722 legs and wideband rooms', () => {
  it('a G.722 leg hears a G.711 leg and vice versa, at the right frequency and level', async () => {
    const engine = await startEngine(PORTS);
    // Two rooms joined by a G.722 trunk between two legs of the engine:
    //   phone A (PCMU) - leg A | room 1 (16 kHz) | leg X (G722) ==RTP== leg P (G722) | room 2 (16 kHz) | leg B (PCMU) - phone B
    // So A's tone crosses 8->16 kHz resampling, a G.722 encoder and decoder,
    // and 16->8 kHz resampling before phone B hears it; B's tone crosses the
    // same the other way.
    const { a, b, x, p } = await trunkedRooms(engine, { codec: 'G722', payloadType: 9 });
    const level = -20;
    a.peer.startTone(1000, dbfs(level));
    b.peer.startTone(600, dbfs(level));
    await sleep(1500);
    const fromA = a.peer.received.length;
    const fromB = b.peer.received.length;
    await waitFor(() => a.peer.received.length > fromA + 50 && b.peer.received.length > fromB + 50, 5000, 'one second of audio');
    const atB = b.peer.lastSamples(50);
    const atA = a.peer.lastSamples(50);

    // B hears A's 1 kHz (and not its own 600 Hz); A hears B's 600 Hz.
    expect(Math.abs(levelDb(toneAmplitude(atB, 1000), dbfs(level)))).toBeLessThan(1);
    expect(Math.abs(levelDb(toneAmplitude(atA, 600), dbfs(level)))).toBeLessThan(1);
    expect(levelDb(toneAmplitude(atB, 600), dbfs(level))).toBeLessThan(-30);
    expect(levelDb(toneAmplitude(atA, 1000), dbfs(level))).toBeLessThan(-30);
    expect(x.stats().packetsReceived).toBeGreaterThan(50);
    expect(p.stats().packetsUnknownPayload).toBe(0);
  });

  it('lists the codecs SIP may offer', () => {
    expect(SUPPORTED_CODECS.map((c) => c.name)).toEqual(['G722', 'opus', 'PCMU', 'PCMA']);
    expect(SUPPORTED_CODECS.find((c) => c.name === 'G722')).toEqual({ name: 'G722', payloadType: 9, clockRate: 8000, sampleRate: 16000 });
    expect(SUPPORTED_CODECS.find((c) => c.name === 'opus')).toEqual({ name: 'opus', payloadType: 111, clockRate: 48000, sampleRate: 16000, channels: 2 });
  });
});

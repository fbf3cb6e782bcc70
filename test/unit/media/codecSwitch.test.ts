import { describe, expect, it } from 'vitest';

import { dbfs, toneAmplitude } from '../../support/audio.js';
import { sleep, waitFor } from '../../support/wait.js';
import { useMediaFixture } from './fixture.js';

const { startEngine, trunkedRooms } = useMediaFixture();
const PORTS = { rtpPortMin: 17800, rtpPortMax: 17899 };

function levelDb(amplitude: number, reference: number): number {
  return 20 * Math.log10(amplitude / reference);
}

describe('codec changes on a live leg (re-negotiation)', () => {
  it('a trunk of two legs switched PCMU -> opus -> G722 keeps carrying tones at their level', async () => {
    const engine = await startEngine(PORTS);
    // The trunk starts on PCMU and is switched codec by codec below.
    const { a, b, x, p } = await trunkedRooms(engine, { codec: 'PCMU', payloadType: 0 });
    const level = -20;
    a.peer.startTone(1000, dbfs(level));
    b.peer.startTone(600, dbfs(level));

    const listen = async (): Promise<{ atA: number; atB: number }> => {
      await sleep(1200);
      const fromA = a.peer.received.length;
      const fromB = b.peer.received.length;
      await waitFor(() => a.peer.received.length > fromA + 50 && b.peer.received.length > fromB + 50, 5000, 'one second of audio');
      return {
        atB: levelDb(toneAmplitude(b.peer.lastSamples(50), 1000), dbfs(level)),
        atA: levelDb(toneAmplitude(a.peer.lastSamples(50), 600), dbfs(level)),
      };
    };
    for (const [codec, payloadType] of [
      ['PCMU', 0],
      ['opus', 111],
      ['G722', 9],
    ] as const) {
      x.setCodec(codec, payloadType);
      p.setCodec(codec, payloadType);
      expect(x.codec).toBe(codec);
      expect(p.payloadType).toBe(payloadType);
      const heard = await listen();
      expect(Math.abs(heard.atB), `${codec}: ${JSON.stringify(heard)}`).toBeLessThan(1);
      expect(Math.abs(heard.atA), `${codec}: ${JSON.stringify(heard)}`).toBeLessThan(1);
    }
    expect(p.stats().packetsMalformed).toBe(0);
  });

  it('refuses a codec it does not run and a payload type clashing with telephone-event, and keeps the old codec', async () => {
    const engine = await startEngine(PORTS);
    const leg = engine.createLeg({ callId: 'c', codec: 'PCMU', payloadType: 0, telephoneEventPayloadType: 101 });
    expect(() => leg.setCodec('G729' as never, 18)).toThrow(/unsupported codec/);
    expect(() => leg.setCodec('opus', 101)).toThrow(/telephone-event/);
    expect(() => leg.setCodec('opus', 300)).toThrow();
    expect(leg.codec).toBe('PCMU');
    expect(leg.payloadType).toBe(0);
  });
});

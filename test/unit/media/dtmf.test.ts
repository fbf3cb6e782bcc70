import { describe, expect, it } from 'vitest';

import type { DtmfEvent } from '../../../src/media/MediaTypes.js';
import { buildRtp, dtmfEventCode, telephoneEvent } from '../../support/rtpPackets.js';
import type { RtpPeer } from '../../support/rtpPeer.js';
import { sleep, waitFor } from '../../support/wait.js';
import { useMediaFixture } from './fixture.js';

const { startEngine, openPeer, legWithPeer, pairInRoom } = useMediaFixture();

/**
 * Sends digits the way sipp's stock pcaps do: every digit with the SAME RTP
 * timestamp, growing durations, the end packet three times.
 */
async function sendDigits(p: RtpPeer, digits: string, ssrc: number, timestamp = 123456): Promise<void> {
  let seq = 2000;
  for (const d of digits) {
    const code = dtmfEventCode(d);
    for (const [end, dur] of [
      [false, 160],
      [false, 320],
      [false, 480],
      [true, 640],
      [true, 640],
      [true, 640],
    ] as const) {
      p.send(buildRtp({ payloadType: 101, sequence: seq++, timestamp, ssrc, marker: dur === 160 }, telephoneEvent(code, end, dur)));
      await sleep(5);
    }
    await sleep(30);
  }
}

describe('RFC 4733 DTMF', () => {
  it('reports digits from a foreign SSRC and another source port, in order, repeats kept', async () => {
    const engine = await startEngine();
    const { leg, peer: audio } = await legWithPeer(engine, 'dtmf-1');
    const dtmfPort = await openPeer(); // same IP, different source port
    dtmfPort.target(leg.localAddress, leg.localPort);
    const got: DtmfEvent[] = [];
    leg.on('dtmf', (e) => got.push(e));
    audio.startTone(450, 8000);
    await sendDigits(dtmfPort, '11#2233*', 0x5eed1234);
    await waitFor(() => got.length >= 8, 10_000, '8 digits');
    await sleep(200);
    expect(got.map((e) => e.digit).join('')).toBe('11#2233*');
    expect(got.every((e) => e.source === 'rfc4733' && e.durationMs === 0)).toBe(true);
    expect(leg.stats().dtmfEvents).toBe(8);
    expect(leg.stats().packetsFromStrangers).toBe(0);
  });

  it('never leaks telephone-event packets into the room', async () => {
    const engine = await startEngine();
    const { a: { leg: a, peer: pa }, b: { peer: pb } } = await pairInRoom(engine);
    const digits: string[] = [];
    a.on('dtmf', (e) => digits.push(e.digit));
    const before = pb.received.length;
    await sendDigits(pa, '5', 1, 999);
    await waitFor(() => digits.length === 1, 10_000, 'digit');
    await waitFor(() => pb.received.length > before + 20, 10_000, 'packets at b');
    const heard = pb.lastSamples(pb.received.length - before);
    expect(Math.max(...Array.from(heard, Math.abs))).toBeLessThanOrEqual(8);
  });

  it('ignores DTMF when no telephone-event PT was negotiated', async () => {
    const engine = await startEngine();
    const p = await openPeer();
    const leg = engine.createLeg({ callId: 'no-te', codec: 'PCMU', payloadType: 0, remote: { address: p.address, port: p.port } });
    p.target(leg.localAddress, leg.localPort);
    const digits: string[] = [];
    leg.on('dtmf', (e) => digits.push(e.digit));
    await sendDigits(p, '7', 1);
    await waitFor(() => leg.stats().packetsUnknownPayload >= 6, 10_000, 'unknown payload count');
    expect(digits).toEqual([]);
  });
});

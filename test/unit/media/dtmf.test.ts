import { afterEach, describe, expect, it } from 'vitest';

import { MediaEngine } from '../../../src/media/MediaEngine.js';
import type { DtmfEvent } from '../../../src/media/MediaTypes.js';
import { buildRtp, DTMF_CODES, RtpPeer, sleep, telephoneEvent, waitFor } from './helpers.js';

const PORTS = { rtpPortMin: 31000, rtpPortMax: 31999 };

let engine: MediaEngine | undefined;
const peers: RtpPeer[] = [];

afterEach(async () => {
  engine?.close();
  engine = undefined;
  await Promise.all(peers.splice(0).map((p) => p.close()));
});

async function peer(): Promise<RtpPeer> {
  const p = await RtpPeer.open();
  peers.push(p);
  return p;
}

/**
 * Sends digits the way sipp's stock pcaps do: every digit with the SAME RTP
 * timestamp, growing durations, the end packet three times.
 */
async function sendDigits(p: RtpPeer, digits: string, ssrc: number, timestamp = 123456): Promise<void> {
  let seq = 2000;
  for (const d of digits) {
    const code = DTMF_CODES[d]!;
    for (const [end, dur] of [
      [false, 160],
      [false, 320],
      [false, 480],
      [true, 640],
      [true, 640],
      [true, 640],
    ] as const) {
      p.send(buildRtp({ payloadType: 101, seq: seq++, timestamp, ssrc, marker: dur === 160, payload: telephoneEvent(code, end, dur) }));
      await sleep(5);
    }
    await sleep(30);
  }
}

describe('RFC 4733 DTMF', () => {
  it('reports digits from a foreign SSRC and another source port, in order, repeats kept', async () => {
    engine = await MediaEngine.create({ bindAddress: '127.0.0.1', ...PORTS });
    const audio = await peer();
    const dtmfPort = await peer(); // same IP, different source port
    const leg = engine.createLeg({
      callId: 'dtmf-1',
      codec: 'PCMU',
      payloadType: 0,
      telephoneEventPayloadType: 101,
      remote: { address: audio.address, port: audio.port },
    });
    audio.target(leg.localAddress, leg.localPort);
    dtmfPort.target(leg.localAddress, leg.localPort);
    const got: DtmfEvent[] = [];
    leg.on('dtmf', (e) => got.push(e));
    audio.startTone(450, 8000);
    await sendDigits(dtmfPort, '11#2233*', 0x5eed1234);
    await waitFor(() => got.length >= 8, '8 digits');
    await sleep(200);
    expect(got.map((e) => e.digit).join('')).toBe('11#2233*');
    expect(got.every((e) => e.source === 'rfc4733' && e.durationMs === 0)).toBe(true);
    expect(leg.stats().dtmfEvents).toBe(8);
    expect(leg.stats().packetsFromStrangers).toBe(0);
  });

  it('never leaks telephone-event packets into the room', async () => {
    engine = await MediaEngine.create({ bindAddress: '127.0.0.1', ...PORTS });
    const room = engine.createRoom();
    const pa = await peer();
    const pb = await peer();
    const a = engine.createLeg({ callId: 'a', codec: 'PCMU', payloadType: 0, telephoneEventPayloadType: 101, remote: { address: pa.address, port: pa.port } });
    const b = engine.createLeg({ callId: 'b', codec: 'PCMU', payloadType: 0, telephoneEventPayloadType: 101, remote: { address: pb.address, port: pb.port } });
    pa.target(a.localAddress, a.localPort);
    a.join(room);
    b.join(room);
    const digits: string[] = [];
    a.on('dtmf', (e) => digits.push(e.digit));
    const before = pb.received.length;
    await sendDigits(pa, '5', 1, 999);
    await waitFor(() => digits.length === 1, 'digit');
    await waitFor(() => pb.received.length > before + 20, 'packets at b');
    const heard = pb.lastSamples(pb.received.length - before);
    expect(Math.max(...Array.from(heard, Math.abs))).toBeLessThanOrEqual(8);
  });

  it('ignores DTMF when no telephone-event PT was negotiated', async () => {
    engine = await MediaEngine.create({ bindAddress: '127.0.0.1', ...PORTS });
    const p = await peer();
    const leg = engine.createLeg({ callId: 'no-te', codec: 'PCMU', payloadType: 0, remote: { address: p.address, port: p.port } });
    p.target(leg.localAddress, leg.localPort);
    const digits: string[] = [];
    leg.on('dtmf', (e) => digits.push(e.digit));
    await sendDigits(p, '7', 1);
    await waitFor(() => leg.stats().packetsUnknownPayload >= 6, 'unknown payload count');
    expect(digits).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';

import { MediaInvalidArgumentError } from '../../../src/media/MediaErrors.js';
import type { DigitsSentEvent, DtmfEvent } from '../../../src/media/MediaTypes.js';
import { dtmfEventCode } from '../../support/rtpPackets.js';
import { waitFor } from '../../support/wait.js';
import { useMediaFixture } from './fixture.js';

const { startEngine, openPeer } = useMediaFixture();
const PORTS = { rtpPortMin: 29200, rtpPortMax: 29299 };

describe('RFC 4733 send', () => {
  it('sends each key as telephone events (growing duration, marker, end x3) that a receiver decodes', async () => {
    const engine = await startEngine(PORTS);
    const phone = await openPeer();
    const sender = engine.createLeg({
      callId: 'out-1',
      codec: 'PCMU',
      payloadType: 0,
      telephoneEventPayloadType: 96,
      remote: { address: phone.address, port: phone.port },
    });
    // A second leg of the engine plays the far end's DTMF receiver: the
    // phone forwards everything it gets to it.
    const receiver = engine.createLeg({ callId: 'ivr', codec: 'PCMU', payloadType: 0, telephoneEventPayloadType: 96 });
    phone.target(receiver.localAddress, receiver.localPort);
    phone.socket.on('message', (m) => phone.send(m));
    const heard: DtmfEvent[] = [];
    receiver.on('dtmf', (e) => heard.push(e));
    const done: DigitsSentEvent[] = [];
    sender.on('digitsSent', (e) => done.push(e));

    await waitFor(() => phone.received.length >= 5, 5000, 'audio from the leg');
    const from = phone.received.length;
    const digits = '1*9##0D';
    const id = sender.sendDigits(digits, { durationMs: 100, gapMs: 60 });
    await waitFor(() => done.length === 1, 10_000, 'digitsSent');
    expect(done[0]).toEqual({ requestId: id, interrupted: false });
    await waitFor(() => heard.length === digits.length, 5000, 'digits at the receiver');
    expect(heard.map((e) => e.digit).join('')).toBe(digits);
    expect(heard.every((e) => e.source === 'rfc4733')).toBe(true);

    // digitsSent comes as the last end packet is sent; it may still be on its way.
    const eventCount = (): number => phone.received.slice(from).filter((p) => p.payloadType === 96).length;
    await waitFor(() => eventCount() >= digits.length * (5 + 3), 5000, 'every telephone-event packet at the phone');
    const packets = phone.received.slice(from);
    // One stream: sequence numbers contiguous across audio and events.
    for (let i = 1; i < packets.length; i++) expect((packets[i]!.sequence - packets[i - 1]!.sequence) & 0xffff).toBe(1);
    const events = packets.filter((p) => p.payloadType === 96);
    expect(events.length).toBe(digits.length * (5 + 3));
    for (let k = 0; k < digits.length; k++) {
      const key = events.slice(k * 8, k * 8 + 8);
      const ts = key[0]!.timestamp;
      key.forEach((p, i) => {
        expect(p.ssrc).toBe(packets[0]!.ssrc);
        expect(p.timestamp).toBe(ts);
        expect(p.marker).toBe(i === 0);
        expect(p.payload[0]).toBe(dtmfEventCode(digits[k]!));
        const end = (p.payload[1]! & 0x80) !== 0;
        expect(end).toBe(i >= 5);
        expect(p.payload.readUInt16BE(2)).toBe(Math.min(i + 1, 5) * 160);
      });
      if (k > 0) {
        // next key starts 5 tone + 3 end + 3 gap ticks later
        expect((ts - events[(k - 1) * 8]!.timestamp) >>> 0).toBe((5 + 3 + 3) * 160);
      }
    }
    // Audio packets in the gaps, and the audio clock ran on under the events.
    const audioAfter = packets.filter((p) => p.payloadType === 0);
    expect(audioAfter.length).toBeGreaterThan(0);
  });

  it('a newer request replaces one in progress; bad requests are refused clearly', async () => {
    const engine = await startEngine(PORTS);
    const phone = await openPeer();
    const leg = engine.createLeg({
      callId: 'out-2',
      codec: 'PCMA',
      payloadType: 8,
      telephoneEventPayloadType: 101,
      remote: { address: phone.address, port: phone.port },
    });
    const done: DigitsSentEvent[] = [];
    leg.on('digitsSent', (e) => done.push(e));
    const first = leg.sendDigits('123456789', { durationMs: 200 });
    const second = leg.sendDigits('0', { durationMs: 40 });
    await waitFor(() => done.length === 2, 5000, 'two digitsSent');
    expect(done).toEqual([
      { requestId: first, interrupted: true },
      { requestId: second, interrupted: false },
    ]);
    const codes = new Set(phone.received.filter((p) => p.payloadType === 101).map((p) => p.payload[0]));
    expect([...codes]).toEqual([0]);

    expect(() => leg.sendDigits('12x')).toThrow(MediaInvalidArgumentError);
    expect(() => leg.sendDigits('')).toThrow(MediaInvalidArgumentError);
    expect(() => leg.sendDigits('1'.repeat(33))).toThrow(MediaInvalidArgumentError);
    expect(() => leg.sendDigits('1', { durationMs: 10 })).toThrow(/durationMs/);
    expect(() => leg.sendDigits('1', { gapMs: 99_999 })).toThrow(/gapMs/);
    const plain = engine.createLeg({ callId: 'no-te', codec: 'PCMU', payloadType: 0 });
    expect(() => plain.sendDigits('1')).toThrow(/telephone-event/);
  });
});

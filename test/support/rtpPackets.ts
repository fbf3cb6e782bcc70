/** Builds and parses RTP packets for tests (RFC 3550 header, RFC 4733 events). */

export interface RtpHeaderFields {
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  marker?: boolean;
}

export function buildRtp(fields: RtpHeaderFields, payload: Uint8Array): Buffer {
  const packet = Buffer.alloc(12 + payload.length);
  packet[0] = 0x80;
  packet[1] = (fields.marker ? 0x80 : 0) | (fields.payloadType & 0x7f);
  packet.writeUInt16BE(fields.sequence & 0xffff, 2);
  packet.writeUInt32BE(fields.timestamp >>> 0, 4);
  packet.writeUInt32BE(fields.ssrc >>> 0, 8);
  packet.set(payload, 12);
  return packet;
}

export interface ParsedRtp extends Required<RtpHeaderFields> {
  payload: Buffer;
}

/**
 * Minimal parser: undefined unless version 2 and the CSRC list fits. The
 * payload is everything after the CSRCs (no extension or padding handling:
 * what the bridge sends) and shares memory with `packet`.
 */
export function parseRtp(packet: Buffer): ParsedRtp | undefined {
  if (packet.length < 12 || packet[0]! >> 6 !== 2) return undefined;
  const headerLength = 12 + 4 * (packet[0]! & 0x0f);
  if (headerLength > packet.length) return undefined;
  return {
    marker: (packet[1]! & 0x80) !== 0,
    payloadType: packet[1]! & 0x7f,
    sequence: packet.readUInt16BE(2),
    timestamp: packet.readUInt32BE(4),
    ssrc: packet.readUInt32BE(8),
    payload: packet.subarray(headerLength),
  };
}

/** An RFC 4733 telephone-event payload; `volume` is in -dBm0 (10 = -10 dBm0). */
export function telephoneEvent(event: number, end: boolean, duration: number, volume = 10): Buffer {
  const payload = Buffer.alloc(4);
  payload[0] = event & 0xff;
  payload[1] = (end ? 0x80 : 0) | (volume & 0x3f);
  payload.writeUInt16BE(Math.min(duration, 0xffff), 2);
  return payload;
}

const EVENT_CODES: Record<string, number> = { '*': 10, '#': 11, A: 12, B: 13, C: 14, D: 15 };

export function dtmfEventCode(digit: string): number {
  const code = /^[0-9]$/.test(digit) ? Number(digit) : EVENT_CODES[digit];
  if (code === undefined) throw new Error(`not a DTMF digit: ${digit}`);
  return code;
}

export interface TimedPacket {
  /** Send time relative to the first packet, in milliseconds. */
  atMs: number;
  packet: Buffer;
}

export interface DtmfSequenceOptions {
  payloadType: number;
  ssrc: number;
  /** How long each key is held and the gap between keys, in ms. */
  toneMs?: number;
  gapMs?: number;
  /** Give every digit the same RTP timestamp, as sipp's stock pcaps do. */
  sameTimestamp?: boolean;
  firstSequence?: number;
  firstTimestamp?: number;
}

/**
 * The RFC 4733 packets a phone sends for `digits`: one packet every 20 ms
 * while the key is held (growing duration, marker on the first), then the
 * end packet three times, as RFC 4733 section 2.5.1.4 recommends.
 */
export function dtmfSequence(digits: string, options: DtmfSequenceOptions): TimedPacket[] {
  const toneMs = options.toneMs ?? 100;
  const gapMs = options.gapMs ?? 100;
  const packets: TimedPacket[] = [];
  let sequence = options.firstSequence ?? 1000;
  let timestamp = options.firstTimestamp ?? 160_000;
  let atMs = 0;
  for (const digit of digits) {
    const event = dtmfEventCode(digit);
    const steps = Math.max(1, Math.round(toneMs / 20));
    const eventPacket = (end: boolean, duration: number, marker: boolean): Buffer =>
      buildRtp({ payloadType: options.payloadType, ssrc: options.ssrc, sequence: sequence++, timestamp, marker }, telephoneEvent(event, end, duration));
    for (let step = 1; step <= steps; step++) {
      packets.push({ atMs, packet: eventPacket(false, step * 160, step === 1) });
      atMs += 20;
    }
    for (let copy = 0; copy < 3; copy++) packets.push({ atMs, packet: eventPacket(true, steps * 160, false) });
    atMs += gapMs;
    if (!options.sameTimestamp) timestamp += (steps * 160 + gapMs * 8) >>> 0;
  }
  return packets;
}

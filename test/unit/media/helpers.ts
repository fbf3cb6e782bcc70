/**
 * Small RTP / G.711 / DSP helpers for media tests (TypeScript, no deps).
 */
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';

// ------------------------------------------------------------------ G.711

export function ulawDecode(code: number): number {
  const u = ~code & 0xff;
  let t = ((u & 0x0f) << 3) + 0x84;
  t <<= (u & 0x70) >> 4;
  return u & 0x80 ? 0x84 - t : t - 0x84;
}

export function ulawEncode(sample: number): number {
  const BIAS = 0x84;
  const CLIP = 32635;
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

export function alawDecode(code: number): number {
  const a = code ^ 0x55;
  let t = (a & 0x0f) << 4;
  const seg = (a & 0x70) >> 4;
  if (seg === 0) t += 8;
  else if (seg === 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return a & 0x80 ? t : -t;
}

export function encodePcmu(samples: ArrayLike<number>): Buffer {
  const out = Buffer.alloc(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = ulawEncode(samples[i]!);
  return out;
}

export function decodePcmu(payload: Uint8Array): Int16Array {
  const out = new Int16Array(payload.length);
  for (let i = 0; i < payload.length; i++) out[i] = ulawDecode(payload[i]!);
  return out;
}

// ------------------------------------------------------------------ RTP

export interface RtpFields {
  payloadType: number;
  seq: number;
  timestamp: number;
  ssrc: number;
  marker?: boolean;
  payload: Uint8Array;
}

export interface ParsedRtp extends RtpFields {
  marker: boolean;
}

export function buildRtp(f: RtpFields): Buffer {
  const b = Buffer.alloc(12 + f.payload.length);
  b[0] = 0x80;
  b[1] = (f.marker ? 0x80 : 0) | (f.payloadType & 0x7f);
  b.writeUInt16BE(f.seq & 0xffff, 2);
  b.writeUInt32BE(f.timestamp >>> 0, 4);
  b.writeUInt32BE(f.ssrc >>> 0, 8);
  Buffer.from(f.payload).copy(b, 12);
  return b;
}

/** Minimal parser (no CSRC/extension/padding: what the engine sends). */
export function parseRtp(b: Buffer): ParsedRtp | undefined {
  if (b.length < 12 || b[0]! >> 6 !== 2) return undefined;
  const cc = b[0]! & 0x0f;
  const off = 12 + 4 * cc;
  if (off > b.length) return undefined;
  return {
    marker: (b[1]! & 0x80) !== 0,
    payloadType: b[1]! & 0x7f,
    seq: b.readUInt16BE(2),
    timestamp: b.readUInt32BE(4),
    ssrc: b.readUInt32BE(8),
    payload: b.subarray(off),
  };
}

/** RFC 4733 payload. */
export function telephoneEvent(event: number, end: boolean, duration: number, volume = 10): Buffer {
  return Buffer.from([event & 0xff, (end ? 0x80 : 0) | (volume & 0x3f), (duration >> 8) & 0xff, duration & 0xff]);
}

export const DTMF_CODES: Record<string, number> = {
  '0': 0, '1': 1, '2': 2, '3': 3, '4': 4, '5': 5, '6': 6, '7': 7, '8': 8, '9': 9, '*': 10, '#': 11,
  A: 12, B: 13, C: 14, D: 15,
};

// ------------------------------------------------------------------ DSP

/** Amplitude (in sample units) of `freq` in `samples` (Goertzel). */
export function goertzelAmplitude(samples: ArrayLike<number>, freq: number, sampleRate = 8000): number {
  const n = samples.length;
  if (n === 0) return 0;
  const w = (2 * Math.PI * freq) / sampleRate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const s0 = samples[i]! + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return (2 * Math.sqrt(Math.max(power, 0))) / n;
}

export function sine(freq: number, amplitude: number, n: number, startSample = 0): Int16Array {
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freq * (startSample + i)) / 8000));
  }
  return out;
}

export function dbfs(level: number): number {
  return 32767 * 10 ** (level / 20);
}

// ------------------------------------------------------------------ peers

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` until true; throws with `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

type FrameSource = (frameIndex: number) => ArrayLike<number>;

/**
 * A fake phone: one UDP socket on 127.0.0.1 that can stream 20 ms PCMU
 * frames, send arbitrary datagrams, and records what it receives.
 */
export class RtpPeer {
  readonly socket: dgram.Socket;
  readonly received: ParsedRtp[] = [];
  readonly ssrc = (Math.random() * 0xffffffff) >>> 0;
  seq = Math.floor(Math.random() * 0xffff);
  timestamp = (Math.random() * 0xffffffff) >>> 0;
  #timer: NodeJS.Timeout | undefined;
  #target: { address: string; port: number } | undefined;

  private constructor(socket: dgram.Socket) {
    this.socket = socket;
    socket.on('message', (msg) => {
      const p = parseRtp(msg);
      if (p !== undefined) this.received.push({ ...p, payload: Buffer.from(p.payload) });
    });
  }

  static async open(address = '127.0.0.1'): Promise<RtpPeer> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => resolve());
    });
    return new RtpPeer(socket);
  }

  get address(): string {
    return (this.socket.address() as AddressInfo).address;
  }

  get port(): number {
    return (this.socket.address() as AddressInfo).port;
  }

  target(address: string, port: number): void {
    this.#target = { address, port };
  }

  send(data: Uint8Array): void {
    if (this.#target === undefined) throw new Error('no target');
    this.socket.send(data, this.#target.port, this.#target.address);
  }

  /** Sends one PCMU frame with the next seq/timestamp. */
  sendFrame(samples: ArrayLike<number>, payloadType = 0): void {
    this.send(
      buildRtp({ payloadType, seq: this.seq, timestamp: this.timestamp, ssrc: this.ssrc, payload: encodePcmu(samples) }),
    );
    this.seq = (this.seq + 1) & 0xffff;
    this.timestamp = (this.timestamp + samples.length) >>> 0;
  }

  /** Streams frames every 20 ms until stop(). */
  startStream(source: FrameSource): void {
    this.stopStream();
    let frame = 0;
    const start = Date.now();
    const tick = (): void => {
      // Catch up if timers were late so the sender's clock stays real-time.
      const due = Math.floor((Date.now() - start) / 20) + 1;
      while (frame < due) this.sendFrame(source(frame++));
    };
    tick();
    this.#timer = setInterval(tick, 20);
  }

  startTone(freq: number, amplitude: number): void {
    this.startStream((i) => sine(freq, amplitude, 160, i * 160));
  }

  stopStream(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Decoded samples of the last `count` received packets (arrival order). */
  lastSamples(packets: number): Int16Array {
    const list = this.received.slice(-packets);
    const out = new Int16Array(list.length * 160);
    let off = 0;
    for (const p of list) {
      const s = decodePcmu(p.payload);
      out.set(s.subarray(0, 160), off);
      off += Math.min(160, s.length);
    }
    return out.subarray(0, off);
  }

  async close(): Promise<void> {
    this.stopStream();
    await new Promise<void>((r) => this.socket.close(() => r()));
  }
}

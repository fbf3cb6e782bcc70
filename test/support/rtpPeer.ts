import type { Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { decodeMulaw, encodeMulaw, sine } from './audio.js';
import { buildRtp, parseRtp, type ParsedRtp } from './rtpPackets.js';
import { bindUdp } from './udp.js';

type FrameSource = (frameIndex: number) => ArrayLike<number>;

/**
 * A fake phone: one UDP socket (any free port) that can stream 20 ms PCMU
 * frames, send arbitrary datagrams, and records the RTP it receives.
 * (A receive-only port at a fixed number is an RtpSink, in rtpSink.ts.)
 */
export class RtpPeer {
  readonly received: ParsedRtp[] = [];
  readonly ssrc = (Math.random() * 0xffffffff) >>> 0;
  sequence = Math.floor(Math.random() * 0xffff);
  timestamp = (Math.random() * 0xffffffff) >>> 0;
  #timer: NodeJS.Timeout | undefined;
  #target: { address: string; port: number } | undefined;

  private constructor(readonly socket: Socket) {
    socket.on('message', (message) => {
      const rtp = parseRtp(message);
      if (rtp !== undefined) this.received.push({ ...rtp, payload: Buffer.from(rtp.payload) });
    });
  }

  static async open(address = '127.0.0.1'): Promise<RtpPeer> {
    return new RtpPeer(await bindUdp(0, address));
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

  /** Sends one PCMU frame with the next sequence number and timestamp. */
  sendFrame(samples: ArrayLike<number>, payloadType = 0): void {
    this.send(buildRtp({ payloadType, sequence: this.sequence, timestamp: this.timestamp, ssrc: this.ssrc }, encodeMulaw(samples)));
    this.sequence = (this.sequence + 1) & 0xffff;
    this.timestamp = (this.timestamp + samples.length) >>> 0;
  }

  /** Streams frames every 20 ms until stopStream(). */
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

  startTone(frequency: number, amplitude: number): void {
    this.startStream((i) => sine(frequency, 160, amplitude, 8000, i * 160));
  }

  stopStream(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Decoded PCMU samples of the last `packets` received packets (arrival order, at most 160 each). */
  lastSamples(packets: number): Int16Array {
    const list = this.received.slice(-packets);
    const out = new Int16Array(list.length * 160);
    let offset = 0;
    for (const p of list) {
      const samples = decodeMulaw(p.payload);
      out.set(samples.subarray(0, 160), offset);
      offset += Math.min(160, samples.length);
    }
    return out.subarray(0, offset);
  }

  async close(): Promise<void> {
    this.stopStream();
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}

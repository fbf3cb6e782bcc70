import type { Socket } from 'node:dgram';
import { encodeMulaw } from './audio.js';
import { buildRtp } from './rtpPackets.js';
import { bindUdp } from './udp.js';

/** A sender report from the bridge, as far as a phone needs it to answer (RFC 3550 6.4.1). */
export interface SenderReport {
  ssrc: number;
  /** The middle 32 bits of its NTP timestamp: what the answer's LSR echoes. */
  ntpMiddle: number;
  receivedAt: number;
}

/**
 * A phone's media end with RTCP: RTP on `port`, RTCP on `port + 1` (no
 * rtcp-mux), as a sipp caller's SDP announces them when it names `port`.
 * It streams PCMU silence with chosen packets left out, keeps the bridge's
 * sender reports, and answers them with a receiver report of its making.
 */
export class RtcpPhone {
  readonly senderReports: SenderReport[] = [];
  readonly ssrc = 0x5eed4242;
  private timer: NodeJS.Timeout | undefined;
  private sequence = 1000;
  /** Frames sent or deliberately left out so far. */
  private frame = 0;

  private constructor(
    private readonly rtp: Socket,
    private readonly rtcp: Socket,
  ) {
    rtcp.on('message', (m: Buffer) => {
      // A compound packet starts with an SR (200) or RR (201).
      if (m.length >= 28 && m[0]! >> 6 === 2 && m[1] === 200) {
        const ntpMiddle = ((m.readUInt32BE(8) & 0xffff) * 65536 + (m.readUInt32BE(12) >>> 16)) >>> 0;
        this.senderReports.push({ ssrc: m.readUInt32BE(4), ntpMiddle, receivedAt: performance.now() });
      }
    });
  }

  static async open(port: number): Promise<RtcpPhone> {
    return new RtcpPhone(await bindUdp(port), await bindUdp(port + 1));
  }

  /**
   * Streams 20 ms frames to `address:port` in real time until stop(); the
   * frames whose index is in `skip` are never sent (lost on the way).
   */
  stream(address: string, port: number, skip: ReadonlySet<number>): void {
    const silence = encodeMulaw(new Int16Array(160));
    const start = Date.now();
    const tick = (): void => {
      const due = Math.floor((Date.now() - start) / 20) + 1;
      for (; this.frame < due; this.frame++) {
        const sequence = (this.sequence + this.frame) & 0xffff;
        if (skip.has(this.frame)) continue;
        this.rtp.send(buildRtp({ payloadType: 0, sequence, timestamp: this.frame * 160, ssrc: this.ssrc }, silence), port, address);
      }
    };
    tick();
    this.timer = setInterval(tick, 20);
  }

  get framesStreamed(): number {
    return this.frame;
  }

  /** A receiver report about `report.ssrc` echoing its NTP time (LSR), claiming `dlsrUnits` (1/65536 s) of delay. */
  answer(
    report: SenderReport,
    view: { fractionLost: number; cumulativeLost: number; jitterUnits: number; dlsrUnits: number },
    to: { address: string; port: number },
  ): void {
    const b = Buffer.alloc(32);
    b[0] = 0x81;
    b[1] = 201;
    b.writeUInt16BE(7, 2);
    b.writeUInt32BE(this.ssrc, 4);
    b.writeUInt32BE(report.ssrc, 8);
    b.writeUInt32BE((((view.fractionLost & 0xff) << 24) | (view.cumulativeLost & 0xffffff)) >>> 0, 12);
    b.writeUInt32BE(0, 16);
    b.writeUInt32BE(view.jitterUnits, 20);
    b.writeUInt32BE(report.ntpMiddle, 24);
    b.writeUInt32BE(view.dlsrUnits, 28);
    this.rtcp.send(b, to.port, to.address);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  async close(): Promise<void> {
    this.stop();
    await new Promise<void>((r) => this.rtp.close(() => r()));
    await new Promise<void>((r) => this.rtcp.close(() => r()));
  }
}

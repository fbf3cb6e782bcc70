import type { Socket } from 'node:dgram';
import { alawToLinear, mulawToLinear } from './audio.js';
import { parseRtp } from './rtpPackets.js';
import { bindUdp } from './udp.js';

// Kept importable from here for existing callers; the implementation is in wait.ts.

interface Received {
  at: number;
  payloadType: number;
  payload: Buffer;
}

/**
 * A UDP port standing in for a phone's RTP receiver: it records every packet
 * the bridge sends there, so a test can decode what that caller heard.
 * (A phone that also sends is an RtpPeer, in rtpPeer.ts.)
 */
export class RtpSink {
  private readonly packets: Received[] = [];

  private constructor(
    private readonly socket: Socket,
    readonly port: number,
  ) {
    socket.on('message', (message) => {
      const rtp = parseRtp(message);
      if (rtp) this.packets.push({ at: Date.now(), payloadType: rtp.payloadType, payload: rtp.payload });
    });
  }

  static async open(port: number, address = '127.0.0.1'): Promise<RtpSink> {
    return new RtpSink(await bindUdp(port, address), port);
  }

  get packetCount(): number {
    return this.packets.length;
  }

  /** Audio received at or after `since` (ms epoch), decoded from G.711 (PT 0 or 8). */
  samplesSince(since: number): Int16Array {
    const chunks = this.packets.filter((p) => p.at >= since && (p.payloadType === 0 || p.payloadType === 8));
    const total = chunks.reduce((n, p) => n + p.payload.length, 0);
    const out = new Int16Array(total);
    let offset = 0;
    for (const { payload, payloadType } of chunks) {
      const decode = payloadType === 0 ? mulawToLinear : alawToLinear;
      for (let i = 0; i < payload.length; i++) out[offset++] = decode(payload[i]!);
    }
    return out;
  }

  /** Payload types of the packets received at or after `since` (ms epoch), each once. */
  payloadTypesSince(since: number): number[] {
    return [...new Set(this.packets.filter((p) => p.at >= since).map((p) => p.payloadType))];
  }

  close(): void {
    this.socket.close();
  }
}

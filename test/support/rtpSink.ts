import { createSocket, type Socket } from 'node:dgram';
import { alawToLinear, mulawToLinear } from './audio.js';

interface Received {
  at: number;
  payloadType: number;
  payload: Buffer;
}

/**
 * A UDP port standing in for a phone's RTP receiver: it records every packet
 * the bridge sends there, so a test can decode what that caller heard.
 */
export class RtpSink {
  private readonly packets: Received[] = [];

  private constructor(
    private readonly socket: Socket,
    readonly port: number,
  ) {
    socket.on('message', (message) => {
      if (message.length < 12 || message[0]! >> 6 !== 2) return;
      const csrcCount = message[0]! & 0x0f;
      const headerLength = 12 + csrcCount * 4;
      this.packets.push({ at: Date.now(), payloadType: message[1]! & 0x7f, payload: message.subarray(headerLength) });
    });
  }

  static async open(port: number, address = '127.0.0.1'): Promise<RtpSink> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, address, () => resolve());
    });
    return new RtpSink(socket, port);
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

  close(): void {
    this.socket.close();
  }
}

/**
 * Polls `condition` until it holds or `timeoutMs` passes. When client
 * processes are given, one exiting early fails the wait at once with its output.
 */
export async function waitFor(
  condition: () => boolean,
  timeoutMs: number,
  what: string,
  clients: Array<{ exited?: { code: number | null; output: string } }> = [],
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    const early = clients.find((client) => client.exited);
    if (early) throw new Error(`a client exited (code ${early.exited!.code}) while waiting for ${what}:\n${early.exited!.output}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

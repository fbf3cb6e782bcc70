import { writeFileSync } from 'node:fs';
import type { TimedPacket } from './rtpPackets.js';

/**
 * Writes RTP packets as a classic pcap file (Ethernet/IPv4/UDP), the format
 * sipp's `play_pcap_audio` replays with the packets' own timing. sipp
 * rewrites addresses and ports, so those in the file are placeholders.
 */
export function writeRtpPcap(path: string, packets: TimedPacket[]): void {
  const chunks: Buffer[] = [];
  const global = Buffer.alloc(24);
  global.writeUInt32LE(0xa1b2c3d4, 0);
  global.writeUInt16LE(2, 4);
  global.writeUInt16LE(4, 6);
  global.writeInt32LE(0, 8);
  global.writeUInt32LE(0, 12);
  global.writeUInt32LE(65535, 16);
  global.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  chunks.push(global);
  const baseSeconds = 1_700_000_000;
  for (const { atMs, packet } of packets) {
    const frame = ethernetIpv4Udp(packet);
    const record = Buffer.alloc(16);
    const micros = Math.round(atMs * 1000);
    record.writeUInt32LE(baseSeconds + Math.floor(micros / 1_000_000), 0);
    record.writeUInt32LE(micros % 1_000_000, 4);
    record.writeUInt32LE(frame.length, 8);
    record.writeUInt32LE(frame.length, 12);
    chunks.push(record, frame);
  }
  writeFileSync(path, Buffer.concat(chunks));
}

function ethernetIpv4Udp(payload: Buffer): Buffer {
  const ethernet = Buffer.alloc(14);
  ethernet.writeUInt16BE(0x0800, 12);
  const udpLength = 8 + payload.length;
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + udpLength, 2);
  ip[8] = 64;
  ip[9] = 17;
  ip.set([127, 0, 0, 1], 12);
  ip.set([127, 0, 0, 1], 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += ip.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  ip.writeUInt16BE(~sum & 0xffff, 10);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(40000, 0);
  udp.writeUInt16BE(40002, 2);
  udp.writeUInt16BE(udpLength, 4);
  return Buffer.concat([ethernet, ip, udp, payload]);
}

import { createSocket, type Socket } from 'node:dgram';

/** A UDP socket bound to `address`:`port` (0 = any free port). */
export async function bindUdp(port: number, address = '127.0.0.1'): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => resolve());
  });
  return socket;
}

/**
 * The process under measurement: a media engine with one room of N legs,
 * each sending to the UDP port the driver gave it. It answers the driver's
 * IPC requests for its CPU usage and engine statistics.
 */
import { MediaEngine } from '../src/media/MediaEngine.js';

interface SetupMessage {
  type: 'setup';
  legs: number;
  talkers: number;
  driverPorts: number[];
  rtpPortMin: number;
  rtpPortMax: number;
  workerThreads: number;
}

type DriverMessage = SetupMessage | { type: 'sample' } | { type: 'stop' };

let engine: MediaEngine | undefined;

process.on('message', (message: DriverMessage) => {
  void handle(message);
});

async function handle(message: DriverMessage): Promise<void> {
  switch (message.type) {
    case 'setup': {
      engine = await MediaEngine.create({
        bindAddress: '127.0.0.1',
        rtpPortMin: message.rtpPortMin,
        rtpPortMax: message.rtpPortMax,
        workerThreads: message.workerThreads,
        rtpTimeoutMs: 60_000,
      });
      const room = engine.createRoom();
      const ports: number[] = [];
      for (let i = 0; i < message.legs; i++) {
        const leg = engine.createLeg({
          callId: `bench-${i}`,
          codec: 'PCMU',
          payloadType: 0,
          telephoneEventPayloadType: 101,
          remote: { address: '127.0.0.1', port: message.driverPorts[i]! },
        });
        leg.join(room, { speak: true, hear: true });
        ports.push(leg.localPort);
      }
      process.send!({ type: 'ready', ports });
      return;
    }
    case 'sample':
      process.send!({ type: 'sample', cpu: process.cpuUsage(), at: process.hrtime.bigint().toString(), stats: engine?.stats() });
      return;
    case 'stop':
      engine?.close();
      process.exit(0);
  }
}

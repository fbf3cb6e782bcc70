/**
 * The process under measurement: a media engine with N legs in meetings
 * (rooms) of `roomSize` legs (= N: one meeting),
 * each sending to the UDP port the load generator gave it. It answers the
 * driver's IPC requests for its CPU usage (process.cpuUsage: the whole
 * process, every thread) and engine statistics.
 */
import { MediaEngine } from '../src/media/MediaEngine.js';
import type { MediaLeg } from '../src/media/MediaLeg.js';

interface SetupMessage {
  type: 'setup';
  legs: number;
  /** Legs per room; leg i joins room floor(i / roomSize). */
  roomSize: number;
  driverPorts: number[];
  rtpPortMin: number;
  rtpPortMax: number;
  workerThreads: number;
}

/** `start` samples leg statistics before the CPU reading, `end` after it, so their cost stays outside the window. */
type DriverMessage = SetupMessage | { type: 'sample'; phase: 'start' | 'end' } | { type: 'stop' };

let engine: MediaEngine | undefined;
const legs: MediaLeg[] = [];

process.on('message', (message: DriverMessage) => {
  void handle(message).catch((err: unknown) => {
    process.send!({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  });
});

function framesConcealed(): number {
  let total = 0;
  for (const leg of legs) total += leg.stats().framesConcealed;
  return total;
}

/** Statistics the engine may grow (e.g. a tick lateness histogram) are passed through untouched; the driver feature-detects them. */
function rawNativeStats(e: MediaEngine): unknown {
  try {
    return e.native.stats();
  } catch {
    return undefined;
  }
}

async function handle(message: DriverMessage): Promise<void> {
  switch (message.type) {
    case 'setup': {
      const started = performance.now();
      engine = await MediaEngine.create({
        bindAddress: '127.0.0.1',
        rtpPortMin: message.rtpPortMin,
        rtpPortMax: message.rtpPortMax,
        workerThreads: message.workerThreads,
        rtpTimeoutMs: 60_000,
      });
      const rooms = Array.from({ length: Math.ceil(message.legs / message.roomSize) }, () => engine!.createRoom());
      for (let i = 0; i < message.legs; i++) {
        const leg = engine.createLeg({
          callId: `bench-${i}`,
          codec: 'PCMU',
          payloadType: 0,
          telephoneEventPayloadType: 101,
          remote: { address: '127.0.0.1', port: message.driverPorts[i]! },
        });
        leg.join(rooms[Math.floor(i / message.roomSize)]!, { speak: true, hear: true });
        legs.push(leg);
      }
      process.send!({ type: 'ready', ports: legs.map((l) => l.localPort), setupMs: performance.now() - started });
      return;
    }
    case 'sample': {
      if (engine === undefined) throw new Error('sample before setup');
      const concealedBefore = message.phase === 'start' ? framesConcealed() : undefined;
      const cpu = process.cpuUsage();
      const at = process.hrtime.bigint().toString();
      const stats = engine.stats();
      const raw = rawNativeStats(engine);
      const concealed = concealedBefore ?? framesConcealed();
      process.send!({ type: 'sample', cpu, at, stats, raw, framesConcealed: concealed });
      return;
    }
    case 'stop':
      engine?.close();
      process.exit(0);
  }
}

/**
 * Media benchmark: N legs in one meeting over real UDP on 127.0.0.1, no SIP.
 * The engine runs in a child process so that its CPU is measured alone; this
 * process plays the phones (one socket per leg, 20 ms PCMU packets, a few
 * talkers with tones, the rest silent) and listens to what comes back.
 *
 *   npm run bench                       # N = 50
 *   npm run bench -- --legs 50,100 --seconds 10
 *
 * Prints per N: server CPU in µs per leg-second, frames lost (expected minus
 * received), late ticks reported by the mixer, and the jitter of packet
 * arrivals at the phones (p50/p99, ms).
 */
import { fork } from 'node:child_process';
import type { Socket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { encodeMulaw, sine } from '../test/support/audio.js';
import { buildRtp } from '../test/support/rtpPackets.js';
import { bindUdp } from '../test/support/udp.js';

interface Options {
  legs: number[];
  seconds: number;
  talkers: number;
  workerThreads: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { legs: [50], seconds: 10, talkers: 3, workerThreads: 1 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1] ?? ''];
    if (flag === '--legs') options.legs = value.split(',').map(Number);
    else if (flag === '--seconds') options.seconds = Number(value);
    else if (flag === '--talkers') options.talkers = Number(value);
    else if (flag === '--workers') options.workerThreads = Number(value);
    else throw new Error(`unknown option ${flag}`);
  }
  if (options.legs.some((n) => !Number.isInteger(n) || n < 2)) throw new Error('--legs takes integers >= 2');
  return options;
}

interface Sample {
  cpu: NodeJS.CpuUsage;
  at: string;
  stats: { lateTicks: number; ticks: number; packetsReceived: number; packetsSent: number };
}

interface Result {
  legs: number;
  cpuMicrosPerLegSecond: number;
  framesExpected: number;
  framesLost: number;
  lateTicks: number;
  jitterP50Ms: number;
  jitterP99Ms: number;
}

async function runOnce(legs: number, options: Options, basePort: number): Promise<Result> {
  const phones: Socket[] = [];
  const arrivals: number[][] = [];
  const received = new Array<number>(legs).fill(0);
  let measuring = false;
  for (let i = 0; i < legs; i++) {
    const socket = await bindUdp(0);
    arrivals.push([]);
    socket.on('message', () => {
      if (!measuring) return;
      received[i]!++;
      arrivals[i]!.push(performance.now());
    });
    phones.push(socket);
  }

  const child = fork(fileURLToPath(new URL('./mediaServer.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const nextMessage = <T>(type: string): Promise<T> =>
    new Promise((resolve) => {
      const listener = (message: { type: string }): void => {
        if (message.type !== type) return;
        child.off('message', listener);
        resolve(message as T);
      };
      child.on('message', listener);
    });

  child.send({
    type: 'setup',
    legs,
    talkers: options.talkers,
    driverPorts: phones.map((s) => s.address().port),
    rtpPortMin: basePort,
    rtpPortMax: basePort + 2 * legs + 100,
    workerThreads: options.workerThreads,
  });
  const { ports } = await nextMessage<{ ports: number[] }>('ready');

  // Talkers send distinct tones; everyone else sends µ-law silence.
  const frames = phones.map((_, i) => (i < options.talkers ? encodeMulaw(sine(300 + 150 * i, 160 * 50, 6000)) : Buffer.alloc(160 * 50, 0xff)));
  let sequence = 0;
  const start = performance.now();
  let sent = 0;
  const sender = setInterval(() => {
    const due = Math.floor((performance.now() - start) / 20);
    for (; sent <= due; sent++) {
      sequence = (sequence + 1) & 0xffff;
      for (let i = 0; i < legs; i++) {
        const offset = (sent % 50) * 160;
        const packet = buildRtp({ payloadType: 0, sequence, timestamp: sent * 160, ssrc: 0x1000 + i }, frames[i]!.subarray(offset, offset + 160));
        phones[i]!.send(packet, ports[i]!, '127.0.0.1');
      }
    }
  }, 5);

  const sample = async (): Promise<Sample> => {
    child.send({ type: 'sample' });
    return nextMessage<Sample>('sample');
  };
  await new Promise((resolve) => setTimeout(resolve, 2000)); // warm-up: jitter buffers fill
  measuring = true;
  const first = await sample();
  await new Promise((resolve) => setTimeout(resolve, options.seconds * 1000));
  const last = await sample();
  measuring = false;
  clearInterval(sender);
  child.send({ type: 'stop' });
  for (const socket of phones) socket.close();

  const elapsedSeconds = Number(BigInt(last.at) - BigInt(first.at)) / 1e9;
  const cpuMicros = last.cpu.user + last.cpu.system - first.cpu.user - first.cpu.system;
  const framesExpected = Math.round(elapsedSeconds * 50) * legs;
  const framesReceived = received.reduce((a, b) => a + b, 0);
  const deviations: number[] = [];
  for (const times of arrivals) for (let k = 1; k < times.length; k++) deviations.push(Math.abs(times[k]! - times[k - 1]! - 20));
  deviations.sort((a, b) => a - b);
  const percentile = (p: number): number => deviations[Math.min(deviations.length - 1, Math.floor(p * deviations.length))] ?? NaN;
  return {
    legs,
    cpuMicrosPerLegSecond: cpuMicros / (legs * elapsedSeconds),
    framesExpected,
    framesLost: Math.max(0, framesExpected - framesReceived),
    lateTicks: last.stats.lateTicks - first.stats.lateTicks,
    jitterP50Ms: percentile(0.5),
    jitterP99Ms: percentile(0.99),
  };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const results: Result[] = [];
  for (const [index, legs] of options.legs.entries()) results.push(await runOnce(legs, options, 44000 + index * 4200));
  const rows = results.map((r) => ({
    legs: r.legs,
    'CPU µs/leg-s': r.cpuMicrosPerLegSecond.toFixed(1),
    'frames expected': r.framesExpected,
    'frames lost': r.framesLost,
    'late ticks': r.lateTicks,
    'arrival jitter p50 ms': r.jitterP50Ms.toFixed(2),
    'arrival jitter p99 ms': r.jitterP99Ms.toFixed(2),
  }));
  process.stdout.write(`media benchmark: ${options.seconds} s per run, ${options.talkers} talkers, ${options.workerThreads} mixer thread(s)\n`);
  console.table(rows);
}

void main();

/**
 * Media benchmark: N legs in one meeting, then M meetings of S legs (default
 * 200 × 10), over real UDP on 127.0.0.1, no SIP.
 * Three processes, so that each one's CPU is measured alone:
 *   - this driver (orchestration only, nothing on the media path);
 *   - the engine under test (bench/mediaServer.ts, forked);
 *   - the native RTP load generator (bench/rtpload.cc, built on demand with
 *     g++): one UDP socket per phone, 20 ms PCMU on an absolute timer,
 *     talkers take turns sending tone bursts, the other phones send µ-law
 *     silence; it measures loss, arrival jitter and added latency.
 *
 *   npm run bench                                  # N = 100,500,1000,2000, then 200 meetings × 10; 20 s each
 *   npm run bench -- --legs 500 --meetings 50x10,20x50
 *   npm run bench -- --legs 50 --seconds 5         # quick run
 *   npm run bench -- --legs 1000 --talkers 5 --listeners none --json
 *
 * See bench/README.md for what each column means.
 *
 * Ports: the engine binds even ports in 50000-55999, the generator
 * 56000-60999 (nothing else is bound by the bench).
 */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ENGINE_PORT_MIN = 50000;
const ENGINE_PORT_MAX = 55999;
const GENERATOR_PORT_MIN = 56000;
const GENERATOR_PORT_MAX = 60999;
const MAX_LEGS = 2500; // even ports available to the engine: 3000

const TARGET_CPU_US = 190;
const TARGET_LEGS_NO_LOSS = 2000;
const TARGET_TICK_P99_MS = 2;
const TARGET_LATENCY_P99_MS = 60; // docs/DESIGN "Performance targets"
const OTHER_LOAD_WARN_PERCENT = 15; // of one core, used by processes other than the bench's three

/** One run: `legs` phones in meetings of `roomSize` (= legs: one meeting). */
interface Scenario {
  legs: number;
  roomSize: number;
}

interface Options {
  legs: number[];
  /** Multi-meeting runs after the single-meeting ones. */
  meetings: Scenario[];
  seconds: number;
  warmupMs: number;
  talkers: number;
  workerThreads: number;
  listeners: 'silence' | 'none';
  /** Also run bench/floor.cc (the packets alone, no engine) at each load. */
  floor: boolean;
  json: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = {
    legs: [100, 500, 1000, 2000],
    meetings: [{ legs: 2000, roomSize: 10 }],
    seconds: 20,
    warmupMs: 2000,
    talkers: 3,
    // The server's own default (media.workerThreads: auto): one mixer thread per core.
    workerThreads: availableParallelism(),
    listeners: 'silence',
    floor: false,
    json: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--json') {
      options.json = true;
      continue;
    }
    if (flag === '--floor') {
      options.floor = true;
      continue;
    }
    const value = argv[++i];
    if (value === undefined) throw new Error(`missing value for ${flag}`);
    if (flag === '--legs') options.legs = value === 'none' ? [] : value.split(',').map(Number);
    else if (flag === '--meetings') options.meetings = value === 'none' ? [] : value.split(',').map(parseMeetings);
    else if (flag === '--seconds') options.seconds = Number(value);
    else if (flag === '--warmup') options.warmupMs = Math.round(Number(value) * 1000);
    else if (flag === '--talkers') options.talkers = Number(value);
    else if (flag === '--workers') options.workerThreads = value === 'auto' ? availableParallelism() : Number(value);
    else if (flag === '--listeners') {
      if (value !== 'silence' && value !== 'none') throw new Error('--listeners takes silence|none');
      options.listeners = value;
    } else throw new Error(`unknown option ${flag}`);
  }
  if (options.legs.some((n) => !Number.isInteger(n) || n < 2 || n > MAX_LEGS)) throw new Error(`--legs takes integers 2..${MAX_LEGS}`);
  if (!Number.isInteger(options.seconds) || options.seconds < 1) throw new Error('--seconds takes a positive integer');
  if (!Number.isInteger(options.workerThreads) || options.workerThreads < 1 || options.workerThreads > 64) throw new Error('--workers takes auto or 1..64');
  if (!Number.isInteger(options.talkers) || options.talkers < 1 || options.talkers > 12) throw new Error('--talkers takes 1..12');
  if (options.legs.some((n) => n <= options.talkers)) throw new Error('--legs must exceed --talkers');
  if (options.meetings.some((m) => m.roomSize <= options.talkers)) throw new Error('--meetings: meeting size must exceed --talkers');
  if (options.legs.length + options.meetings.length === 0) throw new Error('nothing to run');
  return options;
}

/** `MxS`: M meetings of S legs. */
function parseMeetings(text: string): Scenario {
  const m = /^(\d+)x(\d+)$/.exec(text);
  const rooms = m ? Number(m[1]) : NaN;
  const roomSize = m ? Number(m[2]) : NaN;
  if (!(rooms >= 1) || !(roomSize >= 2) || rooms * roomSize > MAX_LEGS) {
    throw new Error(`--meetings takes MxS (e.g. 200x10) with M*S within 2..${MAX_LEGS}`);
  }
  return { legs: rooms * roomSize, roomSize };
}

/** Row label: `2000` for one meeting, `200×10` for several. */
function labelOf(s: Scenario): string {
  return s.roomSize === s.legs ? String(s.legs) : `${s.legs / s.roomSize}×${s.roomSize}`;
}

// ---------------------------------------------------------------------------
// The native generator, built on demand.

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const generatorSource = `${benchDir}rtpload.cc`;
const generatorBinary = `${benchDir}build/rtpload`;

const nativeSrc = fileURLToPath(new URL('../native/src/', import.meta.url));
const floorSources = [`${benchDir}floor.cc`, ...['batch_io', 'rtp'].flatMap((unit) => [`${nativeSrc}${unit}.cc`, `${nativeSrc}${unit}.h`])];
const floorBinary = `${benchDir}build/floor`;

/** Builds `binary` with g++ -O2 unless it is newer than every one of `sources` (headers included). */
function ensureBuilt(binary: string, sources: string[], extraArgs: string[] = []): void {
  if (existsSync(binary) && sources.every((src) => statSync(binary).mtimeMs >= statSync(src).mtimeMs)) return;
  mkdirSync(`${benchDir}build`, { recursive: true });
  process.stderr.write(`bench: building ${binary} (g++ -O2)\n`);
  const units = sources.filter((src) => src.endsWith('.cc'));
  execFileSync('g++', ['-std=c++17', '-O2', '-Wall', '-Wextra', ...extraArgs, '-o', binary, ...units], { stdio: 'inherit' });
}

function ensureGenerator(): void {
  ensureBuilt(generatorBinary, [generatorSource]);
}

function ensureFloor(): void {
  ensureBuilt(floorBinary, floorSources, [`-I${nativeSrc}`]);
}

interface Histo {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

interface GeneratorReport {
  event: 'report';
  legs: number;
  windowSeconds: number;
  framesExpected: number;
  framesReceived: number;
  framesLost: number;
  seqGaps: number;
  framesShort: number;
  duplicates: number;
  legsWithLoss: number;
  worstLeg: number;
  worstLegLost: number;
  arrivalJitterUs: Histo;
  latencyUs: Histo;
  onsets: { sent: number; expectedDetections: number; detected: number; unidentified: number; unmatched: number };
  generator: {
    sends: number;
    windowSends: number;
    lateSends: number;
    sendErrors: number;
    sendLatenessUs: Histo;
    rxLagUs: Histo;
    cpuUs: number;
    cpuPercentOfCore: number;
  };
  machineBusyPercent: number;
}

/** Line-oriented JSON events from the generator's stdout. */
class GeneratorEvents {
  readonly #queue: Array<Record<string, unknown>> = [];
  readonly #waiters: Array<(e: Record<string, unknown>) => void> = [];
  #failure: Error | undefined;

  constructor(child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as Record<string, unknown>;
      const waiter = this.#waiters.shift();
      if (waiter) waiter(event);
      else this.#queue.push(event);
    });
    child.on('exit', (code, signal) => {
      if (code === 0) return;
      this.#failure = new Error(`rtpload exited with ${code ?? signal}`);
      for (const w of this.#waiters.splice(0)) w({ event: 'failed' });
    });
  }

  async next(expected: string): Promise<Record<string, unknown>> {
    const event = this.#queue.shift() ?? (await new Promise<Record<string, unknown>>((resolve) => this.#waiters.push(resolve)));
    if (this.#failure) throw this.#failure;
    if (event['event'] !== expected) throw new Error(`rtpload: expected ${expected}, got ${JSON.stringify(event)}`);
    return event;
  }
}

// ---------------------------------------------------------------------------
// Server-side samples.

interface LatenessHistogram {
  bucketUs: number;
  counts: number[];
}

/** Narrow guard for the engine's (optional, newer) `tickLatenessHistogramUs`. */
function latenessHistogramOf(stats: unknown): LatenessHistogram | undefined {
  if (typeof stats !== 'object' || stats === null || !('tickLatenessHistogramUs' in stats)) return undefined;
  const h: unknown = stats.tickLatenessHistogramUs;
  if (typeof h !== 'object' || h === null || !('bucketUs' in h) || !('counts' in h)) return undefined;
  const { bucketUs, counts } = h;
  if (typeof bucketUs !== 'number' || !(bucketUs > 0) || !Array.isArray(counts)) return undefined;
  if (!counts.every((c): c is number => typeof c === 'number')) return undefined;
  return { bucketUs, counts };
}

interface Sample {
  cpu: NodeJS.CpuUsage;
  at: string;
  stats: { lateTicks: number; ticks: number; packetsReceived: number; packetsSent: number };
  raw: unknown;
  framesConcealed: number;
  /** UDP receive-queue drops per local port, from /proc/net/udp (cumulative). */
  drops: Map<number, number>;
}

function udpDropsByPort(): Map<number, number> {
  const drops = new Map<number, number>();
  let text: string;
  try {
    text = readFileSync('/proc/net/udp', 'utf8');
  } catch {
    return drops;
  }
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 13) continue;
    const [addr, portHex] = fields[1]!.split(':');
    if (addr !== '0100007F' || portHex === undefined) continue;
    drops.set(parseInt(portHex, 16), Number(fields[fields.length - 1]));
  }
  return drops;
}

function dropsDelta(first: Map<number, number>, last: Map<number, number>, ports: number[]): number {
  let total = 0;
  for (const p of ports) total += (last.get(p) ?? 0) - (first.get(p) ?? 0);
  return total;
}

/** p-quantile (upper bucket edge, ms) of the lateness histogram accumulated between two samples. */
function latenessPercentiles(first: unknown, last: unknown): { p50: number; p99: number; overflow: number } | undefined {
  const a = latenessHistogramOf(first);
  const b = latenessHistogramOf(last);
  if (!a || !b || a.counts.length !== b.counts.length || a.bucketUs !== b.bucketUs) return undefined;
  const diff = b.counts.map((c, i) => c - a.counts[i]!);
  const total = diff.reduce((s, c) => s + c, 0);
  if (total <= 0) return undefined;
  const quantile = (p: number): number => {
    const rank = Math.ceil(p * total);
    let seen = 0;
    for (let i = 0; i < diff.length; i++) {
      seen += diff[i]!;
      if (seen >= rank) return i === diff.length - 1 ? Infinity : ((i + 1) * b.bucketUs) / 1000;
    }
    return Infinity;
  };
  return { p50: quantile(0.5), p99: quantile(0.99), overflow: diff[diff.length - 1]! };
}

// ---------------------------------------------------------------------------

interface Result {
  legs: number;
  roomSize: number;
  label: string;
  setupMs: number;
  cpuMicrosPerLegSecond: number;
  serverCpuPercentOfCore: number;
  /** CPU used by everything else on the machine during the window, in % of one core. */
  otherLoadPercentCore: number;
  lateTicks: number;
  ticks: number;
  tickLateness: { p50: number; p99: number; overflow: number } | undefined;
  serverPacketsIn: number;
  serverPacketsOut: number;
  serverRxDrops: number;
  generatorRxDrops: number;
  serverFramesConcealed: number;
  gen: GeneratorReport;
}

/** The load generator for one scenario, its sockets bound (it then waits for the server's ports on stdin). */
async function startGenerator({ legs, roomSize }: Scenario, options: Options): Promise<{
  generator: ChildProcess;
  events: GeneratorEvents;
  generatorPorts: number[];
}> {
  const generator = spawn(
    generatorBinary,
    [
      '--legs', String(legs),
      '--talkers', String(options.talkers),
      '--room-size', String(roomSize),
      '--seconds', String(options.seconds),
      '--warmup-ms', String(options.warmupMs),
      '--listeners', options.listeners,
      '--port-min', String(GENERATOR_PORT_MIN),
      '--port-max', String(GENERATOR_PORT_MAX),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const events = new GeneratorEvents(generator);
  const generatorPorts = (await events.next('bound'))['ports'] as number[];
  return { generator, events, generatorPorts };
}

async function runOnce({ legs, roomSize }: Scenario, options: Options): Promise<Result> {
  await waitForPortsFree(ENGINE_PORT_MIN, ENGINE_PORT_MAX);
  const { generator, events, generatorPorts } = await startGenerator({ legs, roomSize }, options);

  const child = fork(fileURLToPath(new URL('./mediaServer.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const nextMessage = <T>(type: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const done = (): void => {
        child.off('message', listener);
        child.off('exit', onExit);
      };
      const listener = (message: { type: string; message?: string }): void => {
        if (message.type === 'error') {
          done();
          reject(new Error(`engine child: ${message.message}`));
        }
        if (message.type !== type) return;
        done();
        resolve(message as T);
      };
      const onExit = (code: number | null, signal: string | null): void => {
        done();
        reject(new Error(`engine child exited (${code ?? signal}) while waiting for ${type}`));
      };
      child.on('message', listener);
      child.once('exit', onExit);
    });

  try {
    child.send({
      type: 'setup',
      legs,
      roomSize,
      driverPorts: generatorPorts,
      rtpPortMin: ENGINE_PORT_MIN,
      rtpPortMax: ENGINE_PORT_MAX,
      workerThreads: options.workerThreads,
    });
    const { ports: serverPorts, setupMs } = await nextMessage<{ ports: number[]; setupMs: number }>('ready');
    generator.stdin!.write(`${serverPorts.join(' ')}\n`);

    const sample = async (phase: 'start' | 'end'): Promise<Sample> => {
      child.send({ type: 'sample', phase });
      const s = await nextMessage<Omit<Sample, 'drops'>>('sample');
      return { ...s, drops: udpDropsByPort() };
    };
    await events.next('window-start');
    const driverCpu0 = process.cpuUsage();
    const first = await sample('start');
    await events.next('window-end');
    const last = await sample('end');
    const driverCpu = process.cpuUsage(driverCpu0);
    const gen = (await events.next('report')) as unknown as GeneratorReport;

    const elapsedSeconds = Number(BigInt(last.at) - BigInt(first.at)) / 1e9;
    const cpuMicros = last.cpu.user + last.cpu.system - first.cpu.user - first.cpu.system;
    const tickLateness =
      latenessPercentiles(first.stats, last.stats) ?? latenessPercentiles(first.raw, last.raw);
    const serverCpuPercentOfCore = (100 * cpuMicros) / (elapsedSeconds * 1e6);
    const driverPercentOfCore = (100 * (driverCpu.user + driverCpu.system)) / (elapsedSeconds * 1e6);
    return {
      legs,
      roomSize,
      label: labelOf({ legs, roomSize }),
      setupMs,
      cpuMicrosPerLegSecond: cpuMicros / (legs * elapsedSeconds),
      serverCpuPercentOfCore,
      otherLoadPercentCore: Math.max(
        0,
        gen.machineBusyPercent * availableParallelism() - serverCpuPercentOfCore - gen.generator.cpuPercentOfCore - driverPercentOfCore,
      ),
      lateTicks: last.stats.lateTicks - first.stats.lateTicks,
      ticks: last.stats.ticks - first.stats.ticks,
      tickLateness,
      serverPacketsIn: last.stats.packetsReceived - first.stats.packetsReceived,
      serverPacketsOut: last.stats.packetsSent - first.stats.packetsSent,
      serverRxDrops: dropsDelta(first.drops, last.drops, serverPorts),
      generatorRxDrops: dropsDelta(first.drops, last.drops, generatorPorts),
      serverFramesConcealed: last.framesConcealed - first.framesConcealed,
      gen,
    };
  } finally {
    if (child.connected) child.send({ type: 'stop' });
    await reap(child);
    await reap(generator);
  }
}

// ---------------------------------------------------------------------------
// The floor: the same load against bench/floor.cc, which only moves the
// packets (one read and one write per leg per tick, no media work).

type FloorSockets = 'per-leg' | 'one';

interface FloorResult {
  label: string;
  sockets: FloorSockets;
  cpuMicrosPerLegSecond: number;
  cpuPercentOfCore: number;
  framesLost: number;
  lateSends: number;
  /** Datagrams the kernel dropped on the floor's own sockets (full receive queue): work it did not do. */
  rxDrops: number;
}

/**
 * Waits (up to 10 s) until no UDP socket on 127.0.0.1 is bound in
 * [min, max]. A process that exits does not free its ports at once when
 * they sit in an io_uring fixed file table: the ring is torn down later, by
 * a kernel worker.
 */
async function waitForPortsFree(min: number, max: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const busy = [...udpDropsByPort().keys()].filter((port) => port >= min && port <= max).length;
    if (busy === 0) return;
    if (Date.now() > deadline) throw new Error(`${busy} UDP ports in ${min}-${max} still bound after 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Waits (up to 5 s, then SIGKILL) for a child to exit, so that its ports
 * are free before the next run binds the same range.
 */
async function reap(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** CPU time of every thread of `pid` so far, in µs (/proc/<pid>/task/<tid>/schedstat: ns on CPU). */
function processCpuMicros(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return ns / 1000;
}

async function runFloor(scenario: Scenario, sockets: FloorSockets, options: Options): Promise<FloorResult> {
  await waitForPortsFree(ENGINE_PORT_MIN, ENGINE_PORT_MAX);
  const { generator, events, generatorPorts } = await startGenerator(scenario, options);
  const floorArgs = ['--port-min', String(ENGINE_PORT_MIN), '--port-max', String(ENGINE_PORT_MAX), '--sockets', sockets];
  const floor = spawn(floorBinary, floorArgs, {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  try {
    const lines = createInterface({ input: floor.stdout! });
    const ready = new Promise<number[]>((resolve, reject) => {
      lines.once('line', (line) => {
        const event = JSON.parse(line) as { event: string; ports: number[] };
        if (event.event === 'ready') resolve(event.ports);
        else reject(new Error(`floor: expected ready, got ${line}`));
      });
      floor.once('exit', (code, signal) => reject(new Error(`floor exited (${code ?? signal}) before it was ready`)));
    });
    floor.stdin!.write(`${generatorPorts.join(' ')}\n`);
    const floorPorts = [...new Set(await ready)];
    generator.stdin!.write(`${(await ready).join(' ')}\n`);
    await events.next('window-start');
    const cpu0 = processCpuMicros(floor.pid!);
    const drops0 = udpDropsByPort();
    const at0 = process.hrtime.bigint();
    await events.next('window-end');
    const cpu = processCpuMicros(floor.pid!) - cpu0;
    const rxDrops = dropsDelta(drops0, udpDropsByPort(), floorPorts);
    const elapsedSeconds = Number(process.hrtime.bigint() - at0) / 1e9;
    const gen = (await events.next('report')) as unknown as GeneratorReport;
    return {
      label: labelOf(scenario),
      sockets,
      cpuMicrosPerLegSecond: cpu / (scenario.legs * elapsedSeconds),
      cpuPercentOfCore: (100 * cpu) / (elapsedSeconds * 1e6),
      framesLost: gen.framesLost,
      lateSends: gen.generator.lateSends,
      rxDrops,
    };
  } finally {
    floor.stdin!.end();
    await reap(floor);
    await reap(generator);
  }
}

// ---------------------------------------------------------------------------
// Output.

const ms = (us: number): string => (us < 0 ? 'n/a' : (us / 1000).toFixed(2));
const msTick = (v: number | undefined): string => (v === undefined ? 'n/a' : Number.isFinite(v) ? v.toFixed(1) : '>20');

function table(rows: Array<Record<string, string | number>>): string {
  const headers = Object.keys(rows[0] ?? {});
  const widths = headers.map((h) => Math.max(h.length, ...rows.map((r) => String(r[h]).length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padStart(widths[i]!)).join(' | ')} |`;
  return [line(headers), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map((r) => line(headers.map((h) => String(r[h]))))].join('\n');
}

function generatorHealthy(r: Result): boolean {
  return r.gen.generator.lateSends === 0 && r.gen.generator.sendErrors === 0 && r.generatorRxDrops === 0;
}

function report(results: Result[], floors: FloorResult[], options: Options): void {
  const out = process.stdout;
  out.write(
    `\nmedia benchmark: ${options.seconds} s window after ${options.warmupMs / 1000} s warm-up, one meeting of N legs ` +
      `(rows M×S: M meetings of S legs), ${options.talkers} talkers per meeting ` +
      `(tone bursts), listeners send ${options.listeners === 'silence' ? 'µ-law silence' : 'nothing'}, ${options.workerThreads} mixer thread(s)\n\n`,
  );
  out.write(
    `${table(
      results.map((r) => ({
        legs: r.label,
        'CPU µs/leg-s': r.cpuMicrosPerLegSecond.toFixed(1),
        'frames lost': r.gen.framesLost,
        'late ticks': r.lateTicks,
        'tick late p50/p99 ms': `${msTick(r.tickLateness?.p50)}/${msTick(r.tickLateness?.p99)}`,
        'arrival jitter p99 ms': ms(r.gen.arrivalJitterUs.p99),
        'added latency p99 ms': ms(r.gen.latencyUs.p99),
        'gen late sends': r.gen.generator.lateSends,
        'other load %core': r.otherLoadPercentCore.toFixed(0),
      })),
    )}\n\ndetails\n`,
  );
  out.write(
    `${table(
      results.map((r) => ({
        legs: r.label,
        'server CPU %core': r.serverCpuPercentOfCore.toFixed(0),
        'server pkts in/out': `${r.serverPacketsIn}/${r.serverPacketsOut}`,
        'gen CPU %core': r.gen.generator.cpuPercentOfCore.toFixed(0),
        'machine busy %': r.gen.machineBusyPercent.toFixed(0),
        'other load %core': r.otherLoadPercentCore.toFixed(0),
        'frames exp/recv': `${r.gen.framesExpected}/${r.gen.framesReceived}`,
        'seq gaps': r.gen.seqGaps,
        'server rx drops': r.serverRxDrops,
        'server concealed': r.serverFramesConcealed,
        'gen rx drops': r.generatorRxDrops,
        'jitter p50 ms': ms(r.gen.arrivalJitterUs.p50),
        'latency p50/max ms': `${ms(r.gen.latencyUs.p50)}/${ms(r.gen.latencyUs.max)}`,
        'onsets det/exp': `${r.gen.onsets.detected}/${r.gen.onsets.expectedDetections}`,
        'gen send late p99/max ms': `${ms(r.gen.generator.sendLatenessUs.p99)}/${ms(r.gen.generator.sendLatenessUs.max)}`,
        'setup ms': r.setupMs.toFixed(0),
      })),
    )}\n\n`,
  );

  if (floors.length > 0) {
    out.write(
      `floor: the same load against bench/floor.cc, which only moves the packets: one read and one write per leg per tick ` +
        `(sockets per-leg: a socket per leg through the engine's io_uring batches, as the engine; one: every leg on one socket, recvmmsg/sendmmsg)\n${table(
        floors.map((f) => {
          const engine = results.find((r) => r.label === f.label);
          return {
            legs: f.label,
            sockets: f.sockets,
            'floor CPU µs/leg-s': f.cpuMicrosPerLegSecond.toFixed(1),
            'engine CPU µs/leg-s': engine ? engine.cpuMicrosPerLegSecond.toFixed(1) : 'n/a',
            'engine above floor µs': engine ? (engine.cpuMicrosPerLegSecond - f.cpuMicrosPerLegSecond).toFixed(1) : 'n/a',
            'floor CPU %core': f.cpuPercentOfCore.toFixed(0),
            'frames lost': f.framesLost,
            'floor rx drops': f.rxDrops,
            'gen late sends': f.lateSends,
          };
        }),
      )}\n\n`,
    );
  }

  const verdict = (ok: boolean | undefined, text: string): void => {
    out.write(`${ok === undefined ? 'N/A ' : ok ? 'PASS' : 'FAIL'}  ${text}\n`);
  };
  const worstCpu = results.reduce((w, r) => (r.cpuMicrosPerLegSecond > w.cpuMicrosPerLegSecond ? r : w));
  verdict(
    results.every((r) => r.cpuMicrosPerLegSecond <= TARGET_CPU_US),
    `CPU ≤ ${TARGET_CPU_US} µs per leg-second: worst ${worstCpu.cpuMicrosPerLegSecond.toFixed(1)} at ${worstCpu.label}`,
  );
  const bigs = results.filter((r) => r.legs === TARGET_LEGS_NO_LOSS);
  if (bigs.length === 0) verdict(undefined, `${TARGET_LEGS_NO_LOSS} legs with 0 lost frames: N=${TARGET_LEGS_NO_LOSS} not run`);
  for (const big of bigs) {
    verdict(
      big.gen.framesLost === 0,
      `${TARGET_LEGS_NO_LOSS} legs (${big.label}) with 0 lost frames: ${big.gen.framesLost} lost` +
        (big.lateTicks > 0 ? ` (${big.lateTicks} late ticks, run late by the mixer's catch-up)` : ', 0 late ticks') +
        (generatorHealthy(big) ? '' : ' (generator did not keep up: see below)'),
    );
  }
  const withTick = results.filter((r) => r.tickLateness !== undefined);
  verdict(
    withTick.length === 0 ? undefined : withTick.every((r) => r.tickLateness!.p99 <= TARGET_TICK_P99_MS),
    withTick.length === 0
      ? `tick jitter p99 ≤ ${TARGET_TICK_P99_MS} ms: n/a (engine has no tickLatenessHistogramUs yet)`
      : `tick jitter p99 ≤ ${TARGET_TICK_P99_MS} ms: worst ${msTick(Math.max(...withTick.map((r) => r.tickLateness!.p99)))} ms`,
  );
  const withLatency = results.filter((r) => r.gen.latencyUs.count > 0);
  verdict(
    withLatency.length === 0 ? undefined : withLatency.every((r) => r.gen.latencyUs.p99 / 1000 <= TARGET_LATENCY_P99_MS),
    `added latency p99 < ${TARGET_LATENCY_P99_MS} ms (DESIGN.md): worst ${
      withLatency.length === 0 ? 'n/a' : ms(Math.max(...withLatency.map((r) => r.gen.latencyUs.p99)))
    } ms`,
  );
  const unhealthy = results.filter((r) => !generatorHealthy(r));
  verdict(
    unhealthy.length === 0,
    unhealthy.length === 0
      ? 'generator kept up (no send a whole frame late, no send errors, no receive drops): the figures are the server\'s'
      : `generator did NOT keep up at ${unhealthy.map((r) => r.label).join(',')} ` +
          `(late sends ${unhealthy.map((r) => r.gen.generator.lateSends).join(',')}, rx drops ${unhealthy.map((r) => r.generatorRxDrops).join(',')}): ` +
          'loss/latency there may be the generator\'s, not the server\'s',
  );
  const noisy = results.filter((r) => r.otherLoadPercentCore > OTHER_LOAD_WARN_PERCENT);
  if (noisy.length > 0) {
    out.write(
      `WARN  machine not quiet: other processes used ${noisy.map((r) => `${r.otherLoadPercentCore.toFixed(0)}% of a core at ${r.label}`).join(', ')} ` +
        `on this ${availableParallelism()}-core machine; timing figures there are contaminated — rerun when it is idle\n`,
    );
  }
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  ensureGenerator();
  if (options.floor) ensureFloor();
  const results: Result[] = [];
  const floors: FloorResult[] = [];
  const scenarios = [...options.legs.map((legs) => ({ legs, roomSize: legs })), ...options.meetings];
  for (const scenario of scenarios) {
    process.stderr.write(`bench: ${labelOf(scenario)} ...\n`);
    results.push(await runOnce(scenario, options));
    if (options.floor) {
      for (const sockets of ['per-leg', 'one'] as const) {
        process.stderr.write(`bench: ${labelOf(scenario)} floor, sockets ${sockets} ...\n`);
        floors.push(await runFloor(scenario, sockets, options));
      }
    }
  }
  if (options.json) process.stdout.write(`${JSON.stringify(options.floor ? { results, floors } : results, null, 2)}\n`);
  report(results, floors, options);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

/**
 * SIP load benchmark: Debian's sipp places calls at a fixed rate against the
 * real server (a child process running `src/` through tsx); every
 * call enters the participant access code as RFC 4733 digits, stays a few
 * seconds in the meeting and hangs up.
 *
 *   npm run bench:sip                          # 100 calls/s for 60 s
 *   npm run bench:sip -- --rate 20 --seconds 10
 *
 * Prints calls attempted/succeeded/failed (sipp's view), access codes the
 * server accepted and rejected (from its logs), server CPU per call setup
 * and the peak number of simultaneous calls the server reported.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeRtpPcap } from '../test/support/pcap.js';
import { dtmfSequence } from '../test/support/rtpPackets.js';

interface Options {
  rate: number;
  seconds: number;
  holdMs: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { rate: 100, seconds: 60, holdMs: 3000 };
  for (let i = 0; i < argv.length; i += 2) {
    const value = Number(argv[i + 1]);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`${argv[i]} needs a positive number`);
    if (argv[i] === '--rate') options.rate = value;
    else if (argv[i] === '--seconds') options.seconds = value;
    else if (argv[i] === '--hold-ms') options.holdMs = value;
    else throw new Error(`unknown option ${argv[i]}`);
  }
  return options;
}

const SIP_PORT = 26060;
const HTTP_PORT = 26080;
const SIPP_PORT = 26100;
const SIPP_MEDIA_PORT = 26200;

function scenario(pcap: string, holdMs: number): string {
  const headers = `From: <sip:load@[local_ip]:[local_port]>;tag=[pid]L[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]`;
  const via = 'Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]';
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="load">
<send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
${via}
${headers}
CSeq: 1 INVITE
Contact: <sip:load@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=load 1 1 IN IP4 [local_ip]
s=-
c=IN IP4 [local_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
]]></send>
<recv response="100" optional="true"/>
<recv response="200" rtd="true"/>
<send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
${via}
${headers}
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
<nop><action><exec play_pcap_audio="${pcap}"/></action></nop>
<pause milliseconds="${holdMs}"/>
<send retrans="500"><![CDATA[
BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
${via}
${headers}
CSeq: 2 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
<recv response="200"/>
</scenario>
`;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'bench-sip-'));
  const pcap = join(dir, 'code.pcap');
  writeRtpPcap(pcap, dtmfSequence('2222#', { payloadType: 101, ssrc: 0xbe7c, toneMs: 60, gapMs: 60 }));
  const scenarioFile = join(dir, 'load.xml');
  writeFileSync(scenarioFile, scenario(pcap, options.holdMs));

  // The sources of the working tree, not a possibly stale dist/.
  const root = fileURLToPath(new URL('..', import.meta.url));
  const server = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/main.ts')], {
    cwd: root,
    env: {
      ...process.env,
      SIP_PORT: String(SIP_PORT),
      HTTP_PORT: String(HTTP_PORT),
      RTP_PORT_MIN: '32000',
      RTP_PORT_MAX: '39999',
      DATA_DIR: join(dir, 'data'),
      PUBLIC_ADDRESS: '127.0.0.1',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let accepted = 0;
  let rejected = 0;
  let buffered = '';
  server.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.includes('access code entered')) continue;
      if (line.includes('"accepted":true')) accepted++;
      else rejected++;
    }
  });
  await waitForHealth();

  const cpuBefore = readCpuMicros(server.pid!);
  let peakLegs = 0;
  const poll = setInterval(() => {
    void fetch(`http://127.0.0.1:${HTTP_PORT}/healthz`)
      .then((r) => r.json() as Promise<{ legs: number }>)
      .then((h) => (peakLegs = Math.max(peakLegs, h.legs)))
      .catch(() => undefined);
  }, 250);

  const total = Math.round(options.rate * options.seconds);
  const sipp = spawn(
    'sipp',
    [
      `127.0.0.1:${SIP_PORT}`,
      '-sf', scenarioFile,
      '-s', '15550100',
      '-i', '127.0.0.1',
      '-p', String(SIPP_PORT),
      '-mp', String(SIPP_MEDIA_PORT),
      '-r', String(options.rate),
      '-m', String(total),
      '-l', String(Math.ceil(options.rate * (options.holdMs / 1000 + 5))),
      '-nostdin',
      '-trace_stat', '-stf', join(dir, 'stats.csv'),
      '-timeout', `${options.seconds + 60}s`,
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const started = Date.now();
  const sippCode = await new Promise<number | null>((resolve) => sipp.on('exit', resolve));
  const elapsed = (Date.now() - started) / 1000;
  clearInterval(poll);
  const cpuMicros = readCpuMicros(server.pid!) - cpuBefore;
  server.kill('SIGTERM');

  const stats = readSippStats(join(dir, 'stats.csv'));
  rmSync(dir, { recursive: true, force: true });
  const line = (label: string, value: string | number): void => void process.stdout.write(`${label.padEnd(34)} ${value}\n`);
  process.stdout.write(`SIP load: ${options.rate} calls/s for ${options.seconds} s, ${options.holdMs} ms in the meeting per call\n`);
  line('calls attempted (sipp)', stats.total);
  line('calls succeeded (sipp)', stats.successful);
  line('calls failed (sipp)', stats.failed);
  line('access codes accepted (server)', accepted);
  line('access codes rejected (server)', rejected);
  line('sipp exit code', String(sippCode));
  line('wall time, s', elapsed.toFixed(1));
  line('server CPU per call, µs', stats.total ? Math.round(cpuMicros / stats.total) : 'n/a');
  line('server CPU, % of one core', ((cpuMicros / 1e6 / elapsed) * 100).toFixed(1));
  line('peak simultaneous legs (server)', peakLegs);
  const ok = stats.failed === 0 && rejected === 0 && accepted === stats.total && stats.total === total;
  process.stdout.write(ok ? 'verdict: every call set up and entered its code\n' : 'verdict: FAILURES (see above)\n');
  process.exitCode = ok ? 0 : 1;
}

async function waitForHealth(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${HTTP_PORT}/healthz`)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the server did not come up');
}

/** utime + stime of a process (all threads) from /proc, in microseconds. */
function readCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1e6) / 100; // USER_HZ is 100 on Linux
}

/** The last row of sipp's statistics CSV: cumulative total, successful and failed calls. */
function readSippStats(path: string): { total: number; successful: number; failed: number } {
  const rows = readFileSync(path, 'utf8').trim().split('\n');
  const header = rows[0]!.split(';');
  const last = rows[rows.length - 1]!.split(';');
  const column = (name: string): number => Number(last[header.indexOf(name)]);
  return { total: column('TotalCallCreated'), successful: column('SuccessfulCall(C)'), failed: column('FailedCall(C)') };
}

void main();

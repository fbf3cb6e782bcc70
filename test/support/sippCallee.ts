/**
 * sipp as the far end of our outbound calls (a UAS script): answering with
 * its media at a port the test owns while streaming a tone, ringing until
 * cancelled, or busy. Used by the dial-out and operator-transfer tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

function response(statusLine: string, extra: string[] = [], body = ''): string {
  return `<send><![CDATA[
${statusLine}
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
${extra.join('\n')}${extra.length ? '\n' : ''}Content-Length: [len]

${body}]]></send>`;
}

/**
 * A callee that rings, answers with its media at `sinkPort`, streams
 * `tonePath`, runs `steps` (scenario XML: pauses, pcap key presses), then
 * waits for our BYE.
 */
export function answeringCallee(sinkPort: number, tonePath: string, ringMs = 1500, steps = ''): string {
  const sdp = `v=0
o=callee 1 1 IN IP4 [local_ip]
s=-
c=IN IP4 [local_ip]
t=0 0
m=audio ${sinkPort} RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=ptime:20
a=sendrecv
`;
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="answering callee">
<recv request="INVITE"/>
${response('SIP/2.0 180 Ringing')}
<pause milliseconds="${ringMs}"/>
${response('SIP/2.0 200 OK', ['Content-Type: application/sdp'], sdp)}
<recv request="ACK"/>
<nop><action><exec rtp_stream="${tonePath},-1,0"/></action></nop>
${steps}
<recv request="BYE" timeout="120000"/>
<send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
</scenario>
`;
}

/** A callee that rings until we CANCEL. */
export const RINGING_CALLEE = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="ringing callee">
<recv request="INVITE"/>
${response('SIP/2.0 180 Ringing')}
<recv request="CANCEL" timeout="60000"/>
<send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
<send><![CDATA[
SIP/2.0 487 Request Terminated
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
CSeq: [cseq] INVITE
Content-Length: 0

]]></send>
<recv request="ACK"/>
</scenario>
`;

export const BUSY_CALLEE = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="busy callee">
<recv request="INVITE"/>
${response('SIP/2.0 486 Busy Here')}
<recv request="ACK"/>
</scenario>
`;

export interface SippCallee {
  process: ChildProcess;
  done: Promise<{ code: number | null; output: string }>;
}

/** Runs `scenario` once as a UAS on `sipPort` (sipp's own media on `mediaPort`); `dir` holds the scenario file. */
export function runCallee(scenario: string, ports: { sipPort: number; mediaPort: number }, dir: string): SippCallee {
  const file = join(dir, `callee-${Date.now()}.xml`);
  writeFileSync(file, scenario);
  const child = spawn(
    'sipp',
    ['-sf', file, '-i', '127.0.0.1', '-p', String(ports.sipPort), '-mp', String(ports.mediaPort), '-m', '1', '-nostdin', '-trace_err', '-timeout', '150s', '-timeout_error'],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-5000)));
  child.stderr.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-5000)));
  const done = new Promise<{ code: number | null; output: string }>((resolve) => child.on('exit', (code) => resolve({ code, output })));
  return { process: child, done };
}

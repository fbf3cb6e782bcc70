/**
 * Debian's sipp as a real UAC against SipServer, over UDP and TCP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { SipServer } from '../../../src/sip/SipServer.js';
import type { InboundCall } from '../../../src/sip/InboundCall.js';
import type { CallEndReason, InfoDtmf } from '../../../src/sip/SipTypes.js';
import { negotiateAudio } from '../../../src/sip/sdp/index.js';

const SIPP = '/usr/bin/sipp';
const SERVER_PORT = 15080;

const SCENARIO = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bridge call with INFO DTMF">
  <send retrans="500">
    <![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port];transport=[transport] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: "sipp" <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 8 0 101
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true" rrs="true">
    <action>
      <ereg regexp="m=audio [0-9]+ RTP/AVP 8 101" search_in="body" check_it="true" assign_to="m"/>
    </action>
  </recv>
  <Reference variables="m"/>
  <send>
    <![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: "sipp" <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
Content-Length: 0

]]>
  </send>
  <pause milliseconds="100"/>
  <send retrans="500">
    <![CDATA[
INFO [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: "sipp" <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 INFO
Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
Content-Type: application/dtmf-relay
Content-Length: [len]

Signal=7
Duration=160
]]>
  </send>
  <recv response="200"/>
  <pause milliseconds="100"/>
  <send retrans="500">
    <![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: "sipp" <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 3 BYE
Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
Content-Length: 0

]]>
  </send>
  <recv response="200" crlf="true"/>
</scenario>
`;

interface SippResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

describe('sipp against SipServer', () => {
  let server: SipServer;
  let dir: string;
  let child: ChildProcess | undefined;
  const ended: CallEndReason[] = [];
  const dtmf: InfoDtmf[] = [];
  const calls: InboundCall[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sipp-'));
    writeFileSync(path.join(dir, 'call.xml'), SCENARIO);
    server = await SipServer.listen({ bindAddress: '127.0.0.1', port: SERVER_PORT, logger: silentLogger() });
    server.on('call', (call) => {
      calls.push(call);
      call.on('ended', (r) => ended.push(r));
      call.on('infoDtmf', (d) => dtmf.push(d));
      const res = negotiateAudio(call.info.offerSdp, {
        localAddress: '127.0.0.1', localPort: 30000, sessionId: Date.now(), supportedCodecs: ['PCMU', 'PCMA'],
      });
      if (res.ok) call.accept(res.answerSdp);
      else call.reject(res.status, res.reason);
    });
  });

  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = undefined;
    ended.length = 0;
    dtmf.length = 0;
    calls.length = 0;
  });

  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function runSipp(args: string[]): Promise<SippResult> {
    return new Promise((resolve, reject) => {
      const p = spawn(SIPP, ['-nostdin', ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      child = p;
      let output = '';
      p.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      p.stderr?.on('data', (d: Buffer) => (output += d.toString()));
      p.on('error', reject);
      p.on('close', (code, signal) => resolve({ code, signal, output }));
    });
  }

  function errorLogs(): string {
    return readdirSync(dir)
      .filter((f) => f.endsWith('_errors.log'))
      .map((f) => readFileSync(path.join(dir, f), 'utf8'))
      .join('\n');
  }

  const common = (sipPort: number, mediaPort: number) => [
    '-i', '127.0.0.1', '-p', String(sipPort), '-mi', '127.0.0.1', '-mp', String(mediaPort),
    '-m', '1', '-l', '1', '-s', '15550100', '-timeout', '20s', '-timeout_error', '-trace_err',
  ];

  it('built-in uac scenario over UDP completes (exit code 0)', async () => {
    const res = await runSipp(['-sn', 'uac', `127.0.0.1:${SERVER_PORT}`, '-d', '200', ...common(15081, 15084)]);
    expect(res.code, `${res.output}\n${errorLogs()}`).toBe(0);
    expect(ended).toEqual([{ by: 'remote', cause: 'bye' }]);
    expect(calls[0]?.info.dialed).toBe('15550100');
  }, 30_000);

  it('custom scenario with INFO DTMF over UDP completes and the digit arrives', async () => {
    const res = await runSipp(['-sf', 'call.xml', `127.0.0.1:${SERVER_PORT}`, ...common(15082, 15086)]);
    expect(res.code, `${res.output}\n${errorLogs()}`).toBe(0);
    expect(dtmf).toEqual([{ digit: '7', durationMs: 160 }]);
    expect(ended).toEqual([{ by: 'remote', cause: 'bye' }]);
  }, 30_000);

  it('custom scenario over TCP (-t t1) completes', async () => {
    const res = await runSipp(['-sf', 'call.xml', '-t', 't1', `127.0.0.1:${SERVER_PORT}`, ...common(15083, 15088)]);
    expect(res.code, `${res.output}\n${errorLogs()}`).toBe(0);
    expect(calls[0]?.info.transport).toBe('tcp');
    expect(dtmf).toEqual([{ digit: '7', durationMs: 160 }]);
    expect(ended).toEqual([{ by: 'remote', cause: 'bye' }]);
  }, 30_000);
});

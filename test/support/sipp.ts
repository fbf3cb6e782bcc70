import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RtpSink } from './rtpSink.js';

/**
 * Drives Debian's sipp as a phone: a scenario is a list of steps turned into
 * sipp XML. The caller's SDP names `rtpPort`, a UDP port the test owns, so
 * the test hears exactly what the bridge sends to that caller; sipp itself
 * sends the caller's audio (`rtp_stream`) and DTMF (`play_pcap_audio`).
 */

export type CallerStep =
  | { kind: 'pause'; ms: number }
  /** Replays an RTP pcap (RFC 4733 digits) in the background. */
  | { kind: 'pcap'; path: string }
  /** Streams a raw µ-law file in a loop, from sipp's media port. */
  | { kind: 'stream'; path: string }
  /**
   * In-dialog re-INVITE moving our media to `rtpPort` with `direction` (hold: sendonly/inactive);
   * `nullAddress` writes c=0.0.0.0 (RFC 2543 hold). `method: 'UPDATE'` sends the offer in an UPDATE.
   */
  | {
      kind: 'reinvite';
      rtpPort: number;
      direction: 'sendrecv' | 'sendonly' | 'inactive';
      nullAddress?: boolean;
      method?: 'INVITE' | 'UPDATE';
      /** Extra header lines (e.g. Session-Expires on a refresh). */
      headers?: string[];
      /** Codecs of the new offer (a codec change); default the scenario's. */
      codecs?: Array<[number, string]>;
    }
  /** An UPDATE without a body (a session refresh, RFC 4028); expects 200. */
  | { kind: 'refreshUpdate'; headers?: string[] }
  /** Each digit as a SIP INFO (application/dtmf-relay by default), `gapMs` apart. */
  | { kind: 'info'; digits: string; gapMs?: number; contentType?: 'application/dtmf-relay' | 'application/dtmf' }
  /**
   * Waits for the bridge's re-INVITE (answered 200 with our SDP on `rtpPort`)
   * or UPDATE (answered 200 without a body); `requestMatches`: regular
   * expressions (`&&`-separated) the request must match.
   */
  | { kind: 'answerReinvite'; rtpPort: number; timeoutMs: number; requestMatches?: string; method?: 'INVITE' | 'UPDATE'; direction?: string }
  /** `count` INFOs with a text/plain body the bridge answers 200 and otherwise ignores (traffic for -lost runs). */
  | { kind: 'infoNoop'; count: number }
  /** Sends BYE and expects 200. */
  | { kind: 'bye' }
  /** Waits for the bridge's BYE (up to `timeoutMs`) and answers 200; `reasonMatches` must match its Reason header. */
  | { kind: 'expectBye'; timeoutMs: number; reasonMatches?: string };

export interface CallerScenario {
  /** The number dialed (Request-URI user). */
  dialed: string;
  /** Local port written into the SDP m= line: where the bridge must send our audio. */
  rtpPort: number;
  steps: CallerStep[];
  /** Codecs offered, as `payloadType name/rate` pairs; default PCMU, PCMA and telephone-event. */
  codecs?: Array<[number, string]>;
  /** Expected final response to the INVITE when it is not answered. */
  expectFailure?: number;
  /** User part of the From URI (the caller number the bridge sees); default `caller`. */
  from?: string;
  /** Extra header lines on the initial INVITE (e.g. `Session-Expires: 90;refresher=uac`). */
  inviteHeaders?: string[];
  /** A regular expression the final response to the INVITE (200, or `expectFailure`) must match, headers and body. */
  answerMatches?: string;
  /** Expect a reliable 180 (RFC 3262, RSeq 1) and PRACK it before the 200 (put `Supported: 100rel` in inviteHeaders). */
  prackOnRinging?: boolean;
  /** Send CANCEL once 180 Ringing arrives; expect 200 to the CANCEL and 487 to the INVITE. */
  cancelOnRinging?: boolean;
  /**
   * INVITE without SDP (delayed offer): the bridge's 200 carries the offer and
   * our ACK the answer on `rtpPort`; `ackWithoutSdp` sends an ACK with no body instead.
   */
  delayedOffer?: { ackWithoutSdp?: boolean };
}

const HEADERS = `From: <sip:caller@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]`;

function request(method: string, cseq: number, extra = '', body = ''): string {
  return `<send retrans="500"><![CDATA[
${method} sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
${HEADERS}
CSeq: ${cseq} ${method}
Contact: <sip:caller@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
${extra}Content-Length: [len]

${body}]]></send>`;
}

function ack(cseq = 1, body = '', branch = '[branch]'): string {
  return `<send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=${branch}
${HEADERS}
CSeq: ${cseq} ACK
Max-Forwards: 70
${body ? 'Content-Type: application/sdp\n' : ''}Content-Length: ${body ? '[len]' : '0'}

${body}]]></send>`;
}

/**
 * CANCEL of the INVITE with CSeq 1, which must carry the INVITE's branch:
 * sipp's [branch-N] is the branch of the scenario element N places back
 * (INVITE, recv 100, recv 180, CANCEL).
 */
function cancel(): string {
  return `<send><![CDATA[
CANCEL sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-3]
From: <sip:caller@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 CANCEL
Max-Forwards: 70
Content-Length: 0

]]></send>`;
}

/**
 * Regular-expression checks (POSIX extended, one line each: separate
 * patterns with `&&`) on the received message; the call fails when one does not match.
 */
function mustMatch(patterns: string, searchIn: 'msg' | 'body' | 'hdr' = 'msg', header?: string): string {
  const where = header ? `search_in="hdr" header="${header}"` : `search_in="${searchIn}"`;
  const checks = patterns.split('&&').map((p) => `<ereg regexp="${escapeXml(p.trim())}" ${where} check_it="true" assign_to="dummy"/>`);
  return `<action>${checks.join('')}</action>`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function okResponse(body = ''): string {
  return `<send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:caller@[local_ip]:[local_port];transport=[transport]>
${body ? 'Content-Type: application/sdp\n' : ''}Content-Length: ${body ? '[len]' : '0'}

${body}]]></send>`;
}

const DEFAULT_CODECS: Array<[number, string]> = [
  [0, 'PCMU/8000'],
  [8, 'PCMA/8000'],
  [101, 'telephone-event/8000'],
];

function offerSdp(rtpPort: number, codecs: Array<[number, string]>, version: number, direction = 'sendrecv', nullAddress = false): string {
  return `v=0
o=caller 1 ${version} IN IP4 [local_ip]
s=-
c=IN IP4 ${nullAddress ? '0.0.0.0' : '[local_ip]'}
t=0 0
m=audio ${rtpPort} RTP/AVP ${codecs.map(([pt]) => pt).join(' ')}
${codecs.map(([pt, name]) => `a=rtpmap:${pt} ${name}`).join('\n')}
a=ptime:20
a=${direction}
`;
}

export function callerScenarioXml(scenario: CallerScenario): string {
  const codecs = scenario.codecs ?? DEFAULT_CODECS;
  let cseq = 1;
  let sdpVersion = 1;
  const inviteHeaders = (scenario.inviteHeaders ?? []).map((h) => `${h}\n`).join('');
  const parts = scenario.delayedOffer
    ? [request('INVITE', cseq, inviteHeaders)]
    : [request('INVITE', cseq, `${inviteHeaders}Content-Type: application/sdp\n`, offerSdp(scenario.rtpPort, codecs, sdpVersion))];
  if (scenario.cancelOnRinging) {
    parts.push('<recv response="100" optional="true"/>', '<recv response="180"/>', cancel());
    // The bridge answers the CANCEL (200) before it ends the INVITE (487).
    // The ACK of a non-2xx shares the INVITE's branch (six elements back).
    parts.push('<recv response="200"/>', '<recv response="487"/>', ack(1, '', '[branch-6]'));
    return wrap(parts);
  }
  if (scenario.prackOnRinging) {
    cseq++;
    parts.push(
      '<recv response="100" optional="true"/>',
      `<recv response="180">${mustMatch('Require: *100rel && RSeq: *1')}</recv>`,
      request('PRACK', cseq, 'RAck: 1 1 INVITE\n'),
      '<recv response="200"/>',
    );
  } else {
    parts.push('<recv response="100" optional="true"/>', '<recv response="180" optional="true"/>', '<recv response="183" optional="true"/>');
  }
  if (scenario.expectFailure) {
    const failureCheck = scenario.answerMatches ? mustMatch(scenario.answerMatches) : '';
    // The ACK of a non-2xx shares the INVITE's branch (five elements back).
    parts.push(`<recv response="${scenario.expectFailure}">${failureCheck}</recv>`, ack(1, '', '[branch-5]'));
    return wrap(parts);
  }
  const answerCheck = scenario.answerMatches ? mustMatch(scenario.answerMatches) : '';
  parts.push(`<recv response="200" rtd="true">${answerCheck}</recv>`);
  if (scenario.delayedOffer) {
    parts.push(ack(1, scenario.delayedOffer.ackWithoutSdp ? '' : offerSdp(scenario.rtpPort, codecs, sdpVersion)));
  } else {
    parts.push(ack());
  }
  for (const step of scenario.steps) {
    switch (step.kind) {
      case 'pause':
        parts.push(`<pause milliseconds="${step.ms}"/>`);
        break;
      case 'pcap':
        parts.push(`<nop><action><exec play_pcap_audio="${step.path}"/></action></nop>`);
        break;
      case 'stream':
        parts.push(`<nop><action><exec rtp_stream="${step.path},-1,0"/></action></nop>`);
        break;
      case 'reinvite': {
        cseq++;
        sdpVersion++;
        const method = step.method ?? 'INVITE';
        const headers = (step.headers ?? []).map((h) => `${h}\n`).join('');
        parts.push(
          request(method, cseq, `${headers}Content-Type: application/sdp\n`, offerSdp(step.rtpPort, step.codecs ?? codecs, sdpVersion, step.direction, step.nullAddress)),
          '<recv response="100" optional="true"/>',
          '<recv response="200"/>',
        );
        if (method === 'INVITE') parts.push(ack(cseq));
        break;
      }
      case 'refreshUpdate':
        cseq++;
        parts.push(request('UPDATE', cseq, (step.headers ?? []).map((h) => `${h}\n`).join('')), '<recv response="200"/>');
        break;
      case 'info':
        for (const digit of step.digits) {
          cseq++;
          const relay = (step.contentType ?? 'application/dtmf-relay') === 'application/dtmf-relay';
          parts.push(
            relay
              ? request('INFO', cseq, 'Content-Type: application/dtmf-relay\n', `Signal=${digit}\r\nDuration=160\r\n`)
              : request('INFO', cseq, 'Content-Type: application/dtmf\n', digit),
            '<recv response="200"/>',
            `<pause milliseconds="${step.gapMs ?? 150}"/>`,
          );
        }
        break;
      case 'infoNoop':
        for (let i = 0; i < step.count; i++) {
          cseq++;
          parts.push(request('INFO', cseq, 'Content-Type: text/plain\n', 'ping'), '<recv response="200"/>');
        }
        break;
      case 'answerReinvite': {
        const method = step.method ?? 'INVITE';
        const check = step.requestMatches ? mustMatch(step.requestMatches) : '';
        sdpVersion++;
        parts.push(
          `<recv request="${method}" timeout="${step.timeoutMs}">${check}</recv>`,
          okResponse(method === 'INVITE' ? offerSdp(step.rtpPort, codecs, sdpVersion, step.direction ?? 'sendrecv') : ''),
        );
        if (method === 'INVITE') parts.push('<recv request="ACK"/>');
        break;
      }
      case 'bye':
        cseq++;
        parts.push(request('BYE', cseq), '<recv response="200"/>');
        break;
      case 'expectBye':
        parts.push(
          `<recv request="BYE" timeout="${step.timeoutMs}">${step.reasonMatches ? mustMatch(step.reasonMatches, 'hdr', 'Reason:') : ''}</recv>`,
          `<send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>`,
        );
        break;
    }
  }
  return wrap(parts);
}

function wrap(parts: string[]): string {
  // sipp refuses a variable assigned and never read: the checks' variable is declared read here.
  if (parts.some((p) => p.includes('assign_to="dummy"'))) parts.push('<Reference variables="dummy"/>');
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="caller">\n${parts.join('\n')}\n</scenario>\n`;
}

export interface SippRun {
  process: ChildProcess;
  /** Set once sipp has exited: its exit code and the tail of its output. */
  exited?: { code: number | null; output: string };
  /** Resolves when sipp exits: its exit code (0 = the call went as scripted) and error log. */
  done: Promise<{ code: number | null; errors: string; output: string }>;
}

export interface SippOptions {
  serverPort: number;
  /** sipp's own SIP port and media port; must be free. */
  sipPort: number;
  mediaPort: number;
  transport?: 'udp' | 'tcp';
  /** sipp's global timeout, seconds. */
  timeoutSeconds?: number;
  /** sipp's `-lost`: percentage of SIP messages it drops (sent and received), so retransmissions must recover. */
  lostPercent?: number;
}

/** Starts one sipp process placing one call with `scenario`. */
export function runCaller(scenario: CallerScenario, options: SippOptions): SippRun {
  const dir = mkdtempSync(join(tmpdir(), 'sipp-'));
  const file = join(dir, 'caller.xml');
  const xml = callerScenarioXml(scenario);
  writeFileSync(file, scenario.from ? xml.replaceAll('From: <sip:caller@', `From: <sip:${scenario.from}@`) : xml);
  const args = [
    `127.0.0.1:${options.serverPort}`,
    '-sf', file,
    '-s', scenario.dialed,
    '-i', '127.0.0.1',
    '-p', String(options.sipPort),
    '-mp', String(options.mediaPort),
    '-m', '1',
    '-nostdin',
    '-trace_err',
    '-timeout', `${options.timeoutSeconds ?? 60}s`,
    '-timeout_error',
  ];
  if (options.transport === 'tcp') args.push('-t', 't1');
  if (options.lostPercent !== undefined) args.push('-lost', String(options.lostPercent));
  const child = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20000)));
  child.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20000)));
  const run: SippRun = { process: child, done: undefined as never };
  run.done = new Promise<{ code: number | null; errors: string; output: string }>((resolve) => {
    child.on('exit', (code) => {
      run.exited = { code, output: output.slice(-3000) };
      const errors = readdirSync(dir)
        .filter((name) => name.endsWith('_errors.log'))
        .map((name) => readFileSync(join(dir, name), 'utf8'))
        .join('\n');
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, errors, output });
    });
  });
  return run;
}

/**
 * From sipp's final scenario screen: how many requests it retransmitted and
 * how many of its own messages `-lost` dropped (sent lines only).
 */
export function sippLossStats(output: string): { retransmissions: number; lost: number } {
  const at = output.lastIndexOf('Messages  Retrans');
  let retransmissions = 0;
  let lost = 0;
  if (at < 0) return { retransmissions, lost };
  for (const line of output.slice(at).split('\n')) {
    if (line.includes('Test Terminated')) break;
    if (!line.includes('---------->')) continue;
    const numbers = line.split('---------->')[1]!.trim().split(/\s+/).map(Number);
    retransmissions += numbers[1] ?? 0;
    lost += numbers[3] ?? 0;
  }
  return { retransmissions, lost };
}

/** A sipp caller and the sink its SDP names, which records what it hears. */
export interface SippCall {
  run: SippRun;
  sink: RtpSink;
}

/**
 * Places calls one after another from numbered callers, each on ports of its
 * own: caller n's sink on sinkBase + 2n, its SIP on sipBase + n, its media
 * on mediaBase + 10n (sipp takes several).
 */
export function numberedCallers(ports: {
  serverPort: number;
  sinkBase: number;
  sipBase: number;
  mediaBase: number;
  timeoutSeconds: number;
}): (dialed: string, steps: CallerStep[]) => Promise<SippCall> {
  let next = 0;
  return async (dialed, steps) => {
    const n = next++;
    const sink = await RtpSink.open(ports.sinkBase + 2 * n);
    const run = runCaller(
      { dialed, rtpPort: sink.port, steps },
      { serverPort: ports.serverPort, sipPort: ports.sipBase + n, mediaPort: ports.mediaBase + 10 * n, timeoutSeconds: ports.timeoutSeconds },
    );
    return { run, sink };
  };
}

/**
 * Outbound calls (SipServer.dial → OutboundCall) against Debian's sipp as
 * the far end (uas, with and without loss; busy; never answering) and a raw
 * UDP peer for digest challenges and timer D.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { DigestVerifier } from '../../../src/sip/digest.js';
import type { OutboundCall } from '../../../src/sip/OutboundCall.js';
import { SipServer } from '../../../src/sip/SipServer.js';
import type { OutboundEndReason, OutboundFailure, SipTrunk } from '../../../src/sip/SipTypes.js';
import { buildAudioOffer } from '../../../src/sip/sdp/index.js';
import { RawSipClient, nextEvent, offerSdp, parseSip, type SipMsg } from './helpers.js';

const SIPP = '/usr/bin/sipp';
const SERVER_PORT = 15120;
const SIPP_PORT = 15121;

/** A sipp `<send>` of a response to the last request, To tagged by sipp. */
function sippResponse(statusLine: string, { cseq = '[last_CSeq:]', extra = [] as string[] } = {}): string {
  return `  <send><![CDATA[
${statusLine}
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
${[cseq, ...extra].join('\n')}
Content-Length: 0

]]></send>
`;
}

const BUSY = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="busy">
  <recv request="INVITE"/>
${sippResponse('SIP/2.0 486 Busy Here')}\
  <recv request="ACK"/>
</scenario>
`;

const NO_ANSWER = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="rings forever">
  <recv request="INVITE"/>
${sippResponse('SIP/2.0 180 Ringing', { extra: ['Contact: <sip:[local_ip]:[local_port];transport=[transport]>'] })}\
  <recv request="CANCEL"/>
${sippResponse('SIP/2.0 200 OK')}\
${sippResponse('SIP/2.0 487 Request Terminated', { cseq: 'CSeq: [cseq] INVITE' })}\
  <recv request="ACK"/>
</scenario>
`;

interface SippResult {
  code: number | null;
  output: string;
}

describe('outbound calls against sipp', () => {
  let server: SipServer;
  let dir: string;
  let child: ChildProcess | undefined;
  const trunk: SipTrunk = {
    name: 'sipp',
    inbound: { addresses: ['127.0.0.1'] },
    outbound: {
      proxy: { host: '127.0.0.1', port: SIPP_PORT, transport: 'udp' },
      callerId: '+15550100',
      pAssertedIdentity: '+15550100',
    },
  };
  const tcpTrunk: SipTrunk = { ...trunk, name: 'sipp-tcp', inbound: { addresses: [] }, outbound: { ...trunk.outbound!, proxy: { host: '127.0.0.1', port: SIPP_PORT, transport: 'tcp' } } };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sipp-out-'));
    writeFileSync(path.join(dir, 'busy.xml'), BUSY);
    writeFileSync(path.join(dir, 'noanswer.xml'), NO_ANSWER);
    server = await SipServer.listen({ bindAddress: '127.0.0.1', port: SERVER_PORT, logger: silentLogger(), trunks: [trunk, tcpTrunk] });
  });

  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = undefined;
  });

  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function runSipp(args: string[]): { done: Promise<SippResult>; ready: Promise<void> } {
    let output = '';
    const p = spawn(SIPP, ['-nostdin', '-i', '127.0.0.1', '-p', String(SIPP_PORT), '-m', '1', '-timeout', '30s', '-timeout_error', '-trace_err', ...args], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = p;
    p.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    p.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const done = new Promise<SippResult>((resolve, reject) => {
      p.on('error', reject);
      p.on('close', (code) => resolve({ code, output }));
    });
    // sipp has no readiness signal; our INVITE is retransmitted anyway (timer A).
    const ready = new Promise<void>((resolve) => setTimeout(resolve, 300));
    return { done, ready };
  }

  function errorLogs(): string {
    return readdirSync(dir)
      .filter((f) => f.endsWith('_errors.log'))
      .map((f) => readFileSync(path.join(dir, f), 'utf8'))
      .join('\n');
  }

  async function expectSippSucceeded(sipp: { done: Promise<SippResult> }): Promise<void> {
    const res = await sipp.done;
    expect(res.code, `${res.output}\n${errorLogs()}`).toBe(0);
  }

  function offer(): string {
    return buildAudioOffer({ localAddress: '127.0.0.1', localPort: 30002, sessionId: Date.now(), codecs: ['PCMU', 'PCMA'] });
  }

  async function answeredThenHangup(call: OutboundCall): Promise<void> {
    const [answer] = await nextEvent<[{ remoteSdp: string }]>(call, 'answered', 25_000);
    expect(answer.remoteSdp).toMatch(/m=audio \d+ RTP\/AVP/);
    expect(call.state).toBe('answered');
    const ended = nextEvent<[OutboundEndReason]>(call, 'ended');
    call.hangup();
    expect((await ended)[0]).toEqual({ by: 'local', cause: 'hangup' });
  }

  it('udp: sipp -sn uas answers; we ACK, then hang up with BYE (sipp exits 0)', async () => {
    const sipp = runSipp(['-sn', 'uas', '-mp', '15200']);
    await sipp.ready;
    const call = server.dial({ number: '15551234', trunk: 'sipp', offerSdp: offer(), ringTimeoutMs: 20_000 });
    expect(call.info.number).toBe('+15551234');
    const progress = nextEvent<[{ status: number }]>(call, 'progress', 25_000);
    await answeredThenHangup(call);
    expect((await progress)[0].status).toBe(180);
    await expectSippSucceeded(sipp);
  }, 40_000);

  it('udp with -lost 10: retransmissions carry the call through (several calls)', async () => {
    // -m 100: sipp must not stop before our five calls, whatever it counts as failed on its side.
    // -abortunexp off: when -lost drops sipp's own 200, our INVITE retransmission (timer A, 500 ms)
    // can reach sipp before its 200 retransmission; its stock uas scenario would call that INVITE
    // "unexpected", abort the call and ignore every later retransmission (seen as a 408 here).
    const sipp = runSipp(['-sn', 'uas', '-mp', '15202', '-lost', '10', '-m', '100', '-default_behaviors', 'all,-abortunexp']);
    await sipp.ready;
    for (let i = 0; i < 5; i++) {
      const call = server.dial({ number: `+1555123400${i}`, trunk: 'sipp', offerSdp: offer(), ringTimeoutMs: 25_000 });
      const outcome = await Promise.race([
        nextEvent<[{ remoteSdp: string }]>(call, 'answered', 40_000).then(() => 'answered'),
        nextEvent<[OutboundFailure]>(call, 'failed', 40_000).then(([f]) => `failed ${f.status} ${f.cause}`),
      ]);
      expect(outcome).toBe('answered');
      const ended = nextEvent<[OutboundEndReason]>(call, 'ended');
      call.hangup();
      await ended;
    }
    // Every call of ours was answered and ended; sipp's own bookkeeping of lost messages is not the point.
    child?.kill('SIGTERM');
    await sipp.done;
  }, 240_000);

  it('tcp: sipp -sn uas -t t1 answers and the BYE goes over TCP', async () => {
    const sipp = runSipp(['-sn', 'uas', '-mp', '15204', '-t', 't1']);
    await sipp.ready;
    const call = server.dial({ number: '15551234', trunk: 'sipp-tcp', offerSdp: offer() });
    expect(call.info.transport).toBe('tcp');
    await answeredThenHangup(call);
    await expectSippSucceeded(sipp);
  }, 40_000);

  it('486 from sipp: failed with cause busy, then ended', async () => {
    const sipp = runSipp(['-sf', 'busy.xml', '-mp', '15206']);
    await sipp.ready;
    const call = server.dial({ number: '15551234', trunk: 'sipp', offerSdp: offer() });
    const ended = nextEvent<[OutboundEndReason]>(call, 'ended', 25_000);
    const [failure] = await nextEvent<[OutboundFailure]>(call, 'failed', 25_000);
    expect(failure).toEqual({ status: 486, reason: 'Busy Here', cause: 'busy' });
    expect((await ended)[0]).toEqual({ by: 'failed', cause: 'busy' });
    await expectSippSucceeded(sipp);
  }, 40_000);

  it('never answered: the ring timeout sends CANCEL, the 487 ends it with cause timeout', async () => {
    const sipp = runSipp(['-sf', 'noanswer.xml', '-mp', '15208']);
    await sipp.ready;
    const call = server.dial({ number: '15551234', trunk: 'sipp', offerSdp: offer(), ringTimeoutMs: 1500 });
    await nextEvent(call, 'progress', 25_000);
    const [failure] = await nextEvent<[OutboundFailure]>(call, 'failed', 25_000);
    expect(failure).toEqual({ status: 487, reason: 'Request Terminated', cause: 'timeout' });
    await expectSippSucceeded(sipp);
  }, 40_000);

  it('cancel() while ringing: CANCEL, 487, cause cancelled', async () => {
    const sipp = runSipp(['-sf', 'noanswer.xml', '-mp', '15210']);
    await sipp.ready;
    const call = server.dial({ number: '15551234', trunk: 'sipp', offerSdp: offer() });
    await nextEvent(call, 'progress', 25_000);
    call.cancel();
    const [failure] = await nextEvent<[OutboundFailure]>(call, 'failed', 25_000);
    expect(failure.cause).toBe('cancelled');
    await expectSippSucceeded(sipp);
  }, 40_000);

  it('refuses unknown trunks, inbound-only trunks and non-numbers', () => {
    expect(() => server.dial({ number: '1555', trunk: 'nope', offerSdp: offer() })).toThrow(RangeError);
    expect(() => server.dial({ number: 'alice', trunk: 'sipp', offerSdp: offer() })).toThrow(/not a phone number/);
  });
});

describe('outbound calls against a raw UDP peer', () => {
  const SERVER = 15130;
  let server: SipServer | undefined;
  let peer: RawSipClient | undefined;

  afterEach(async () => {
    await peer?.close();
    await server?.close();
    server = undefined;
    peer = undefined;
  });

  async function setup(auth?: { username: string; password: string }): Promise<{ s: SipServer; p: RawSipClient }> {
    const p = await RawSipClient.udp(SERVER);
    peer = p;
    const s = await SipServer.listen({
      bindAddress: '127.0.0.1', port: SERVER, logger: silentLogger(),
      trunks: [{
        name: 'raw', inbound: { addresses: [] },
        outbound: { proxy: { host: '127.0.0.1', port: p.localPort, transport: 'udp' }, callerId: '+15550100', pAssertedIdentity: 'sip:+15550100@bridge.test', numberFormat: 'e164', ...(auth ? { auth } : {}) },
      }],
    });
    server = s;
    return { s, p };
  }

  function reply(req: SipMsg, status: number, reason: string, extra: string[] = [], body = ''): string {
    const lines = [`SIP/2.0 ${status} ${reason}`];
    for (const v of req.headers.get('via') ?? []) lines.push(`Via: ${v}`);
    const to = req.header('to')!;
    lines.push(`From: ${req.header('from')}`, `To: ${/;tag=/.test(to) ? to : `${to};tag=peer1`}`, `Call-ID: ${req.header('call-id')}`, `CSeq: ${req.header('cseq')}`, ...extra);
    if (body) lines.push('Content-Type: application/sdp');
    lines.push(`Content-Length: ${Buffer.byteLength(body)}`, '', body);
    return lines.join('\r\n');
  }

  it('answers a 401 challenge once with the trunk credentials; From and P-Asserted-Identity come from the trunk', async () => {
    const creds = { username: 'acct', password: 'pw' };
    const { s, p } = await setup(creds);
    const verifier = new DigestVerifier();
    const call = s.dial({ number: '+15551234', trunk: 'raw', offerSdp: offerSdp(30004) });
    const first = await p.waitFor((m) => m.method === 'INVITE', 'INVITE');
    expect(first.startLine).toBe(`INVITE sip:15551234@127.0.0.1:${p.localPort} SIP/2.0`);
    expect(first.header('from')).toMatch(/<sip:\+15550100@127\.0\.0\.1>;tag=/);
    expect(first.header('p-asserted-identity')).toBe('<sip:+15550100@bridge.test>');
    p.send(reply(first, 401, 'Unauthorized', [verifier.challengeHeader('carrier.test')]));
    await p.waitFor((m) => m.method === 'ACK', 'ACK of 401');
    const second = await p.waitFor((m) => m.method === 'INVITE', 'INVITE with credentials');
    expect(second.header('cseq')).toBe('2 INVITE');
    expect(verifier.verify(second.headers.get('authorization') ?? [], 'INVITE', { realm: 'carrier.test', ...creds }, second.startLine.split(' ')[1]!)).toEqual({ ok: true });
    const answered = nextEvent<[{ remoteSdp: string }]>(call, 'answered');
    p.send(reply(second, 200, 'OK', [`Contact: <sip:peer@127.0.0.1:${p.localPort}>`], offerSdp(40010)));
    expect((await answered)[0].remoteSdp).toContain('m=audio 40010');
    await p.waitFor((m) => m.method === 'ACK' && (m.header('cseq') ?? '') === '2 ACK', 'ACK of 200');
    call.hangup();
    const bye = await p.waitFor((m) => m.method === 'BYE', 'BYE');
    p.send(reply(bye, 200, 'OK'));
  });

  it('a second challenge is not answered again: failed, rejected 401', async () => {
    const { s, p } = await setup({ username: 'acct', password: 'wrong' });
    const verifier = new DigestVerifier();
    const call = s.dial({ number: '15551234', trunk: 'raw', offerSdp: offerSdp(30004) });
    const first = await p.waitFor((m) => m.method === 'INVITE', 'INVITE');
    p.send(reply(first, 401, 'Unauthorized', [verifier.challengeHeader('carrier.test')]));
    const second = await p.waitFor((m) => m.method === 'INVITE', 'second INVITE');
    const failed = nextEvent<[OutboundFailure]>(call, 'failed');
    p.send(reply(second, 401, 'Unauthorized', [verifier.challengeHeader('carrier.test')]));
    expect((await failed)[0]).toMatchObject({ status: 401, cause: 'rejected' });
  });

  it('INVITE retransmitted until a response (timer A); early media 183; a retransmitted 486 is ACKed again (timer D)', async () => {
    const { s, p } = await setup();
    const call = s.dial({ number: '15551234', trunk: 'raw', offerSdp: offerSdp(30004) });
    const inv = await p.waitFor((m) => m.method === 'INVITE', 'INVITE');
    await p.waitFor((m) => m.method === 'INVITE' && m.header('via') === inv.header('via'), 'INVITE retransmission');
    const progress = nextEvent<[{ status: number; earlySdp?: string }]>(call, 'progress');
    p.send(reply(inv, 183, 'Session Progress', [`Contact: <sip:peer@127.0.0.1:${p.localPort}>`], offerSdp(40012)));
    const [pr] = await progress;
    expect(pr.status).toBe(183);
    expect(pr.earlySdp).toContain('m=audio 40012');
    const failed = nextEvent<[OutboundFailure]>(call, 'failed');
    const busy = reply(inv, 486, 'Busy Here');
    p.send(busy);
    expect((await failed)[0].cause).toBe('busy');
    await p.waitFor((m) => m.method === 'ACK', 'ACK');
    p.send(busy);
    const again = await p.waitFor((m) => m.method === 'ACK', 'ACK for the retransmitted 486');
    expect(parseSip(again.raw).header('cseq')).toBe('1 ACK');
  });

  it('a BYE from the far end ends an answered call; INFO DTMF is reported', async () => {
    const { s, p } = await setup();
    const call = s.dial({ number: '15551234', trunk: 'raw', offerSdp: offerSdp(30004) });
    const inv = await p.waitFor((m) => m.method === 'INVITE', 'INVITE');
    const answered = nextEvent(call, 'answered');
    p.send(reply(inv, 200, 'OK', [`Contact: <sip:peer@127.0.0.1:${p.localPort}>`], offerSdp(40014)));
    await answered;
    await p.waitFor((m) => m.method === 'ACK', 'ACK');
    const from = inv.header('from')!;
    const to = `${inv.header('to')};tag=peer1`;
    const inDialog = (method: string, cseq: number, extra: string[], body = '') =>
      [
        `${method} sip:bridge@127.0.0.1:${SERVER} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${p.localPort};branch=z9hG4bK${Math.random().toString(36).slice(2)};rport`,
        `From: ${to}`, `To: ${from}`, `Call-ID: ${inv.header('call-id')}`, `CSeq: ${cseq} ${method}`, 'Max-Forwards: 70', ...extra,
        `Content-Length: ${Buffer.byteLength(body)}`, '', body,
      ].join('\r\n');
    const dtmf = nextEvent<[{ digit: string }]>(call, 'infoDtmf');
    p.send(inDialog('INFO', 1, ['Content-Type: application/dtmf-relay'], 'Signal=5\r\nDuration=100\r\n'));
    expect((await dtmf)[0].digit).toBe('5');
    const ended = nextEvent<[OutboundEndReason]>(call, 'ended');
    p.send(inDialog('BYE', 2, []));
    expect((await ended)[0]).toEqual({ by: 'remote', cause: 'bye' });
    await p.waitFor((m) => m.status === 200 && (m.header('cseq') ?? '').endsWith('BYE'), '200 to BYE');
  });
});

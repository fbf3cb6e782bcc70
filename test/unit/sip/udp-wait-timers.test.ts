/**
 * The UDP wait timers SIP.js sets to 0, emulated by UdpTransport:
 * D (ACK resent for a retransmitted non-2xx), I (retransmitted ACK absorbed),
 * K (retransmitted final response to a non-INVITE absorbed).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { createCoreLoggerFactory } from '../../../src/sip/coreLogger.js';
import { UdpTransport } from '../../../src/sip/transport/UdpTransport.js';
import { RawSipClient, branch, buildRequest, parseSip, rand } from './helpers.js';

const PORT = 15110;
let transport: UdpTransport | undefined;
let client: RawSipClient | undefined;

afterEach(async () => {
  await client?.close();
  await transport?.close();
  transport = undefined;
  client = undefined;
});

async function setup(): Promise<{ t: UdpTransport; c: RawSipClient; requests: string[]; responses: string[] }> {
  const log = silentLogger();
  const t = new UdpTransport({ bindAddress: '127.0.0.1', port: PORT, maxMessageBytes: 65535, logger: log, coreLoggerFactory: createCoreLoggerFactory(log) });
  await t.listen();
  transport = t;
  const requests: string[] = [];
  const responses: string[] = [];
  t.delegate = {
    onRequest: (m) => requests.push(m.method),
    onResponse: (m) => responses.push(`${m.statusCode} ${m.cseq}`),
  };
  const c = await RawSipClient.udp(PORT);
  client = c;
  return { t, c, requests, responses };
}

function until(pred: () => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      if (pred()) resolve();
      else if (Date.now() - started > 5000) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

function responseTo(req: string, status: number, reason: string, toTag = 'tt'): string {
  const m = parseSip(req);
  return [
    `SIP/2.0 ${status} ${reason}`,
    ...(m.headers.get('via') ?? []).map((v) => `Via: ${v}`),
    `From: ${m.header('from')}`,
    `To: ${m.header('to')};tag=${toTag}`,
    `Call-ID: ${m.header('call-id')}`,
    `CSeq: ${m.header('cseq')}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('UdpTransport wait timers', () => {
  it('timer I: after the ACK of our 486, retransmitted ACKs are absorbed', async () => {
    const { t, c, requests } = await setup();
    const callId = `${rand()}@t`;
    const b = branch();
    const inviteText = buildRequest({ method: 'INVITE', ruri: `sip:1@127.0.0.1:${PORT}`, transport: 'UDP', localPort: c.localPort, callId, fromTag: 'f', cseq: 1, branch: b });
    c.send(inviteText);
    await until(() => requests.length === 1, 'INVITE');
    // The server side answers 486 (as SIP.js would, Via stamped with received/rport).
    await t.send(responseTo(inviteText, 486, 'Busy Here').replace(/;rport\r\n/, `;rport=${c.localPort};received=127.0.0.1\r\n`));
    await c.response(callId, 486, 'INVITE');
    const ack = buildRequest({ method: 'ACK', ruri: `sip:1@127.0.0.1:${PORT}`, transport: 'UDP', localPort: c.localPort, callId, fromTag: 'f', toTag: 'tt', cseq: 1, branch: b });
    c.send(ack);
    await until(() => requests.length === 2, 'first ACK');
    c.send(ack);
    c.send(ack);
    // A later request proves the datagrams before it were handled.
    c.send(buildRequest({ method: 'OPTIONS', ruri: `sip:127.0.0.1:${PORT}`, transport: 'UDP', localPort: c.localPort, callId: `${rand()}@t`, fromTag: 'o', cseq: 1 }));
    await until(() => requests.includes('OPTIONS'), 'OPTIONS');
    expect(requests).toEqual(['INVITE', 'ACK', 'OPTIONS']);
    expect(t.waitTimerState.ackedFinals).toBe(1);
  });

  it('timer K: a retransmitted 200 to our BYE is absorbed; timer D: a retransmitted 486 to our INVITE gets our ACK again', async () => {
    const { t, c, responses } = await setup();
    const callId = `${rand()}@t`;
    const bye = [
      `BYE sip:x@127.0.0.1:${c.localPort} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${PORT};branch=${branch()};rport`,
      `From: <sip:bridge@127.0.0.1>;tag=a`, `To: <sip:x@127.0.0.1>;tag=b`, `Call-ID: ${callId}`, 'CSeq: 2 BYE', 'Max-Forwards: 70', 'Content-Length: 0', '', '',
    ].join('\r\n');
    await t.send(bye);
    const got = await c.request('BYE', callId);
    const ok = responseTo(got.raw, 200, 'OK', 'b').replace(/To: (.*);tag=b;tag=b/, 'To: $1;tag=b');
    c.send(ok);
    await until(() => responses.length === 1, '200 to BYE');
    c.send(ok);
    c.send(ok);

    const inviteId = `${rand()}@t`;
    const ib = branch();
    const inv = [
      `INVITE sip:x@127.0.0.1:${c.localPort} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${PORT};branch=${ib};rport`,
      `From: <sip:bridge@127.0.0.1>;tag=a`, `To: <sip:x@127.0.0.1>`, `Call-ID: ${inviteId}`, 'CSeq: 1 INVITE', 'Max-Forwards: 70', 'Content-Length: 0', '', '',
    ].join('\r\n');
    await t.send(inv);
    const gotInv = await c.request('INVITE', inviteId);
    const busy = responseTo(gotInv.raw, 486, 'Busy Here');
    c.send(busy);
    await until(() => responses.length === 2, '486');
    // SIP.js's transaction would now send the ACK (same branch).
    await t.send(inv.replace(/^INVITE/, 'ACK').replace('CSeq: 1 INVITE', 'CSeq: 1 ACK').replace('To: <sip:x@127.0.0.1>', 'To: <sip:x@127.0.0.1>;tag=tt'));
    await c.request('ACK', inviteId);
    c.send(busy);
    await c.request('ACK', inviteId); // resent by the transport for the retransmitted 486
    expect(responses).toEqual(['200 2', '486 1']);
    expect(t.waitTimerState.completedClient).toBe(1);
  });
});

/**
 * Trunk admission (403 / digest 401), request limits (420, 483, header
 * count, INVITE rate, concurrent dialogs), the UDP wait timers D/I/K and
 * shutdown BYEs, over real sockets.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { digestAuthorization } from '../../../src/sip/digest.js';
import type { InboundCall } from '../../../src/sip/InboundCall.js';
import { SipServer } from '../../../src/sip/SipServer.js';
import type { SipServerOptions } from '../../../src/sip/SipTypes.js';
import { negotiateAudio } from '../../../src/sip/sdp/index.js';
import { RawSipClient, branch, buildRequest, buildResponse, nextEvent, offerSdp, placeCall, rand, type DialogHandle } from './helpers.js';

const PORT = 15100;

let server: SipServer | undefined;
const clients: RawSipClient[] = [];

async function start(extra: Partial<SipServerOptions>, behaviour: 'accept' | 'ring' = 'accept'): Promise<SipServer> {
  server = await SipServer.listen({ bindAddress: '127.0.0.1', port: PORT, logger: silentLogger(), ...extra });
  server.on('call', (call) => {
    if (behaviour === 'ring') return;
    const res = negotiateAudio(call.info.offerSdp, {
      localAddress: '127.0.0.1', localPort: 30000, sessionId: '1', supportedCodecs: ['PCMU', 'PCMA'],
    });
    if (res.ok) call.accept(res.answerSdp);
    else call.reject(res.status, res.reason);
  });
  return server;
}

async function udp(): Promise<RawSipClient> {
  const c = await RawSipClient.udp(PORT);
  clients.push(c);
  return c;
}

function invite(c: RawSipClient, callId: string, headers: string[] = [], b = branch(), cseq = 1, fromTag = 'ft1'): string {
  return buildRequest({
    method: 'INVITE', ruri: `sip:15550100@127.0.0.1:${PORT}`, transport: 'UDP', localPort: c.localPort,
    callId, fromTag, cseq, branch: b, headers, body: offerSdp(),
  });
}

/** A server that answers, a UDP client, and one call it placed (answered, not yet ACKed). */
async function answeredCall(): Promise<{ s: SipServer; c: RawSipClient; d: DialogHandle; call: InboundCall }> {
  const s = await start({});
  const c = await udp();
  const callP = nextEvent<[InboundCall]>(s, 'call');
  const d = await placeCall(c, PORT);
  const [call] = await callP;
  return { s, c, d, call };
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await server?.close();
  server = undefined;
});

describe('trunk admission', () => {
  it('answers 403 to INVITEs from sources no trunk lists, but OPTIONS 200 to anyone', async () => {
    const s = await start({ trunks: [{ name: 'carrier', inbound: { addresses: ['192.0.2.0/24'] } }] });
    let calls = 0;
    s.on('call', () => calls++);
    const c = await udp();
    const callId = `${rand()}@t`;
    c.send(invite(c, callId));
    const res = await c.response(callId, 403, 'INVITE');
    expect(res.header('to')).toMatch(/;tag=/);
    const optId = `${rand()}@t`;
    c.send(buildRequest({ method: 'OPTIONS', ruri: `sip:127.0.0.1:${PORT}`, transport: 'UDP', localPort: c.localPort, callId: optId, fromTag: 'x', cseq: 1 }));
    await c.response(optId, 200, 'OPTIONS');
    expect(calls).toBe(0);
    expect(s.activeCalls()).toHaveLength(0);
  });

  it('admits a listed source and names the trunk in the call info (E.164 form too)', async () => {
    const s = await start({ trunks: [{ name: 'other', inbound: { addresses: ['10.0.0.0/8'] } }, { name: 'local', inbound: { addresses: ['127.0.0.0/8'] } }] });
    const c = await udp();
    const callP = nextEvent<[InboundCall]>(s, 'call');
    await placeCall(c, PORT, '15550100');
    const [call] = await callP;
    expect(call.info.trunk).toBe('local');
    expect(call.info.dialedE164).toBe('+15550100');
  });

  it('digest: 401 challenge, wrong password 401 again, right answer admitted', async () => {
    const auth = { realm: 'bridge.test', username: 'carrier', password: 'pw' };
    const s = await start({ trunks: [{ name: 'auth', inbound: { addresses: ['127.0.0.1'], auth } }] });
    const c = await udp();
    const callId = `${rand()}@t`;
    c.send(invite(c, callId));
    const challenge = await c.response(callId, 401, 'INVITE');
    const www = challenge.header('www-authenticate') ?? '';
    expect(www).toMatch(/^Digest realm="bridge\.test", nonce="[^"]+", algorithm=MD5, qop="auth"$/);
    const nonce = /nonce="([^"]+)"/.exec(www)![1]!;
    const uri = `sip:15550100@127.0.0.1:${PORT}`;
    const bad = digestAuthorization({ ...auth, password: 'nope', nonce, method: 'INVITE', uri, qop: 'auth' });
    c.send(invite(c, callId, [`Authorization: ${bad}`], branch(), 2));
    await c.response(callId, 401, 'INVITE');
    const callP = nextEvent<[InboundCall]>(s, 'call');
    const good = digestAuthorization({ ...auth, nonce, method: 'INVITE', uri, qop: 'auth' });
    c.send(invite(c, callId, [`Authorization: ${good}`], branch(), 3));
    await c.response(callId, 200, 'INVITE');
    const [call] = await callP;
    expect(call.info.trunk).toBe('auth');
  });
});

describe('digest replay, uri and qop checks over the wire', () => {
  const auth = { realm: 'bridge.test', username: 'carrier', password: 'pw' };
  const uri = `sip:15550100@127.0.0.1:${PORT}`;

  async function challenged(c: RawSipClient): Promise<string> {
    const callId = `${rand()}@t`;
    c.send(invite(c, callId));
    const challenge = await c.response(callId, 401, 'INVITE');
    return /nonce="([^"]+)"/.exec(challenge.header('www-authenticate') ?? '')![1]!;
  }

  it('a captured Authorization header replayed on a new INVITE gets a fresh 401; the next nc is admitted', async () => {
    const s = await start({ trunks: [{ name: 'auth', inbound: { addresses: ['127.0.0.1'], auth } }] }, 'ring');
    const c = await udp();
    const nonce = await challenged(c);
    const first = digestAuthorization({ ...auth, nonce, method: 'INVITE', uri, qop: 'auth', nc: '00000001', cnonce: 'abc' });
    const a = `${rand()}@t`;
    const callP = nextEvent<[InboundCall]>(s, 'call');
    c.send(invite(c, a, [`Authorization: ${first}`]));
    await c.response(a, 100, 'INVITE');
    await callP;
    // The same header on a new INVITE (new Call-ID, new branch): a replay.
    const b = `${rand()}@t`;
    c.send(invite(c, b, [`Authorization: ${first}`]));
    const again = await c.response(b, 401, 'INVITE');
    const fresh = /nonce="([^"]+)"/.exec(again.header('www-authenticate') ?? '')![1]!;
    expect(fresh).not.toBe(nonce);
    // The legitimate client's next request on the same nonce counts up: admitted.
    const next = digestAuthorization({ ...auth, nonce, method: 'INVITE', uri, qop: 'auth', nc: '00000002', cnonce: 'def' });
    const d = `${rand()}@t`;
    c.send(invite(c, d, [`Authorization: ${next}`]));
    await c.response(d, 100, 'INVITE');
    expect(s.activeCalls()).toHaveLength(2);
  });

  it('a uri other than the Request-URI, or an answer without qop, gets 401', async () => {
    const s = await start({ trunks: [{ name: 'auth', inbound: { addresses: ['127.0.0.1'], auth } }] }, 'ring');
    const c = await udp();
    const nonce = await challenged(c);
    const wrongUri = digestAuthorization({ ...auth, nonce, method: 'INVITE', uri: `sip:15550199@127.0.0.1:${PORT}`, qop: 'auth' });
    const a = `${rand()}@t`;
    c.send(invite(c, a, [`Authorization: ${wrongUri}`]));
    await c.response(a, 401, 'INVITE');
    const noQop = digestAuthorization({ ...auth, nonce, method: 'INVITE', uri });
    const b = `${rand()}@t`;
    c.send(invite(c, b, [`Authorization: ${noQop}`]));
    await c.response(b, 401, 'INVITE');
    expect(s.activeCalls()).toHaveLength(0);
  });
});

describe('admission is not skipped for a reused Via branch', () => {
  it('an INVITE reusing an admitted branch with another Call-ID from the same source gets 503 beyond maxDialogs', async () => {
    const s = await start({ maxDialogs: 1 }, 'ring');
    const c = await udp();
    const b = branch();
    const a = `${rand()}@t`;
    c.send(invite(c, a, [], b));
    await c.response(a, 100, 'INVITE');
    c.send(invite(c, a, [], b)); // a true retransmission still passes straight through
    await c.response(a, 100, 'INVITE');
    const other = `${rand()}@t`;
    c.send(invite(c, other, [], b));
    const res = await c.response(other, 503, 'INVITE');
    expect(res.reason).toBe('Too Many Calls');
    expect(s.activeCalls()).toHaveLength(1);
  });

  it('on an auth trunk, an INVITE reusing an admitted branch without credentials gets 401', async () => {
    const auth = { realm: 'bridge.test', username: 'carrier', password: 'pw' };
    const s = await start({ trunks: [{ name: 'auth', inbound: { addresses: ['127.0.0.1'], auth } }] }, 'ring');
    const c = await udp();
    const first = `${rand()}@t`;
    c.send(invite(c, first));
    const challenge = await c.response(first, 401, 'INVITE');
    const nonce = /nonce="([^"]+)"/.exec(challenge.header('www-authenticate') ?? '')![1]!;
    const good = digestAuthorization({ ...auth, nonce, method: 'INVITE', uri: `sip:15550100@127.0.0.1:${PORT}`, qop: 'auth' });
    const b = branch();
    c.send(invite(c, first, [`Authorization: ${good}`], b, 2));
    await c.response(first, 100, 'INVITE');
    const other = `${rand()}@t`;
    c.send(invite(c, other, [], b));
    await c.response(other, 401, 'INVITE');
    // Same Call-ID and branch but another CSeq is not a retransmission either.
    c.send(invite(c, first, [], b, 3));
    await c.response(first, 401, 'INVITE');
    expect(s.activeCalls()).toHaveLength(1);
  });
});

describe('request limits', () => {
  it('420 with Unsupported for required extensions we lack; 483 for Max-Forwards 0; 400 for too many headers', async () => {
    await start({ maxHeaderCount: 40 });
    const c = await udp();
    const a = `${rand()}@t`;
    c.send(invite(c, a, ['Require: 100rel, timer, foo, bar']));
    const r420 = await c.response(a, 420, 'INVITE');
    expect(r420.header('unsupported')).toBe('foo, bar');
    const b = `${rand()}@t`;
    c.send(invite(c, b).replace('Max-Forwards: 70', 'Max-Forwards: 0'));
    await c.response(b, 483, 'INVITE');
    const d = `${rand()}@t`;
    c.send(invite(c, d, Array.from({ length: 50 }, (_, i) => `X-Pad-${i}: ${i}`)));
    const r400 = await c.response(d, 400, 'INVITE');
    expect(r400.reason).toBe('Too Many Headers');
    expect(server!.activeCalls()).toHaveLength(0);
    // Still serving afterwards.
    await placeCall(c, PORT);
  });

  it('per-source INVITE rate: over the burst gets 503 with Retry-After; retransmissions are not counted', async () => {
    await start({ inviteRateLimit: { perSecond: 0.01, burst: 2 } }, 'ring');
    const c = await udp();
    const ids = [`${rand()}@t`, `${rand()}@t`, `${rand()}@t`];
    const b0 = branch();
    c.send(invite(c, ids[0]!, [], b0));
    await c.response(ids[0]!, 100, 'INVITE');
    c.send(invite(c, ids[0]!, [], b0)); // retransmission: same branch
    await c.response(ids[0]!, 100, 'INVITE');
    c.send(invite(c, ids[1]!));
    await c.response(ids[1]!, 100, 'INVITE');
    c.send(invite(c, ids[2]!));
    const res = await c.response(ids[2]!, 503, 'INVITE');
    expect(Number(res.header('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(server!.activeCalls()).toHaveLength(2);
  });

  it('maximum concurrent dialogs: the next INVITE gets 503', async () => {
    await start({ maxDialogs: 1 }, 'ring');
    const c = await udp();
    const a = `${rand()}@t`;
    c.send(invite(c, a));
    await c.response(a, 100, 'INVITE');
    const b = `${rand()}@t`;
    c.send(invite(c, b));
    const res = await c.response(b, 503, 'INVITE');
    expect(res.header('retry-after')).toBeDefined();
  });
});

describe('retransmissions end to end (timers themselves: udp-wait-timers.test.ts)', () => {
  it('retransmitted ACKs for our 486 are harmless', async () => {
    const s = await start({}, 'ring');
    s.on('call', (call) => call.reject(486, 'Busy Here'));
    const c = await udp();
    const callId = `${rand()}@t`;
    const b = branch();
    c.send(invite(c, callId, [], b));
    const busy = await c.response(callId, 486, 'INVITE');
    const ack = buildRequest({
      method: 'ACK', ruri: `sip:15550100@127.0.0.1:${PORT}`, transport: 'UDP', localPort: c.localPort,
      callId, fromTag: 'ft1', toTag: /tag=([^;>\s]+)/.exec(busy.header('to')!)![1], cseq: 1, branch: b,
    });
    c.send(ack);
    c.send(ack);
    // Nothing breaks and the server keeps answering.
    await placeCall(c, PORT, '1', { expectStatus: 486 });
  });

  it('retransmitted 200s to our BYE are harmless', async () => {
    const { c, d, call } = await answeredCall();
    c.send(buildRequest({
      method: 'ACK', ruri: d.remoteTarget, toUri: d.ruri, transport: 'UDP', localPort: c.localPort,
      callId: d.callId, fromTag: d.fromTag, toTag: d.toTag, cseq: 1,
    }));
    await nextEvent(call, 'confirmed');
    call.hangup();
    const bye = await c.request('BYE', d.callId);
    const ok = buildResponse(bye, 200, 'OK');
    c.send(ok);
    c.send(ok);
    c.send(ok);
    // The retransmissions of the 200 do not re-trigger anything; another call still works.
    await placeCall(c, PORT);
  });
});

describe('shutdown', () => {
  it('close() sends BYE to a call still waiting for its ACK and waits for the answer', async () => {
    const { s, c, d, call } = await answeredCall();
    expect(call.state).toBe('answered');
    const closed = s.close();
    const bye = await c.request('BYE', d.callId);
    expect(bye.header('reason')).toMatch(/Q\.850;cause=41/);
    c.send(buildResponse(bye, 200, 'OK'));
    await closed;
    server = undefined;
    expect(call.state).toBe('ended');
  });

  it('close() sends the BYE owed by a call hung up before its ACK', async () => {
    const { s, c, d, call } = await answeredCall();
    call.hangup();
    expect(call.byePending).toBe(true);
    const closed = s.close();
    const bye = await c.request('BYE', d.callId);
    c.send(buildResponse(bye, 200, 'OK'));
    await closed;
    server = undefined;
  });
});

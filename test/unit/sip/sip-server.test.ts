import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { SipServer } from '../../../src/sip/SipServer.js';
import type { InboundCall } from '../../../src/sip/InboundCall.js';
import type { CallEndReason, InfoDtmf } from '../../../src/sip/SipTypes.js';
import { negotiateAudio } from '../../../src/sip/sdp/index.js';
import {
  RawSipClient,
  branch,
  buildRequest,
  buildResponse,
  inDialog,
  nextEvent,
  offerSdp,
  placeCall,
  rand,
} from './helpers.js';

const PORT = 15060;

type Behaviour = 'accept' | 'ring' | ((call: InboundCall) => void);

describe('SipServer over real sockets', () => {
  let server: SipServer;
  let behaviour: Behaviour = 'accept';
  const calls: InboundCall[] = [];
  const clients: RawSipClient[] = [];

  async function client(kind: 'udp' | 'tcp' = 'udp'): Promise<RawSipClient> {
    const c = kind === 'udp' ? await RawSipClient.udp(PORT) : await RawSipClient.tcp(PORT);
    clients.push(c);
    return c;
  }

  function nextCall(): Promise<InboundCall> {
    return nextEvent<[InboundCall]>(server, 'call').then(([c]) => c);
  }

  /** A call from a new client, answered and ACKed: confirmed. */
  async function confirmedCall(kind: 'udp' | 'tcp' = 'udp') {
    const c = await client(kind);
    const callP = nextCall();
    const d = await placeCall(c, PORT);
    const call = await callP;
    c.send(inDialog(c, d, 'ACK'));
    await nextEvent(call, 'confirmed');
    return { c, d, call };
  }

  beforeAll(async () => {
    server = await SipServer.listen({ bindAddress: '127.0.0.1', port: PORT, logger: silentLogger(), userAgent: 'bridge-test' });
    server.on('call', (call) => {
      calls.push(call);
      if (behaviour === 'accept') {
        const res = negotiateAudio(call.info.offerSdp, {
          localAddress: '127.0.0.1', localPort: 30000, sessionId: '4242', supportedCodecs: ['PCMU', 'PCMA'],
        });
        if (res.ok) call.accept(res.answerSdp);
        else call.reject(res.status, res.reason);
      } else if (typeof behaviour === 'function') {
        behaviour(call);
      }
    });
  });

  afterEach(async () => {
    behaviour = 'accept';
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  afterAll(async () => {
    await server.close();
  });

  it('reports its bound ports', () => {
    expect(server.address()).toMatchObject({ udpPort: PORT, tcpPort: PORT, advertisedAddress: '127.0.0.1' });
  });

  for (const kind of ['udp', 'tcp'] as const) {
    it(`${kind}: INVITE gets 100 then 200 with SDP; ACK confirms; BYE from the client ends the call`, async () => {
      const c = await client(kind);
      const callP = nextCall();
      const d = await placeCall(c, PORT, '+15550100');
      const trying = c.received.find((m) => m.status === 100 && m.header('call-id') === d.callId);
      expect(trying).toBeDefined();
      expect(c.received.indexOf(trying!)).toBeLessThan(c.received.indexOf(d.response));
      expect(d.response.header('content-type')).toBe('application/sdp');
      expect(d.response.body).toContain('m=audio 30000 RTP/AVP 0 101');
      expect(d.response.header('contact')).toMatch(/^<sip:bridge@127\.0\.0\.1:15060/);
      expect(d.response.header('allow')).toBe('INVITE,ACK,CANCEL,BYE,OPTIONS,INFO,UPDATE,PRACK');
      const call = await callP;
      expect(call.info).toMatchObject({
        callId: d.callId, dialed: '+15550100', transport: kind, sourceAddress: '127.0.0.1', sourcePort: c.localPort,
      });
      expect(call.info.from.user).toBe('alice');
      expect(call.info.from.displayName).toBe('Test');
      expect(call.info.offerSdp).toContain('m=audio 40000');
      expect(call.state).toBe('answered');

      const confirmed = nextEvent(call, 'confirmed');
      c.send(inDialog(c, d, 'ACK'));
      await confirmed;
      expect(call.state).toBe('confirmed');

      const ended = nextEvent<[CallEndReason]>(call, 'ended');
      c.send(inDialog(c, d, 'BYE'));
      await c.response(d.callId, 200, 'BYE');
      expect((await ended)[0]).toEqual({ by: 'remote', cause: 'bye' });
      expect(call.state).toBe('ended');
      expect(server.activeCalls()).not.toContain(call);
    });

    it(`${kind}: server hangup sends BYE with a Reason header`, async () => {
      const { c, d, call } = await confirmedCall(kind);
      const ended = nextEvent<[CallEndReason]>(call, 'ended');
      call.hangup('Meeting over');
      const bye = await c.request('BYE', d.callId);
      expect(bye.header('reason')).toMatch(/^Q\.850;cause=16/);
      expect(bye.startLine).toMatch(/^BYE sip:alice@127\.0\.0\.1:\d+/);
      c.send(buildResponse(bye, 200, 'OK'));
      expect((await ended)[0]).toEqual({ by: 'local', cause: 'hangup' });
    });

    it(`${kind}: INFO DTMF (dtmf-relay and application/dtmf) emits infoDtmf`, async () => {
      const { c, d, call } = await confirmedCall(kind);
      const digits: InfoDtmf[] = [];
      call.on('infoDtmf', (x) => digits.push(x));
      c.send(inDialog(c, d, 'INFO', { body: 'Signal=5\r\nDuration=160\r\n', contentType: 'application/dtmf-relay' }));
      await c.response(d.callId, 200, 'INFO');
      c.send(inDialog(c, d, 'INFO', { body: '#', contentType: 'application/dtmf' }));
      await c.response(d.callId, 200, 'INFO');
      c.send(inDialog(c, d, 'INFO', { body: '<xml/>', contentType: 'application/media_control+xml' }));
      await c.response(d.callId, 200, 'INFO');
      expect(digits).toEqual([
        { digit: '5', durationMs: 160 },
        { digit: '#', durationMs: 250 },
      ]);
      c.send(inDialog(c, d, 'BYE'));
      await c.response(d.callId, 200, 'BYE');
    });
  }

  it('answers OPTIONS to any Request-URI with 200, Allow and Accept', async () => {
    const c = await client();
    const callId = rand();
    c.send(buildRequest({ method: 'OPTIONS', ruri: `sip:nobody-${rand()}@127.0.0.1:${PORT}`, transport: 'UDP', localPort: c.localPort, callId, fromTag: rand(), cseq: 1 }));
    const res = await c.response(callId, 200, 'OPTIONS');
    expect(res.header('allow')).toContain('INVITE');
    expect(res.header('allow')).toContain('INFO');
    expect(res.header('accept')).toContain('application/sdp');
  });

  it('CANCEL before answer: 200 to CANCEL, 487 to INVITE, ended by remote cancel', async () => {
    behaviour = 'ring';
    const c = await client();
    const callP = nextCall();
    const callId = rand();
    const fromTag = rand();
    const b = branch();
    const ruri = `sip:15550100@127.0.0.1:${PORT}`;
    const base = { ruri, transport: 'UDP' as const, localPort: c.localPort, callId, fromTag, cseq: 1, branch: b };
    c.send(buildRequest({ ...base, method: 'INVITE', body: offerSdp() }));
    await c.response(callId, 100, 'INVITE');
    const call = await callP;
    expect(call.state).toBe('ringing');
    const ended = nextEvent<[CallEndReason]>(call, 'ended');
    c.send(buildRequest({ ...base, method: 'CANCEL', contact: false }));
    await c.response(callId, 200, 'CANCEL');
    const r487 = await c.response(callId, 487, 'INVITE');
    expect((await ended)[0]).toEqual({ by: 'remote', cause: 'cancel' });
    c.send(buildRequest({ ...base, method: 'ACK', toUri: ruri, toTag: /tag=([^;]+)/.exec(r487.header('to') ?? '')?.[1] ?? '' }));
  });

  it('reject(404) from the application reaches the caller', async () => {
    behaviour = (call) => call.reject(404, 'Unknown number');
    const c = await client();
    const d = await placeCall(c, PORT, '999', { expectStatus: 404 });
    expect(d.response.reason).toBe('Unknown number');
  });

  it('hangup before answer rejects; hangup while waiting for ACK sends BYE after the ACK', async () => {
    behaviour = (call) => call.hangup('busy');
    const c = await client();
    await placeCall(c, PORT, '15550100', { expectStatus: 480 });

    behaviour = 'accept';
    const callP = nextCall();
    const d = await placeCall(c, PORT);
    const call = await callP;
    const ended = nextEvent<[CallEndReason]>(call, 'ended');
    call.hangup();
    expect((await ended)[0]).toEqual({ by: 'local', cause: 'hangup' });
    c.send(inDialog(c, d, 'ACK'));
    const bye = await c.request('BYE', d.callId);
    c.send(buildResponse(bye, 200, 'OK'));
  });

  it('unknown methods get 501, known but unsupported ones 405', async () => {
    const c = await client();
    const id1 = rand();
    const id2 = rand();
    c.send(buildRequest({ method: 'FROBNICATE', ruri: `sip:x@127.0.0.1:${PORT}`, transport: 'UDP', localPort: c.localPort, callId: id1, fromTag: rand(), cseq: 1 }));
    c.send(buildRequest({ method: 'REGISTER', ruri: `sip:127.0.0.1:${PORT}`, transport: 'UDP', localPort: c.localPort, callId: id2, fromTag: rand(), cseq: 1 }));
    expect((await c.response(id1, 501)).header('allow')).toContain('INVITE');
    expect((await c.response(id2, 405)).header('allow')).toContain('INVITE');
  });

  it('re-INVITE: answered with our description (o= version bumped, hold mirrored) and remoteSdp emitted', async () => {
    const { c, d, call } = await confirmedCall();
    const remote = nextEvent<[string]>(call, 'remoteSdp');
    const hold = offerSdp(40000).replace('a=sendrecv', 'a=sendonly');
    c.send(inDialog(c, d, 'INVITE', { body: hold }));
    const ok = await c.response(d.callId, 200, 'INVITE');
    expect(ok.body).toMatch(/^o=- 4242 2 IN IP4 127\.0\.0\.1$/m);
    expect(ok.body).toContain('a=recvonly');
    expect(ok.body).toContain('m=audio 30000 RTP/AVP 0 101');
    expect(ok.header('contact')).toBeDefined();
    expect((await remote)[0]).toBe(hold);
    c.send(inDialog(c, d, 'ACK'));

    // Same offer again: nothing changes, so the version must stay.
    c.send(inDialog(c, d, 'INVITE', { body: hold }));
    const ok2 = await c.response(d.callId, 200, 'INVITE');
    expect(ok2.body).toMatch(/^o=- 4242 2 /m);
    c.send(inDialog(c, d, 'ACK'));
    c.send(inDialog(c, d, 'BYE'));
    await c.response(d.callId, 200, 'BYE');
  });

  it('udp: our BYE is retransmitted until answered (timer E)', async () => {
    const { c, d, call } = await confirmedCall();
    call.hangup();
    const first = await c.request('BYE', d.callId);
    // Do not answer the first one; the same transaction must come again.
    const again = await c.request('BYE', d.callId);
    expect(again.header('via')).toBe(first.header('via'));
    c.send(buildResponse(again, 200, 'OK'));
  });

  it('udp: a retransmitted BYE gets the same 200 again', async () => {
    const { c, d } = await confirmedCall();
    const bye = inDialog(c, d, 'BYE');
    c.send(bye);
    await c.response(d.callId, 200, 'BYE');
    c.send(bye);
    await c.response(d.callId, 200, 'BYE');
  });

  it('tcp: two messages in one segment and one message split over several segments', async () => {
    const c = await client('tcp');
    const id1 = rand();
    const id2 = rand();
    const opt = (callId: string) =>
      buildRequest({ method: 'OPTIONS', ruri: `sip:x@127.0.0.1:${PORT};transport=tcp`, transport: 'TCP', localPort: c.localPort, callId, fromTag: rand(), cseq: 1 });
    c.send(opt(id1) + opt(id2));
    await c.response(id1, 200, 'OPTIONS');
    await c.response(id2, 200, 'OPTIONS');

    const callP = nextCall();
    const callId = rand();
    const invite = Buffer.from(
      buildRequest({
        method: 'INVITE', ruri: `sip:15550100@127.0.0.1:${PORT};transport=tcp`, transport: 'TCP', localPort: c.localPort,
        callId, fromTag: rand(), cseq: 1, body: offerSdp(),
      }),
    );
    const cuts = [17, 200, invite.length - 30];
    let from = 0;
    for (const cut of cuts) {
      c.send(invite.subarray(from, cut));
      from = cut;
      await new Promise((r) => setTimeout(r, 20));
    }
    c.send(invite.subarray(from));
    await c.response(callId, 200, 'INVITE');
    const call = await callP;
    call.hangup();
  });
});

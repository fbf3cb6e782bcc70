/**
 * Dialog features over real sockets with a raw SIP client: our own hold and
 * resume (re-INVITE, glare, dialog gone), UPDATE (RFC 3311), session-timer
 * negotiation (RFC 4028), delayed offer and 180 Ringing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import type { InboundCall } from '../../../src/sip/InboundCall.js';
import { buildAudioOffer, negotiateAudio } from '../../../src/sip/sdp/index.js';
import { SipServer } from '../../../src/sip/SipServer.js';
import type { CallEndReason } from '../../../src/sip/SipTypes.js';
import {
  RawSipClient,
  buildRequest,
  inDialog,
  nextEvent,
  offerSdp,
  placeCall,
  rand,
  branch,
  type SipMsg,
} from './helpers.js';

const PORT = 15300;

/** A 200 (or other status) to a request the server sent us, with our Contact and an optional SDP body. */
function answer(req: SipMsg, status: number, reason: string, localPort: number, body = ''): string {
  const lines = [`SIP/2.0 ${status} ${reason}`];
  for (const v of req.headers.get('via') ?? []) lines.push(`Via: ${v}`);
  lines.push(`From: ${req.header('from')}`, `To: ${req.header('to')}`, `Call-ID: ${req.header('call-id')}`, `CSeq: ${req.header('cseq')}`);
  lines.push(`Contact: <sip:alice@127.0.0.1:${localPort}>`);
  if (body) lines.push('Content-Type: application/sdp');
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`, '', body);
  return lines.join('\r\n');
}

describe('dialog features', () => {
  let server: SipServer;
  const clients: RawSipClient[] = [];
  let onCall: (call: InboundCall) => void = acceptCall;

  function acceptCall(call: InboundCall): void {
    const res = negotiateAudio(call.info.offerSdp, { localAddress: '127.0.0.1', localPort: 30000, sessionId: '77', supportedCodecs: ['PCMU', 'PCMA'] });
    if (res.ok) call.accept(res.answerSdp);
    else call.reject(res.status, res.reason);
  }

  async function client(): Promise<RawSipClient> {
    const c = await RawSipClient.udp(PORT);
    clients.push(c);
    return c;
  }

  /** An answered and confirmed call, with the raw client's dialog handle. */
  async function confirmedCall(): Promise<{ c: RawSipClient; call: InboundCall; d: Awaited<ReturnType<typeof placeCall>> }> {
    const c = await client();
    const callP = nextEvent<[InboundCall]>(server, 'call').then(([call]) => call);
    const d = await placeCall(c, PORT);
    const call = await callP;
    const confirmed = nextEvent(call, 'confirmed');
    c.send(inDialog(c, d, 'ACK'));
    await confirmed;
    return { c, call, d };
  }

  beforeAll(async () => {
    server = await SipServer.listen({
      bindAddress: '127.0.0.1',
      port: PORT,
      logger: silentLogger(),
      sessionTimers: { expiresSeconds: 1800, minSeconds: 2 },
    });
    server.on('call', (call) => onCall(call));
  });

  afterEach(async () => {
    onCall = acceptCall;
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  afterAll(async () => {
    await server.close();
  });

  describe('hold and resume from our side', () => {
    it('hold() offers a=sendonly with the version bumped, resume() a=sendrecv; both ACKed', async () => {
      const { c, call, d } = await confirmedCall();
      const held = call.hold();
      const reinvite = await c.request('INVITE', d.callId);
      expect(reinvite.body).toMatch(/a=sendonly/);
      expect(reinvite.body).toMatch(/^o=\S+ 77 2 /m);
      c.send(answer(reinvite, 200, 'OK', c.localPort, offerSdp(40000).replace('a=sendrecv', 'a=recvonly')));
      expect((await held).ok).toBe(true);
      expect(call.heldByUs).toBe(true);
      await c.request('ACK', d.callId);

      // While we hold, a re-offer from the phone cannot take us back to sendrecv.
      c.send(inDialog(c, d, 'INVITE', { body: offerSdp(40000) }));
      const answered = await c.response(d.callId, 200, 'INVITE');
      expect(answered.body).toMatch(/a=sendonly/);
      c.send(inDialog(c, d, 'ACK'));

      const resumed = call.resume();
      const second = await c.request('INVITE', d.callId);
      expect(second.body).toMatch(/a=sendrecv/);
      c.send(answer(second, 200, 'OK', c.localPort, offerSdp(40000)));
      expect((await resumed).ok).toBe(true);
      expect(call.heldByUs).toBe(false);
      call.hangup();
    });

    it('glare: a 491 is retried after the back-off and then succeeds', async () => {
      const { c, call, d } = await confirmedCall();
      const held = call.hold();
      const first = await c.request('INVITE', d.callId);
      c.send(answer(first, 491, 'Request Pending', c.localPort));
      const retry = await c.waitFor((m) => m.method === 'INVITE' && m !== first && m.header('cseq') !== first.header('cseq'), 'retried re-INVITE', 4000);
      expect(retry.body).toMatch(/a=sendonly/);
      c.send(answer(retry, 200, 'OK', c.localPort, offerSdp(40000).replace('a=sendrecv', 'a=recvonly')));
      expect((await held).ok).toBe(true);
      call.hangup();
    });

    it('a 481 to our re-INVITE ends the call; a failure like 488 leaves it up and unheld', async () => {
      const { c, call, d } = await confirmedCall();
      const refused = call.hold();
      const first = await c.request('INVITE', d.callId);
      c.send(answer(first, 488, 'Not Acceptable Here', c.localPort));
      expect(await refused).toEqual({ ok: false, status: 488, reason: 'Not Acceptable Here' });
      expect(call.state).toBe('confirmed');
      expect(call.heldByUs).toBe(false);

      const ended = nextEvent<[CallEndReason]>(call, 'ended');
      const gone = call.hold();
      const second = await c.request('INVITE', d.callId);
      c.send(answer(second, 481, 'Call/Transaction Does Not Exist', c.localPort));
      expect((await gone).ok).toBe(false);
      expect((await ended)[0]).toEqual({ by: 'local', cause: 'hangup' });
    });

    it('hold() before the call is established is refused without sending anything', async () => {
      onCall = () => undefined;
      const c = await client();
      const callP = nextEvent<[InboundCall]>(server, 'call').then(([call]) => call);
      c.send(buildRequest({ method: 'INVITE', ruri: `sip:15550100@127.0.0.1:${PORT}`, transport: 'UDP', localPort: c.localPort, callId: rand(), fromTag: rand(), cseq: 1, body: offerSdp() }));
      const call = await callP;
      expect(await call.hold()).toEqual({ ok: false, status: 0, reason: 'call not established' });
      call.reject(486);
    });
  });

  it('a re-INVITE we refuse does not move the dialog: our BYE still goes to the accepted Contact', async () => {
    const { c, call, d } = await confirmedCall();
    c.send(inDialog(c, d, 'INVITE', { contact: false, headers: ['Contact: <sip:elsewhere@127.0.0.1:9>'], body: 'v=0\r\nnot sdp\r\n' }));
    await c.waitFor((m) => m.status !== undefined && m.status >= 400 && (m.header('cseq') ?? '').endsWith('INVITE'), 'the refusal');
    c.send(inDialog(c, d, 'ACK'));
    call.hangup();
    const bye = await c.request('BYE', d.callId);
    expect(bye.startLine).toContain(`sip:alice@127.0.0.1:${c.localPort}`);
  });

  describe('UPDATE (RFC 3311)', () => {
    it('an UPDATE offer is answered like a re-INVITE and emits remoteSdp; without a body it is a refresh', async () => {
      const { c, call, d } = await confirmedCall();
      const remote = nextEvent<[string]>(call, 'remoteSdp');
      c.send(inDialog(c, d, 'UPDATE', { body: offerSdp(40002).replace('a=sendrecv', 'a=sendonly') }));
      const res = await c.response(d.callId, 200, 'UPDATE');
      expect(res.body).toMatch(/a=recvonly/);
      expect(res.header('contact')).toMatch(/sip:bridge@/);
      expect((await remote)[0]).toMatch(/m=audio 40002/);

      c.send(inDialog(c, d, 'UPDATE'));
      const refresh = await c.response(d.callId, 200, 'UPDATE');
      expect(refresh.body).toBe('');
      call.hangup();
    });

    it('481 outside any dialog; 488 for an unusable offer; 491 while our own re-INVITE is pending', async () => {
      const c0 = await client();
      const stray = rand();
      c0.send(buildRequest({ method: 'UPDATE', ruri: `sip:bridge@127.0.0.1:${PORT}`, transport: 'UDP', localPort: c0.localPort, callId: stray, fromTag: rand(), toTag: rand(), cseq: 5 }));
      await c0.response(stray, 481);

      const { c, call, d } = await confirmedCall();
      c.send(inDialog(c, d, 'UPDATE', { body: offerSdp(40004, '18').replace(/a=rtpmap:0.*\r\n|a=rtpmap:8.*\r\n/g, '') }));
      await c.response(d.callId, 488, 'UPDATE');

      const held = call.hold();
      const reinvite = await c.request('INVITE', d.callId);
      c.send(inDialog(c, d, 'UPDATE', { body: offerSdp(40004) }));
      await c.response(d.callId, 491, 'UPDATE');
      c.send(answer(reinvite, 200, 'OK', c.localPort, offerSdp(40000).replace('a=sendrecv', 'a=recvonly')));
      expect((await held).ok).toBe(true);
      call.hangup();
    });
  });

  describe('session timers (RFC 4028)', () => {
    it('422 with Min-SE when Session-Expires is below our minimum; 400 when it is not a number', async () => {
      const c = await client();
      const small = rand();
      c.send(buildRequest({ method: 'INVITE', ruri: `sip:15550100@127.0.0.1:${PORT}`, transport: 'UDP', localPort: c.localPort, callId: small, fromTag: rand(), cseq: 1, headers: ['Session-Expires: 1', 'Supported: timer'], body: offerSdp() }));
      expect((await c.response(small, 422)).header('min-se')).toBe('2');
      const bad = rand();
      c.send(buildRequest({ method: 'INVITE', ruri: `sip:15550100@127.0.0.1:${PORT}`, transport: 'UDP', localPort: c.localPort, callId: bad, fromTag: rand(), cseq: 1, headers: ['Session-Expires: soon'], body: offerSdp() }));
      await c.response(bad, 400);
    });

    it('our 200 names the interval and the refresher; Require: timer only when the phone refreshes', async () => {
      const c = await client();
      const d = await placeCallWith(c, ['Supported: timer', 'Session-Expires: 300;refresher=uac']);
      expect(d.header('session-expires')).toBe('300;refresher=uac');
      expect(d.header('require')).toBe('timer');
      expect(d.header('supported')).toMatch(/timer/);
      const plain = await placeCallWith(c, []);
      // A phone without timer support: we refresh, at our own interval.
      expect(plain.header('session-expires')).toBe('1800;refresher=uas');
      expect(plain.header('require')).toBeUndefined();
      for (const call of server.activeCalls()) call.hangup();
    });

    async function placeCallWith(c: RawSipClient, headers: string[]): Promise<SipMsg> {
      const callId = rand();
      c.send(buildRequest({ method: 'INVITE', ruri: `sip:15550100@127.0.0.1:${PORT}`, transport: 'UDP', localPort: c.localPort, callId, fromTag: rand(), cseq: 1, branch: branch(), headers, body: offerSdp() }));
      return c.response(callId, 200, 'INVITE');
    }
  });

  describe('delayed offer and ringing', () => {
    it('INVITE without SDP: our 200 carries the offer, the ACK the answer (remoteSdp); an ACK without one ends the call with BYE', async () => {
      onCall = (call) => {
        expect(call.info.offerSdp).toBe('');
        call.accept(buildAudioOffer({ localAddress: '127.0.0.1', localPort: 30002, sessionId: 9 }));
      };
      const c = await client();
      for (const withAnswer of [true, false]) {
        const callId = rand();
        const fromTag = rand();
        const callP = nextEvent<[InboundCall]>(server, 'call').then(([call]) => call);
        c.send(buildRequest({ method: 'INVITE', ruri: `sip:15550100@127.0.0.1:${PORT}`, transport: 'UDP', localPort: c.localPort, callId, fromTag, cseq: 1 }));
        const ok = await c.response(callId, 200, 'INVITE');
        expect(ok.body).toMatch(/m=audio 30002 RTP\/AVP 0 8 101/);
        const call = await callP;
        const d = { callId, fromTag, toTag: /tag=([^;>\s]+)/.exec(ok.header('to')!)![1]!, remoteTarget: `sip:bridge@127.0.0.1:${PORT}`, ruri: `sip:15550100@127.0.0.1:${PORT}`, cseq: 1, inviteBranch: '', response: ok };
        if (withAnswer) {
          const remote = nextEvent<[string]>(call, 'remoteSdp');
          c.send(inDialog(c, d, 'ACK', { body: offerSdp(40006, '0 101') }));
          expect((await remote)[0]).toMatch(/m=audio 40006/);
          call.hangup();
        } else {
          const ended = nextEvent<[CallEndReason]>(call, 'ended');
          c.send(inDialog(c, d, 'ACK'));
          const bye = await c.request('BYE', callId);
          expect(bye.header('reason')).toMatch(/No usable SDP answer/);
          expect((await ended)[0]).toEqual({ by: 'local', cause: 'no-answer-in-ack' });
        }
      }
    });

    it('100rel: a reliable 180 (Require: 100rel, RSeq) is retransmitted until the PRACK, which gets 200', async () => {
      let ringing: InboundCall | undefined;
      onCall = (call) => {
        ringing = call;
        call.ring();
      };
      const c = await client();
      const callId = rand();
      const fromTag = rand();
      const ruri = `sip:15550100@127.0.0.1:${PORT}`;
      c.send(buildRequest({ method: 'INVITE', ruri, transport: 'UDP', localPort: c.localPort, callId, fromTag, cseq: 1, headers: ['Require: 100rel'], body: offerSdp() }));
      const first = await c.response(callId, 180, 'INVITE');
      expect(first.header('require')).toBe('100rel');
      expect(first.header('rseq')).toBe('1');
      // Not PRACKed yet: it comes again (T1 = 500 ms).
      await c.response(callId, 180, 'INVITE');
      const toTag = /tag=([^;>\s]+)/.exec(first.header('to')!)![1]!;
      c.send(buildRequest({ method: 'PRACK', ruri: `sip:bridge@127.0.0.1:${PORT}`, toUri: ruri, transport: 'UDP', localPort: c.localPort, callId, fromTag, toTag, cseq: 2, headers: ['RAck: 1 1 INVITE'] }));
      await c.response(callId, 200, 'PRACK');
      const seen = c.received.filter((m) => m.status === 180).length;
      await new Promise((r) => setTimeout(r, 1200));
      expect(c.received.filter((m) => m.status === 180).length).toBe(seen);
      acceptCall(ringing!);
      const ok = await c.response(callId, 200, 'INVITE');
      expect(ok.header('supported')).toMatch(/100rel/);
      ringing!.hangup();
    });

    it('ring() sends 180 Ringing and the call can still be answered', async () => {
      onCall = (call) => {
        expect(call.ring()).toBe(true);
        setTimeout(() => acceptCall(call), 100);
      };
      const c = await client();
      const d = await placeCall(c, PORT);
      await c.response(d.callId, 180, 'INVITE');
      c.send(inDialog(c, d, 'ACK'));
      for (const call of server.activeCalls()) call.hangup();
    });
  });
});

/**
 * OUTBOUND calls against a raw UDP SIP peer (with an RTP peer for its
 * media): a corpus of malformed SIP sent while the call is up (it keeps its
 * audio both ways, OPTIONS is still answered, hold and hangup still work),
 * and RFC 4028 session timers on the UAC side.
 */
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { MediaEngine } from '../../../src/media/MediaEngine.js';
import { buildAudioOffer } from '../../../src/sip/sdp/index.js';
import { SipServer } from '../../../src/sip/SipServer.js';
import type { OutboundEndReason } from '../../../src/sip/SipTypes.js';
import { toneAmplitude } from '../../support/audio.js';
import { RtpPeer } from '../../support/rtpPeer.js';
import { sleep, waitFor } from '../../support/wait.js';
import { RawSipClient, branch, nextEvent, offerSdp, parseSip, rand, type SipMsg } from './helpers.js';

const SERVER_PORT = 15340;
const FAR_PORT = 15341;

/** The far end's SIP socket at a fixed port (the trunk's proxy). */
class FarEnd {
  readonly received: SipMsg[] = [];
  private constructor(private readonly socket: dgram.Socket) {
    socket.on('message', (data) => this.received.push(parseSip(data.toString('utf8'))));
  }
  static async open(): Promise<FarEnd> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(FAR_PORT, '127.0.0.1', () => resolve()));
    return new FarEnd(socket);
  }
  async next(pred: (m: SipMsg) => boolean, what: string): Promise<SipMsg> {
    let found: SipMsg | undefined;
    await waitFor(() => (found = this.received.find(pred)) !== undefined, 5000, what);
    this.received.splice(this.received.indexOf(found!), 1);
    return found!;
  }
  respond(req: SipMsg, status: number, reason: string, toTag: string, body = '', extra: string[] = []): void {
    const lines = [`SIP/2.0 ${status} ${reason}`, ...(req.headers.get('via') ?? []).map((v) => `Via: ${v}`)];
    const to = req.header('to')!;
    lines.push(`From: ${req.header('from')}`, `To: ${/;tag=/.test(to) ? to : `${to};tag=${toTag}`}`, `Call-ID: ${req.header('call-id')}`, `CSeq: ${req.header('cseq')}`);
    lines.push(`Contact: <sip:far@127.0.0.1:${FAR_PORT}>`, ...extra);
    if (body) lines.push('Content-Type: application/sdp');
    lines.push(`Content-Length: ${Buffer.byteLength(body)}`, '', body);
    this.socket.send(lines.join('\r\n'), SERVER_PORT, '127.0.0.1');
  }
  close(): void {
    this.socket.close();
  }
}

describe('malformed SIP while an outbound call is up', () => {
  let media: MediaEngine;
  let server: SipServer;

  beforeAll(async () => {
    media = await MediaEngine.create({ bindAddress: '127.0.0.1', rtpPortMin: 28900, rtpPortMax: 28950, logger: silentLogger() });
    server = await SipServer.listen({
      bindAddress: '127.0.0.1',
      port: SERVER_PORT,
      logger: silentLogger(),
      // Test knob: a 4 s session interval (2 s minimum) keeps the session-timer cases short.
      sessionTimers: { expiresSeconds: 4, minSeconds: 2 },
      trunks: [{ name: 'far', inbound: { addresses: ['127.0.0.1'] }, outbound: { proxy: { host: '127.0.0.1', port: FAR_PORT, transport: 'udp' }, callerId: '+15550100' } }],
    });
  });

  afterAll(async () => {
    await server?.close();
    await media?.close();
  });

  it('the call keeps its audio both ways, OPTIONS still gets 200, hold() still works and the hangup still reaches the far end', async () => {
    const far = await FarEnd.open();
    const peer = await RtpPeer.open();
    const junk = await RawSipClient.udp(SERVER_PORT);
    const leg = media.createLeg({ callId: 'outbound-corpus', codec: 'PCMU', payloadType: 0, telephoneEventPayloadType: 101 });
    try {
      const call = server.dial({
        number: '+15551230000',
        trunk: 'far',
        offerSdp: buildAudioOffer({ localAddress: '127.0.0.1', localPort: leg.localPort, sessionId: 1 }),
      });
      const invite = await far.next((m) => m.method === 'INVITE', 'the INVITE');
      const farTag = rand();
      const answered = nextEvent<[{ remoteSdp: string }]>(call, 'answered');
      far.respond(invite, 200, 'OK', farTag, offerSdp(peer.port, '0 101'));
      await answered;
      await far.next((m) => m.method === 'ACK', 'the ACK');
      leg.setRemote({ address: '127.0.0.1', port: peer.port });
      peer.target('127.0.0.1', leg.localPort);
      peer.startTone(700, 8000);
      leg.play(media.createToneSound({ frequencies: [1100], durationMs: 60_000 }));

      const callId = invite.header('call-id')!;
      const ourTag = /tag=([^;>\s]+)/.exec(invite.header('from')!)![1]!;
      const inDialog = (method: string, cseq: string, extra: string[] = [], body = ''): string =>
        [
          `${method} sip:bridge@127.0.0.1:${SERVER_PORT} SIP/2.0`,
          `Via: SIP/2.0/UDP 127.0.0.1:${junk.localPort};branch=${branch()};rport`,
          'Max-Forwards: 70',
          `From: <sip:+15551230000@127.0.0.1>;tag=${farTag}`,
          `To: <sip:+15550100@127.0.0.1>;tag=${ourTag}`,
          `Call-ID: ${callId}`,
          `CSeq: ${cseq}`,
          `Contact: <sip:far@127.0.0.1:${junk.localPort}>`,
          ...extra,
          ...(body ? ['Content-Type: application/sdp'] : []),
          `Content-Length: ${Buffer.byteLength(body)}`,
          '',
          body,
        ].join('\r\n');
      const corpus: string[] = [
        // Out of dialog junk.
        'GARBAGE\r\n\r\n',
        Buffer.from(Array.from({ length: 400 }, (_, i) => (i * 53) % 256)).toString('latin1'),
        'INVITE sip:x@127.0.0.1 SIP/2.0\r\n\r\n',
        `OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${junk.localPort};branch=${branch()}\r\nCSeq: notanumber OPTIONS\r\n\r\n`,
        // Aimed at the live dialog.
        inDialog('BYE', 'abc BYE'),
        inDialog('BYE', '5 INVITE'),
        inDialog('INFO', '6 INFO', ['Content-Length: 999']),
        inDialog('INVITE', '7 INVITE', [], 'v=0\r\nthis is not sdp\r\n'),
        inDialog('UPDATE', '8 UPDATE', [], 'v=0\r\nm=video 0 RTP/AVP 31\r\n'),
        inDialog('UPDATE', '9 UPDATE', [], 'not a session description').replace('application/sdp', 'text/plain'),
        inDialog('BYE', '10 BYE').replace(`tag=${ourTag}`, 'tag=not-ours'),
      ];
      for (const text of corpus) junk.send(text);
      await sleep(500);

      // The call is still up, both ways.
      expect(call.state).toBe('answered');
      const since = peer.received.length;
      const before = leg.stats().packetsReceived;
      await sleep(1500);
      const heard = peer.lastSamples(Math.min(60, peer.received.length - since));
      expect(peer.received.length - since).toBeGreaterThan(40);
      expect(toneAmplitude(heard, 1100)).toBeGreaterThan(1000);
      expect(leg.stats().packetsReceived - before).toBeGreaterThan(40);

      // OPTIONS is still answered.
      const probe = rand();
      junk.send(
        [`OPTIONS sip:bridge@127.0.0.1:${SERVER_PORT} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${junk.localPort};branch=${branch()};rport`, 'Max-Forwards: 70',
          `From: <sip:probe@127.0.0.1>;tag=${rand()}`, `To: <sip:bridge@127.0.0.1>`, `Call-ID: ${probe}`, 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'),
      );
      await junk.response(probe, 200, 'OPTIONS');
      // The junk aimed at the dialog got errors, never a success.
      expect(junk.received.filter((m) => m.header('call-id') === callId && m.status !== undefined && m.status < 300)).toEqual([]);

      // Hold from our side works on the outbound leg too (shared DialogCall).
      const held = call.hold();
      const reinvite = await far.next((m) => m.method === 'INVITE', 'our hold re-INVITE');
      expect(reinvite.body).toMatch(/a=sendonly/);
      far.respond(reinvite, 200, 'OK', farTag, offerSdp(peer.port, '0 101').replace('a=sendrecv', 'a=recvonly'));
      expect((await held).ok).toBe(true);
      await far.next((m) => m.method === 'ACK', 'the ACK of our re-INVITE');

      const ended = nextEvent<[OutboundEndReason]>(call, 'ended');
      call.hangup();
      const bye = await far.next((m) => m.method === 'BYE', 'our BYE');
      far.respond(bye, 200, 'OK', farTag);
      expect((await ended)[0]).toEqual({ by: 'local', cause: 'hangup' });
    } finally {
      leg.close();
      await peer.close();
      await junk.close();
      far.close();
    }
  }, 20_000);

  it('session timers on an outbound call: our INVITE asks for them; we refresh when the 2xx names us, BYE when the far end does not refresh', async () => {
    const far = await FarEnd.open();
    try {
      // The far end makes us the refresher: a re-INVITE comes at half the interval.
      const refreshed = server.dial({ number: '+15551230001', trunk: 'far', offerSdp: buildAudioOffer({ localAddress: '127.0.0.1', localPort: 28990, sessionId: 2 }) });
      const invite = await far.next((m) => m.method === 'INVITE', 'the INVITE');
      expect(invite.header('session-expires')).toBe('4');
      expect(invite.header('min-se')).toBe('2');
      expect(invite.headers.get('supported')?.join(',')).toMatch(/timer/);
      const tag1 = rand();
      far.respond(invite, 200, 'OK', tag1, offerSdp(28992, '0'), ['Session-Expires: 4;refresher=uac', 'Require: timer']);
      await far.next((m) => m.method === 'ACK', 'the ACK');
      const refresh = await far.next((m) => m.method === 'INVITE', 'our refresh re-INVITE');
      expect(refresh.header('session-expires')).toBe('4;refresher=uac');
      far.respond(refresh, 200, 'OK', tag1, offerSdp(28992, '0'), ['Session-Expires: 4;refresher=uac']);
      await far.next((m) => m.method === 'ACK', 'the ACK of the refresh');
      expect(refreshed.state).toBe('answered');
      const ended1 = nextEvent<[OutboundEndReason]>(refreshed, 'ended');
      refreshed.hangup();
      const bye1 = await far.next((m) => m.method === 'BYE', 'our BYE');
      far.respond(bye1, 200, 'OK', tag1);
      expect((await ended1)[0]).toEqual({ by: 'local', cause: 'hangup' });

      // The far end takes the refresher role and never refreshes: our BYE, with a Reason.
      const expired = server.dial({ number: '+15551230002', trunk: 'far', offerSdp: buildAudioOffer({ localAddress: '127.0.0.1', localPort: 28994, sessionId: 3 }) });
      const invite2 = await far.next((m) => m.method === 'INVITE', 'the second INVITE');
      const tag2 = rand();
      const ended2 = nextEvent<[OutboundEndReason]>(expired, 'ended', 8000);
      far.respond(invite2, 200, 'OK', tag2, offerSdp(28996, '0'), ['Session-Expires: 3;refresher=uas']);
      await far.next((m) => m.method === 'ACK', 'the second ACK');
      expect((await ended2)[0]).toEqual({ by: 'timeout', cause: 'session-timer' });
      const bye2 = await far.next((m) => m.method === 'BYE', 'our BYE at expiry');
      expect(bye2.header('reason')).toMatch(/cause=102.*Session timer expired/);
      far.respond(bye2, 200, 'OK', tag2);
    } finally {
      far.close();
    }
  }, 20_000);
});

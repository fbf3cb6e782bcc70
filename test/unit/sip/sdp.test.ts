import { describe, expect, it } from 'vitest';
import sdpTransform from 'sdp-transform';
import {
  buildAnswer,
  buildAudioOffer,
  bumpSdpVersion,
  negotiateAudio,
  renegotiateAudio,
  selectAudio,
  type NegotiateOptions,
  type NegotiationResult,
  type NegotiationSuccess,
} from '../../../src/sip/sdp/index.js';

const OPTS: NegotiateOptions = { localAddress: '192.0.2.10', localPort: 20000, sessionId: '777', supportedCodecs: ['PCMU', 'PCMA'] };

function sdp(mLines: string[], session: string[] = ['c=IN IP4 198.51.100.7']): string {
  return ['v=0', 'o=alice 2890844526 2890844526 IN IP4 198.51.100.7', 's=-', ...session, 't=0 0', ...mLines, ''].join('\r\n');
}

function audio(pts: string, attrs: string[] = [], port = 49170): string[] {
  return [`m=audio ${port} RTP/AVP ${pts}`, ...attrs];
}

function ok(r: NegotiationResult): NegotiationSuccess {
  if (!r.ok) throw new Error(`expected success, got ${r.status} ${r.reason}`);
  return r;
}

describe('negotiateAudio', () => {
  it('picks the first supported codec in the offer order', () => {
    expect(ok(negotiateAudio(sdp(audio('0 8')), OPTS)).codec).toBe('PCMU');
    const r = ok(negotiateAudio(sdp(audio('18 8 0', ['a=rtpmap:18 G729/8000'])), OPTS));
    expect(r.codec).toBe('PCMA');
    expect(r.payloadType).toBe(8);
    // Our preference does not override the offer's order.
    expect(ok(negotiateAudio(sdp(audio('8 0')), { ...OPTS, supportedCodecs: ['PCMU', 'PCMA'] })).codec).toBe('PCMA');
    expect(ok(negotiateAudio(sdp(audio('8 0')), { ...OPTS, supportedCodecs: ['PCMU'] })).codec).toBe('PCMU');
  });

  it('maps dynamic payload types by rtpmap name and answers with the same number', () => {
    const r = ok(negotiateAudio(sdp(audio('96 97', ['a=rtpmap:96 opus/48000/2', 'a=rtpmap:97 PCMA/8000'])), OPTS));
    expect(r.codec).toBe('PCMA');
    expect(r.payloadType).toBe(97);
    const m = sdpTransform.parse(r.answerSdp).media[0]!;
    expect(String(m.payloads)).toBe('97');
    expect(m.rtp).toEqual([{ payload: 97, codec: 'PCMA', rate: 8000 }]);
  });

  it.each([101, 96])('mirrors telephone-event payload type %i with fmtp 0-16', (pt) => {
    const r = ok(negotiateAudio(sdp(audio(`0 ${pt}`, [`a=rtpmap:${pt} telephone-event/8000`, `a=fmtp:${pt} 0-15`])), OPTS));
    expect(r.telephoneEventPayloadType).toBe(pt);
    const m = sdpTransform.parse(r.answerSdp).media[0]!;
    expect(m.payloads).toBe(`0 ${pt}`);
    expect(m.fmtp).toEqual([{ payload: pt, config: '0-16' }]);
    expect(m.ptime).toBe(20);
  });

  it('leaves telephone-event out when not offered', () => {
    const r = ok(negotiateAudio(sdp(audio('0')), OPTS));
    expect(r.telephoneEventPayloadType).toBeUndefined();
    expect(r.answerSdp).not.toContain('telephone-event');
  });

  it.each([
    ['sendrecv', 'sendrecv', false],
    ['sendonly', 'recvonly', true],
    ['recvonly', 'sendonly', false],
    ['inactive', 'inactive', true],
  ] as const)('offer %s → answer %s', (offered, answered, hold) => {
    const r = ok(negotiateAudio(sdp(audio('0', [`a=${offered}`])), OPTS));
    expect(r.direction).toBe(answered);
    expect(r.hold).toBe(hold);
    expect(r.answerSdp).toContain(`a=${answered}\r\n`);
  });

  it('uses session-level direction when the media has none', () => {
    const r = ok(negotiateAudio(sdp(audio('0'), ['c=IN IP4 198.51.100.7', 'a=sendonly']), OPTS));
    expect(r.direction).toBe('recvonly');
  });

  it('treats c=0.0.0.0 as hold', () => {
    const r = ok(negotiateAudio(sdp(audio('0'), ['c=IN IP4 0.0.0.0']), OPTS));
    expect(r.hold).toBe(true);
    expect(r.remote.address).toBe('0.0.0.0');
    expect(r.direction).toBe('recvonly');
  });

  it('takes the remote address from the media c= line, else the session one', () => {
    expect(ok(negotiateAudio(sdp(audio('0', ['c=IN IP4 203.0.113.5'])), OPTS)).remote).toEqual({ address: '203.0.113.5', port: 49170 });
    expect(ok(negotiateAudio(sdp(audio('0')), OPTS)).remote).toEqual({ address: '198.51.100.7', port: 49170 });
  });

  it('writes our address, port and o= line', () => {
    const r = ok(negotiateAudio(sdp(audio('0')), { ...OPTS, sessionVersion: 5 }));
    const parsed = sdpTransform.parse(r.answerSdp);
    expect(parsed.origin).toMatchObject({ sessionId: 777, sessionVersion: 5, address: '192.0.2.10' });
    expect(parsed.connection?.ip).toBe('192.0.2.10');
    expect(parsed.media[0]!.port).toBe(20000);
  });

  it('rejects an offer without a common codec with 488', () => {
    const r = negotiateAudio(sdp(audio('18 9', ['a=rtpmap:18 G729/8000', 'a=rtpmap:9 G722/8000'])), OPTS);
    expect(r).toMatchObject({ ok: false, status: 488 });
  });

  it('rejects offers without usable audio with 488', () => {
    expect(negotiateAudio(sdp(['m=video 5000 RTP/AVP 96', 'a=rtpmap:96 H264/90000']), OPTS)).toMatchObject({ ok: false, status: 488 });
    expect(negotiateAudio(sdp(audio('0', [], 0)), OPTS)).toMatchObject({ ok: false, status: 488 });
    expect(negotiateAudio(sdp(['m=audio 49170 RTP/SAVP 0']), OPTS)).toMatchObject({ ok: false, status: 488 });
  });

  it.each([
    ['empty', ''],
    ['garbage', 'hello world\r\nthis is not sdp'],
    ['binary', '\u0000\u0001\u0002v=0'],
    ['no o= line', 'v=0\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 1 RTP/AVP 0\r\n'],
    ['bad port', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio port RTP/AVP 0\r\n'],
  ])('answers unparseable SDP (%s) with 400', (_name, text) => {
    expect(negotiateAudio(text, OPTS)).toMatchObject({ ok: false, status: 400 });
  });

  it('keeps every offered m= line, rejecting all but one audio stream with port 0', () => {
    const offer = sdp([
      'm=video 5000 RTP/AVP 96', 'a=rtpmap:96 H264/90000',
      'm=audio 6000 RTP/SAVP 0',
      ...audio('8 101', ['a=rtpmap:101 telephone-event/8000']),
      'm=audio 7000 RTP/AVP 0',
    ]);
    const r = ok(negotiateAudio(offer, OPTS));
    const media = sdpTransform.parse(r.answerSdp).media;
    expect(media.map((m) => [m.type, m.port, m.protocol])).toEqual([
      ['video', 0, 'RTP/AVP'],
      ['audio', 0, 'RTP/SAVP'],
      ['audio', 20000, 'RTP/AVP'],
      ['audio', 0, 'RTP/AVP'],
    ]);
    expect(r.codec).toBe('PCMA');
    expect(r.remote.port).toBe(49170);
  });

  it('selectAudio + buildAnswer give the same answer as negotiateAudio', () => {
    const offer = sdp(audio('8 0 101', ['a=rtpmap:101 telephone-event/8000']));
    const sel = selectAudio(offer);
    if (!sel.ok) throw new Error('selection failed');
    expect(buildAnswer(sel, { localAddress: '192.0.2.10', localPort: 20000, sessionId: '777' })).toBe(
      ok(negotiateAudio(offer, OPTS)).answerSdp,
    );
  });
});

describe('renegotiation and offers', () => {
  const first = ok(negotiateAudio(sdp(audio('0 101', ['a=rtpmap:101 telephone-event/8000'])), OPTS)).answerSdp;

  it('answers a hold re-offer with version + 1 and mirrored direction', () => {
    const r = ok(renegotiateAudio(sdp(audio('0 101', ['a=rtpmap:101 telephone-event/8000', 'a=sendonly'])), first));
    expect(r.sessionVersion).toBe(2);
    expect(r.answerSdp).toMatch(/^o=- 777 2 IN IP4 192\.0\.2\.10$/m);
    expect(r.direction).toBe('recvonly');
    expect(r.answerSdp).toContain('m=audio 20000 RTP/AVP 0 101');
  });

  it('keeps the version when nothing changes', () => {
    const r = ok(renegotiateAudio(sdp(audio('0 101', ['a=rtpmap:101 telephone-event/8000'])), first));
    expect(r.sessionVersion).toBe(1);
    expect(r.answerSdp).toBe(first);
  });

  it('refuses a re-offer that drops our codec', () => {
    expect(renegotiateAudio(sdp(audio('8')), first)).toMatchObject({ ok: false, status: 488 });
  });

  it('bumps the o= version', () => {
    expect(bumpSdpVersion(first)).toMatch(/^o=- 777 2 /m);
  });

  it('builds an offer that negotiates back to itself', () => {
    const offer = buildAudioOffer({ localAddress: '192.0.2.20', localPort: 30000, sessionId: 5 });
    const r = ok(negotiateAudio(offer, OPTS));
    expect(r).toMatchObject({ codec: 'PCMU', telephoneEventPayloadType: 101, remote: { address: '192.0.2.20', port: 30000 } });
  });
});

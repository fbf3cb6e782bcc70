import { describe, expect, it } from 'vitest';
import sdpTransform from 'sdp-transform';
import {
  AUDIO_CODECS,
  buildAudioOffer,
  negotiateAudio,
  offeredCodecs,
  renegotiateAudio,
  selectAudio,
  type NegotiateOptions,
  type NegotiationResult,
  type NegotiationSuccess,
} from '../../../src/sip/sdp/index.js';
import { SUPPORTED_CODECS } from '../../../src/media/index.js';

const OPTS: NegotiateOptions = { localAddress: '192.0.2.10', localPort: 20000, sessionId: '42', supportedCodecs: AUDIO_CODECS };

function sdp(mLines: string[]): string {
  return ['v=0', 'o=bob 1 1 IN IP4 198.51.100.9', 's=-', 'c=IN IP4 198.51.100.9', 't=0 0', ...mLines, ''].join('\r\n');
}

function ok(r: NegotiationResult): NegotiationSuccess {
  if (!r.ok) throw new Error(`expected success, got ${r.status} ${r.reason}`);
  return r;
}

describe('Opus in SDP', () => {
  it('offers opus/48000/2 on a dynamic payload type with FEC and our 16 kHz rate in fmtp', () => {
    const offer = buildAudioOffer({ localAddress: '192.0.2.20', localPort: 30000, sessionId: 5, codecs: ['opus', 'PCMU'] });
    const m = sdpTransform.parse(offer).media[0]!;
    expect(m.rtp).toContainEqual({ payload: 111, codec: 'opus', rate: 48000, encoding: 2 });
    const fmtp = m.fmtp.find((f) => f.payload === 111)!.config;
    expect(fmtp).toContain('useinbandfec=1');
    expect(fmtp).toContain('maxplaybackrate=16000');
  });

  it("answers Opus on the offer's dynamic payload type when the offerer prefers it", () => {
    const offer = sdp([
      'm=audio 4000 RTP/AVP 96 0 101',
      'a=rtpmap:96 opus/48000/2',
      'a=fmtp:96 stereo=1;sprop-stereo=1',
      'a=rtpmap:101 telephone-event/8000',
    ]);
    const r = ok(negotiateAudio(offer, OPTS));
    expect(r).toMatchObject({ codec: 'opus', payloadType: 96, telephoneEventPayloadType: 101 });
    const m = sdpTransform.parse(r.answerSdp).media[0]!;
    expect(m.payloads).toBe('96 101');
    expect(m.rtp[0]).toEqual({ payload: 96, codec: 'opus', rate: 48000, encoding: 2 });
    expect(m.fmtp.find((f) => f.payload === 96)!.config).toContain('useinbandfec=1');
  });

  it('does not take opus at another clock rate', () => {
    expect(ok(negotiateAudio(sdp(['m=audio 4000 RTP/AVP 96 8', 'a=rtpmap:96 opus/16000']), OPTS)).codec).toBe('PCMA');
  });
});

describe('G.722 in SDP', () => {
  it('offers every codec the engine runs, G.722 first', () => {
    expect([...AUDIO_CODECS]).toEqual(SUPPORTED_CODECS.map((c) => c.name));
    const offer = buildAudioOffer({ localAddress: '192.0.2.20', localPort: 30000, sessionId: 5, codecs: AUDIO_CODECS });
    const m = sdpTransform.parse(offer).media[0]!;
    expect(m.payloads).toBe('9 111 0 8 101');
    // RFC 3551's clock-rate quirk: G.722 is written 8000 though its audio is 16 kHz.
    expect(m.rtp).toContainEqual({ payload: 9, codec: 'G722', rate: 8000 });
    expect(offeredCodecs(offer)).toEqual(['G722', 'opus', 'PCMU', 'PCMA']);
  });

  it('answers G.722 when the offerer prefers it, with the static payload type 9 and clock 8000', () => {
    const r = ok(negotiateAudio(sdp(['m=audio 4000 RTP/AVP 9 0 101', 'a=rtpmap:9 G722/8000', 'a=rtpmap:101 telephone-event/8000']), OPTS));
    expect(r).toMatchObject({ codec: 'G722', payloadType: 9, telephoneEventPayloadType: 101 });
    const m = sdpTransform.parse(r.answerSdp).media[0]!;
    expect(m.payloads).toBe('9 101');
    expect(m.rtp[0]).toEqual({ payload: 9, codec: 'G722', rate: 8000 });
  });

  it('takes static payload type 9 without an rtpmap', () => {
    expect(ok(negotiateAudio(sdp(['m=audio 4000 RTP/AVP 9 8']), OPTS)).codec).toBe('G722');
  });

  it("follows the offerer's order: PCMU before G.722 gets PCMU", () => {
    expect(ok(negotiateAudio(sdp(['m=audio 4000 RTP/AVP 0 9']), OPTS)).codec).toBe('PCMU');
  });

  it('accepts G722/16000 written by phones that get the quirk wrong, and a dynamic number', () => {
    const r = ok(negotiateAudio(sdp(['m=audio 4000 RTP/AVP 112 0', 'a=rtpmap:112 G722/16000']), OPTS));
    expect(r).toMatchObject({ codec: 'G722', payloadType: 112 });
  });

  it('leaves G.722 out when the caller of negotiateAudio does not run it', () => {
    expect(ok(negotiateAudio(sdp(['m=audio 4000 RTP/AVP 9 8']), { ...OPTS, supportedCodecs: ['PCMU', 'PCMA'] })).codec).toBe('PCMA');
    expect(negotiateAudio(sdp(['m=audio 4000 RTP/AVP 9']), { ...OPTS, supportedCodecs: ['PCMU', 'PCMA'] })).toMatchObject({ ok: false, status: 488 });
  });

  it('a re-INVITE may change the codec, and selectAudio makes the same choice for the media', () => {
    const first = ok(negotiateAudio(sdp(['m=audio 4000 RTP/AVP 0']), OPTS)).answerSdp;
    const reOffer = sdp(['m=audio 4002 RTP/AVP 9 0']);
    const r = ok(renegotiateAudio(reOffer, first, AUDIO_CODECS));
    expect(r.codec).toBe('G722');
    expect(r.sessionVersion).toBe(2);
    expect(r.answerSdp).toContain('m=audio 20000 RTP/AVP 9');
    const sel = selectAudio(reOffer, { supportedCodecs: AUDIO_CODECS });
    expect(sel).toMatchObject({ ok: true, codec: 'G722', payloadType: 9, remote: { port: 4002 } });
    // Back to PCMA in a later re-INVITE.
    expect(ok(renegotiateAudio(sdp(['m=audio 4002 RTP/AVP 8']), r.answerSdp, AUDIO_CODECS)).codec).toBe('PCMA');
  });

  it('checks a delayed-offer answer against the codecs we offered', () => {
    const ours = buildAudioOffer({ localAddress: '192.0.2.20', localPort: 30000, sessionId: 5, codecs: ['PCMU', 'PCMA'] });
    expect(offeredCodecs(ours)).toEqual(['PCMU', 'PCMA']);
    expect(selectAudio(sdp(['m=audio 4000 RTP/AVP 9']), { supportedCodecs: offeredCodecs(ours) })).toMatchObject({ ok: false });
    expect(offeredCodecs('not sdp')).toEqual([]);
  });
});

describe('RFC 3389 comfort noise in SDP', () => {
  it('accepts CN (PT 13) when offered with an 8000-clock codec, and lists it in our answer', () => {
    const r = ok(negotiateAudio(sdp(['m=audio 4000 RTP/AVP 0 13 101', 'a=rtpmap:13 CN/8000', 'a=rtpmap:101 telephone-event/8000']), OPTS));
    expect(r.codec).toBe('PCMU');
    const m = sdpTransform.parse(r.answerSdp).media[0]!;
    expect(m.payloads).toBe('0 13 101');
    expect(m.rtp).toContainEqual({ payload: 13, codec: 'CN', rate: 8000 });
    // Static 13 without an rtpmap is CN too.
    expect(String(sdpTransform.parse(ok(negotiateAudio(sdp(['m=audio 4000 RTP/AVP 9 13']), OPTS)).answerSdp).media[0]!.payloads)).toBe('9 13');
  });

  it('leaves CN out when not offered, with Opus (48 kHz clock), or when 13 is not CN/8000', () => {
    expect(String(sdpTransform.parse(ok(negotiateAudio(sdp(['m=audio 4000 RTP/AVP 0']), OPTS)).answerSdp).media[0]!.payloads)).toBe('0');
    const opus = ok(negotiateAudio(sdp(['m=audio 4000 RTP/AVP 96 13', 'a=rtpmap:96 opus/48000/2']), OPTS));
    expect(String(sdpTransform.parse(opus.answerSdp).media[0]!.payloads)).toBe('96');
    const wrong = ok(negotiateAudio(sdp(['m=audio 4000 RTP/AVP 0 13', 'a=rtpmap:13 CN/16000']), OPTS));
    expect(String(sdpTransform.parse(wrong.answerSdp).media[0]!.payloads)).toBe('0');
  });

  it('offers CN when asked', () => {
    const offer = buildAudioOffer({ localAddress: '192.0.2.20', localPort: 30000, sessionId: 5, codecs: ['PCMU'], comfortNoise: true });
    const m = sdpTransform.parse(offer).media[0]!;
    expect(m.payloads).toBe('0 13 101');
    expect(m.rtp).toContainEqual({ payload: 13, codec: 'CN', rate: 8000 });
  });
});

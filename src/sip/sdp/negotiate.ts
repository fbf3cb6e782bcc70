/**
 * SDP offer/answer for the audio leg of a call (RFC 3264), on top of
 * sdp-transform. Everything the signaling layer does with session
 * descriptions lives in this module: first answer, re-answer of a re-INVITE
 * offer, fresh offers and o= version handling.
 */
import sdpTransform from 'sdp-transform';
import type { MediaDescription, SessionDescription } from 'sdp-transform';

export type AudioCodecName = 'PCMU' | 'PCMA' | 'G722' | 'opus';
export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface NegotiateOptions {
  /** Address written into o= and c= of the answer (where we receive RTP). */
  localAddress: string;
  /** Our RTP port. */
  localPort: number;
  /** o= session id; keep it stable for the life of the call. */
  sessionId: string | number;
  /** o= session version; default 1. Every new description must use a higher one. */
  sessionVersion?: number;
  /** Codecs we accept; the OFFER's order decides which one wins. */
  supportedCodecs: readonly AudioCodecName[];
  /** Packetisation time written into the answer; default 20. */
  ptime?: number;
}

export interface NegotiationSuccess {
  ok: true;
  answerSdp: string;
  codec: AudioCodecName;
  /** Payload type of the codec, as the offer numbered it. */
  payloadType: number;
  /** Telephone-event payload type mirrored from the offer; absent if not offered. */
  telephoneEventPayloadType?: number;
  /** Where to send RTP. Address 0.0.0.0 means the remote side is on hold. */
  remote: { address: string; port: number };
  /** Direction written into our answer (what we do). */
  direction: MediaDirection;
  /** Direction of the offer (what the remote does). */
  remoteDirection: MediaDirection;
  /** True when the offer puts us on hold (sendonly, inactive or c=0.0.0.0). */
  hold: boolean;
  /** o= session version used in the answer. */
  sessionVersion: number;
}

export interface NegotiationFailure {
  ok: false;
  status: 488 | 400;
  reason: string;
}

export type NegotiationResult = NegotiationSuccess | NegotiationFailure;

/**
 * Every audio codec the bridge can run on a leg, best first: the order of our
 * own offers. Answers follow the offer's order among these. G.722 is
 * wideband (16 kHz audio) on an 8000 RTP clock (RFC 3551 4.5.2).
 */
export const AUDIO_CODECS: readonly AudioCodecName[] = Object.freeze(['G722', 'opus', 'PCMU', 'PCMA'] as const);

interface CodecSpec {
  /** Encoding name in a=rtpmap. */
  rtpName: string;
  clockRate: number;
  /** Channels in a=rtpmap (opus/48000/2). */
  channels?: number;
  /** Payload type in our offers (static, or our dynamic choice). */
  offerPt: number;
  /** a=fmtp we write for it. */
  fmtp?: string;
}

const CODEC_SPECS: Record<AudioCodecName, CodecSpec> = {
  PCMU: { rtpName: 'PCMU', clockRate: 8000, offerPt: 0 },
  PCMA: { rtpName: 'PCMA', clockRate: 8000, offerPt: 8 },
  G722: { rtpName: 'G722', clockRate: 8000, offerPt: 9 },
  // The engine runs Opus at 16 kHz mono (RFC 7587 3.1.1: say so to the
  // sender) and wants in-band FEC for its concealment.
  opus: {
    rtpName: 'opus',
    clockRate: 48000,
    channels: 2,
    offerPt: 111,
    fmtp: 'maxplaybackrate=16000;sprop-maxcapturerate=16000;useinbandfec=1',
  },
};

const STATIC_PT: Record<number, AudioCodecName> = { 0: 'PCMU', 8: 'PCMA', 9: 'G722' };

/** The codec an a=rtpmap line names, if we run it at that clock rate. */
function codecOfRtpmap(encoding: string, rate: number | undefined): AudioCodecName | undefined {
  const upper = encoding.toUpperCase();
  for (const [name, spec] of Object.entries(CODEC_SPECS) as Array<[AudioCodecName, CodecSpec]>) {
    if (spec.rtpName.toUpperCase() !== upper) continue;
    if (rate === undefined ? spec.clockRate === 8000 : rate === spec.clockRate) return name;
    // Some G.722 phones write the audio rate (16000) instead of RFC 3551's 8000.
    if (name === 'G722' && rate === 16000) return name;
  }
  return undefined;
}

function rtpmapOf(codec: AudioCodecName, payload: number): MediaDescription['rtp'][number] {
  const spec = CODEC_SPECS[codec];
  return { payload, codec: spec.rtpName, rate: spec.clockRate, ...(spec.channels ? { encoding: spec.channels } : {}) };
}

function fail(status: 488 | 400, reason: string): NegotiationFailure {
  return { ok: false, status, reason };
}

function ipVer(address: string): 4 | 6 {
  return address.includes(':') ? 6 : 4;
}

function isDirection(v: unknown): v is MediaDirection {
  return v === 'sendrecv' || v === 'sendonly' || v === 'recvonly' || v === 'inactive';
}

/** The answer direction that mirrors an offered direction (RFC 3264 section 6.1). */
export function mirrorDirection(offered: MediaDirection): MediaDirection {
  switch (offered) {
    case 'sendonly':
      return 'recvonly';
    case 'recvonly':
      return 'sendonly';
    case 'inactive':
      return 'inactive';
    default:
      return 'sendrecv';
  }
}

const LINE_RE = /^[a-z]=/;

/**
 * Parse an SDP body, or return undefined when it is not SDP at all
 * (sdp-transform itself accepts any text).
 */
export function parseSdp(sdp: string): SessionDescription | undefined {
  if (typeof sdp !== 'string') return undefined;
  const text = sdp.replace(/^\s+/, '');
  if (!text.startsWith('v=0')) return undefined;
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  if (!lines.every((l) => LINE_RE.test(l))) return undefined;
  if (!lines.some((l) => l.startsWith('o='))) return undefined;
  let parsed: SessionDescription;
  try {
    parsed = sdpTransform.parse(text);
  } catch {
    return undefined;
  }
  if (!parsed.origin || !Array.isArray(parsed.media)) return undefined;
  for (const m of parsed.media) {
    if (typeof m.port !== 'number' || !Number.isInteger(m.port) || m.port < 0 || m.port > 65535) return undefined;
    if (typeof m.protocol !== 'string' || typeof m.type !== 'string') return undefined;
  }
  return parsed;
}

interface CodecChoice {
  codec: AudioCodecName;
  payloadType: number;
}

function chooseCodec(m: MediaDescription, supported: readonly AudioCodecName[]): CodecChoice | undefined {
  const pts = String(m.payloads ?? '')
    .trim()
    .split(/\s+/)
    .filter((p) => /^\d+$/.test(p))
    .map(Number);
  for (const pt of pts) {
    const map = m.rtp.find((r) => r.payload === pt);
    let name: string | undefined;
    if (map) {
      name = codecOfRtpmap(map.codec, map.rate);
    } else {
      name = STATIC_PT[pt];
    }
    if (name && (supported as readonly string[]).includes(name)) {
      return { codec: name as AudioCodecName, payloadType: pt };
    }
  }
  return undefined;
}

function telephoneEventPt(m: MediaDescription): number | undefined {
  const offered = new Set(
    String(m.payloads ?? '')
      .trim()
      .split(/\s+/)
      .map(Number),
  );
  const te = m.rtp.find(
    (r) => r.codec.toLowerCase() === 'telephone-event' && (r.rate === 8000 || r.rate === undefined) && offered.has(r.payload),
  );
  return te?.payload;
}

/** RFC 3389 comfort noise: static payload type 13, CN/8000 (RFC 3551). */
export const COMFORT_NOISE_PT = 13;

/** Whether the offer lists comfort noise on PT 13 at 8000 (the only one the engine takes). */
function offersComfortNoise(m: MediaDescription): boolean {
  const offered = String(m.payloads ?? '')
    .trim()
    .split(/\s+/)
    .map(Number);
  if (!offered.includes(COMFORT_NOISE_PT)) return false;
  const map = m.rtp.find((r) => r.payload === COMFORT_NOISE_PT);
  return !map || (map.codec.toUpperCase() === 'CN' && (map.rate === 8000 || map.rate === undefined));
}

function usableProtocol(proto: string): boolean {
  const p = proto.toUpperCase();
  return p === 'RTP/AVP' || p === 'RTP/AVPF';
}

export interface SelectOptions {
  /** Codecs we accept; the OFFER's order decides which one wins. Default PCMU, PCMA. */
  supportedCodecs?: readonly AudioCodecName[];
}

/** An m= line of the offer, as much as the answer needs of it. */
export interface OfferedMedia {
  type: string;
  protocol: string;
  payloads: string;
}

/** What we will do with an offer, before we know our RTP port. */
export interface AudioSelection {
  ok: true;
  codec: AudioCodecName;
  payloadType: number;
  telephoneEventPayloadType?: number;
  /** The offer lists CN (PT 13) and the codec runs on an 8000 clock: our answer accepts it. */
  comfortNoise: boolean;
  remote: { address: string; port: number };
  direction: MediaDirection;
  remoteDirection: MediaDirection;
  hold: boolean;
  /** All m= lines of the offer, in order. */
  offerMedia: OfferedMedia[];
  /** Index in offerMedia of the audio stream we take. */
  audioIndex: number;
}

export interface AnswerOptions {
  localAddress: string;
  localPort: number;
  sessionId: string | number;
  /** Default 1. */
  sessionVersion?: number;
  /** Default 20. */
  ptime?: number;
}

/**
 * First step of answering: check the offer and pick codec, telephone-event
 * payload type, remote address and direction. Needs no local resources.
 */
export function selectAudio(offerSdp: string, options: SelectOptions = {}): AudioSelection | NegotiationFailure {
  const supported = options.supportedCodecs ?? ['PCMU', 'PCMA'];
  const offer = parseSdp(offerSdp);
  if (!offer) return fail(400, 'Malformed SDP');
  if (offer.media.length === 0) return fail(488, 'No media in offer');

  const audioIdx = offer.media.findIndex((m) => m.type === 'audio' && m.port !== 0 && usableProtocol(m.protocol));
  if (audioIdx < 0) {
    const audio = offer.media.filter((m) => m.type === 'audio');
    if (audio.length === 0) return fail(488, 'No audio stream in offer');
    if (audio.every((m) => m.port === 0)) return fail(488, 'Audio stream disabled in offer');
    return fail(488, 'Unsupported media protocol (SRTP not supported)');
  }
  const m = offer.media[audioIdx]!;
  const choice = chooseCodec(m, supported);
  if (!choice) return fail(488, 'No common codec');

  const connection = m.connection ?? offer.connection;
  if (!connection || !connection.ip) return fail(400, 'SDP without connection address');
  const remoteAddress = connection.ip.split('/')[0]!;
  const nullAddress = remoteAddress === '0.0.0.0' || remoteAddress === '::';

  const rawDirection = m.direction ?? offer.direction;
  const remoteDirection: MediaDirection = isDirection(rawDirection) ? rawDirection : 'sendrecv';
  let direction = mirrorDirection(remoteDirection);
  if (nullAddress) {
    // RFC 2543 hold: the remote side does not want media.
    direction = remoteDirection === 'sendonly' || remoteDirection === 'sendrecv' ? 'recvonly' : 'inactive';
  }
  const hold = nullAddress || remoteDirection === 'sendonly' || remoteDirection === 'inactive';
  const tePt = telephoneEventPt(m);
  const selection: AudioSelection = {
    ok: true,
    codec: choice.codec,
    payloadType: choice.payloadType,
    comfortNoise: CODEC_SPECS[choice.codec].clockRate === 8000 && offersComfortNoise(m),
    remote: { address: remoteAddress, port: m.port },
    direction,
    remoteDirection,
    hold,
    offerMedia: offer.media.map((om) => ({
      type: om.type,
      protocol: om.protocol,
      payloads: String(om.payloads ?? '').trim(),
    })),
    audioIndex: audioIdx,
  };
  if (tePt !== undefined) selection.telephoneEventPayloadType = tePt;
  return selection;
}

/** Our audio m= line: each codec at its payload type, then comfort noise (PT 13) and telephone-event when listed. */
function ourAudioMedia(
  codecs: ReadonlyArray<{ codec: AudioCodecName; payload: number }>,
  line: { port: number; protocol: string; comfortNoise: boolean; telephoneEventPt: number | undefined; ptime: number | undefined; direction: MediaDirection },
): MediaDescription {
  const te = line.telephoneEventPt;
  return {
    type: 'audio',
    port: line.port,
    protocol: line.protocol,
    payloads: [...codecs.map((c) => c.payload), ...(line.comfortNoise ? [COMFORT_NOISE_PT] : []), ...(te !== undefined ? [te] : [])].join(' '),
    rtp: [
      ...codecs.map((c) => rtpmapOf(c.codec, c.payload)),
      ...(line.comfortNoise ? [{ payload: COMFORT_NOISE_PT, codec: 'CN', rate: 8000 }] : []),
      ...(te !== undefined ? [{ payload: te, codec: 'telephone-event', rate: 8000 }] : []),
    ],
    fmtp: [
      ...codecs.flatMap((c) => (CODEC_SPECS[c.codec].fmtp ? [{ payload: c.payload, config: CODEC_SPECS[c.codec].fmtp! }] : [])),
      ...(te !== undefined ? [{ payload: te, config: '0-16' }] : []),
    ],
    ptime: line.ptime ?? 20,
    direction: line.direction,
  };
}

/** Our session description around its m= lines: we are both the origin and the connection address; timing is unbounded. */
function ourDescription(
  us: { localAddress: string; sessionId: string | number; sessionVersion?: number },
  media: MediaDescription[],
): SessionDescription {
  const v = ipVer(us.localAddress);
  return {
    version: 0,
    origin: {
      username: '-',
      sessionId: us.sessionId,
      sessionVersion: us.sessionVersion ?? 1,
      netType: 'IN',
      ipVer: v,
      address: us.localAddress,
    },
    name: '-',
    connection: { version: v, ip: us.localAddress },
    timing: { start: 0, stop: 0 },
    media,
  };
}

/** Second step: write the answer for a selection once our RTP address and port are known. */
export function buildAnswer(selection: AudioSelection, options: AnswerOptions): string {
  const offered = selection.offerMedia[selection.audioIndex]!;
  const audioAnswer = ourAudioMedia([{ codec: selection.codec, payload: selection.payloadType }], {
    port: options.localPort,
    protocol: offered.protocol,
    comfortNoise: selection.comfortNoise,
    telephoneEventPt: selection.telephoneEventPayloadType,
    ptime: options.ptime,
    direction: selection.direction,
  });
  // RFC 3264 section 6: every offered stream gets an m= line; rejected ones have port 0.
  const media = selection.offerMedia.map((om, i): MediaDescription =>
    i === selection.audioIndex
      ? audioAnswer
      : { type: om.type, port: 0, protocol: om.protocol, payloads: om.payloads || '0', rtp: [], fmtp: [] },
  );
  return sdpTransform.write(ourDescription(options, media));
}

/**
 * Answer an offer for one audio stream (selectAudio + buildAnswer).
 * Non-audio streams and any further audio streams are rejected with port 0.
 */
export function negotiateAudio(offerSdp: string, options: NegotiateOptions): NegotiationResult {
  const sel = selectAudio(offerSdp, { supportedCodecs: options.supportedCodecs });
  if (!sel.ok) return sel;
  const sessionVersion = options.sessionVersion ?? 1;
  const answerOptions: AnswerOptions = {
    localAddress: options.localAddress,
    localPort: options.localPort,
    sessionId: options.sessionId,
    sessionVersion,
  };
  if (options.ptime !== undefined) answerOptions.ptime = options.ptime;
  const result: NegotiationSuccess = {
    ok: true,
    answerSdp: buildAnswer(sel, answerOptions),
    codec: sel.codec,
    payloadType: sel.payloadType,
    remote: sel.remote,
    direction: sel.direction,
    remoteDirection: sel.remoteDirection,
    hold: sel.hold,
    sessionVersion,
  };
  if (sel.telephoneEventPayloadType !== undefined) result.telephoneEventPayloadType = sel.telephoneEventPayloadType;
  return result;
}

export interface LocalSdpParams {
  localAddress: string;
  localPort: number;
  sessionId: string;
  sessionVersion: number;
  codec: AudioCodecName | undefined;
}

/** What our own current description says (address, port, o= fields, codec). */
export function readLocalSdp(sdp: string): LocalSdpParams | undefined {
  const parsed = parseSdp(sdp);
  if (!parsed) return undefined;
  const audio = parsed.media.find((m) => m.type === 'audio' && m.port !== 0);
  if (!audio) return undefined;
  const address = audio.connection?.ip ?? parsed.connection?.ip ?? parsed.origin.address;
  const choice = chooseCodec(audio, AUDIO_CODECS);
  return {
    localAddress: address.split('/')[0]!,
    localPort: audio.port,
    sessionId: String(parsed.origin.sessionId),
    sessionVersion: Number(parsed.origin.sessionVersion) || 0,
    codec: choice?.codec,
  };
}

/**
 * Answer a new offer inside an existing session (re-INVITE): same address,
 * port and session id as our current description, o= version + 1,
 * direction mirrored from the new offer. The codec is the offer's first
 * among `supportedCodecs` (default: only our current codec), so a
 * re-INVITE may change it; the media side follows with the same choice
 * (selectAudio over the same list).
 */
export function renegotiateAudio(
  offerSdp: string,
  currentLocalSdp: string,
  supportedCodecs?: readonly AudioCodecName[],
): NegotiationResult {
  const local = readLocalSdp(currentLocalSdp);
  if (!local) return fail(488, 'No current local description');
  const codecs: readonly AudioCodecName[] = supportedCodecs ?? (local.codec ? [local.codec] : ['PCMU', 'PCMA']);
  const result = negotiateAudio(offerSdp, {
    localAddress: local.localAddress,
    localPort: local.localPort,
    sessionId: local.sessionId,
    sessionVersion: local.sessionVersion + 1,
    supportedCodecs: codecs,
  });
  if (result.ok && sameDescription(result.answerSdp, currentLocalSdp)) {
    // RFC 3264 section 8: an unchanged description keeps its version.
    result.answerSdp = setSdpVersion(result.answerSdp, local.sessionVersion);
    result.sessionVersion = local.sessionVersion;
  }
  return result;
}

function withoutOrigin(sdp: string): string {
  return sdp
    .split(/\r?\n/)
    .filter((l) => l.length > 0 && !l.startsWith('o='))
    .join('\r\n');
}

/** True when two descriptions differ at most in their o= line. */
export function sameDescription(a: string, b: string): boolean {
  return withoutOrigin(a) === withoutOrigin(b);
}

/** The same description with the o= session version set to `version`. */
export function setSdpVersion(sdp: string, version: number | bigint): string {
  return sdp.replace(/^(o=\S+ \S+ )(\d+)/m, (_all, head: string) => `${head}${version}`);
}

/** The same description with its o= session version incremented (for a new offer of an unchanged session). */
export function bumpSdpVersion(sdp: string): string {
  return sdp.replace(/^(o=\S+ \S+ )(\d+)/m, (_all, head: string, ver: string) => `${head}${BigInt(ver) + 1n}`);
}

export interface OfferOptions {
  localAddress: string;
  localPort: number;
  sessionId: string | number;
  sessionVersion?: number;
  codecs?: readonly AudioCodecName[];
  /** Payload type offered for RFC 4733 events; default 101, null to leave it out. */
  telephoneEventPayloadType?: number | null;
  direction?: MediaDirection;
  ptime?: number;
  /** List RFC 3389 comfort noise (PT 13, CN/8000) so phones may use VAD; default false. */
  comfortNoise?: boolean;
}

/** Build a fresh audio offer (for calls we place, or offerless re-INVITEs). */
export function buildAudioOffer(options: OfferOptions): string {
  const codecs = options.codecs ?? ['PCMU', 'PCMA'];
  const te = options.telephoneEventPayloadType === undefined ? 101 : options.telephoneEventPayloadType;
  const media = ourAudioMedia(
    codecs.map((codec) => ({ codec, payload: CODEC_SPECS[codec].offerPt })),
    {
      port: options.localPort,
      protocol: 'RTP/AVP',
      comfortNoise: options.comfortNoise ?? false,
      telephoneEventPt: te ?? undefined,
      ptime: options.ptime,
      direction: options.direction ?? 'sendrecv',
    },
  );
  return sdpTransform.write(ourDescription(options, [media]));
}

/** The codecs an offer of ours lists (in its order), e.g. to check the answer to it. */
export function offeredCodecs(sdp: string): AudioCodecName[] {
  const parsed = parseSdp(sdp);
  const audio = parsed?.media.find((m) => m.type === 'audio' && m.port !== 0);
  if (!audio) return [];
  const found: AudioCodecName[] = [];
  let rest: readonly AudioCodecName[] = AUDIO_CODECS;
  for (;;) {
    const choice = chooseCodec(audio, rest);
    if (!choice) return found;
    found.push(choice.codec);
    rest = rest.filter((c) => c !== choice.codec);
  }
}

/** The same description with every stream's direction attribute set to `direction` (added where missing). */
export function withDirection(sdp: string, direction: MediaDirection): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const lines = sdp.split(/\r?\n/);
  const out: string[] = [];
  let inMedia = false;
  let mediaHasDirection = false;
  const closeMedia = (): void => {
    if (inMedia && !mediaHasDirection) {
      // Insert before trailing empty lines.
      let at = out.length;
      while (at > 0 && out[at - 1] === '') at--;
      out.splice(at, 0, `a=${direction}`);
    }
  };
  for (const line of lines) {
    if (line.startsWith('m=')) {
      closeMedia();
      inMedia = true;
      mediaHasDirection = false;
      out.push(line);
      continue;
    }
    if (/^a=(sendrecv|sendonly|recvonly|inactive)\s*$/.test(line)) {
      if (!inMedia) continue; // session-level: the media-level attribute decides
      mediaHasDirection = true;
      out.push(`a=${direction}`);
      continue;
    }
    out.push(line);
  }
  closeMedia();
  return out.join(eol);
}

/** The direction we may answer with while we hold the call ourselves (we send nothing the peer should play as the room). */
export function directionWhileHolding(answer: MediaDirection): MediaDirection {
  if (answer === 'sendrecv') return 'sendonly';
  if (answer === 'recvonly') return 'inactive';
  return answer;
}

/** The direction of the (first) audio stream of a description; sendrecv when unstated. */
export function audioDirection(sdp: string): MediaDirection {
  const parsed = parseSdp(sdp);
  const audio = parsed?.media.find((m) => m.type === 'audio');
  const raw = audio?.direction ?? parsed?.direction;
  return isDirection(raw) ? raw : 'sendrecv';
}

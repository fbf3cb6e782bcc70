import { MediaEngine } from '../media/MediaEngine.js';
import type { MediaLegOptions } from '../media/MediaTypes.js';
import { AUDIO_CODECS, buildAnswer, buildAudioOffer, selectAudio } from '../sip/sdp/index.js';

/** How an inbound call's media leg is made and what our 200 says. */
export interface InboundMediaPlan {
  ok: true;
  leg: Omit<MediaLegOptions, 'callId'>;
  /** The phone's offer holds us (sendonly, inactive or c=0.0.0.0). */
  hold: boolean;
  /** Our SDP once the leg's port is known: the answer, or for a delayed offer our offer. */
  localSdp(localPort: number): string;
}

export type InboundMediaRefusal = { ok: false; status: number; reason: string };

/** Payload type we offer for RFC 4733 events in a delayed-offer 200. */
const OFFERED_TELEPHONE_EVENT_PT = 101;

/**
 * Media for an inbound INVITE, decided before anything is allocated. With
 * an offer: the answer to it (or the status to refuse it with). Without one
 * (delayed offer): our offer of every codec we run (G.722, PCMU, PCMA) and
 * telephone-event; the leg starts with PCMU and no remote until the answer
 * in the ACK sets both (the SIP layer ends a call whose ACK carries no
 * usable answer).
 */
export function planInboundMedia(offerSdp: string, localAddress: string): InboundMediaPlan | InboundMediaRefusal {
  const sessionId = Date.now();
  if (offerSdp.trim() === '') {
    return {
      ok: true,
      leg: { codec: 'PCMU', payloadType: 0, telephoneEventPayloadType: OFFERED_TELEPHONE_EVENT_PT },
      hold: false,
      localSdp: (localPort) =>
        buildAudioOffer({ localAddress, localPort, sessionId, codecs: AUDIO_CODECS, telephoneEventPayloadType: OFFERED_TELEPHONE_EVENT_PT, comfortNoise: true }),
    };
  }
  const selection = selectAudio(offerSdp, { supportedCodecs: AUDIO_CODECS });
  if (!selection.ok) return { ok: false, status: selection.status, reason: selection.reason };
  // c=0.0.0.0 (RFC 2543 hold): the leg waits for a re-INVITE before sending.
  const reachable = MediaEngine.canSendTo(selection.remote.address);
  if (!reachable && selection.remote.address !== '0.0.0.0') return { ok: false, status: 488, reason: 'Incompatible Network Address' };
  return {
    ok: true,
    leg: {
      codec: selection.codec,
      payloadType: selection.payloadType,
      telephoneEventPayloadType: selection.telephoneEventPayloadType,
      ...(reachable ? { remote: selection.remote } : {}),
    },
    hold: selection.hold,
    localSdp: (localPort) => buildAnswer(selection, { localAddress, localPort, sessionId }),
  };
}

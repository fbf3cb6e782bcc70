import type { Meeting } from '../conference/Meeting.js';
import type { Farewell } from '../conference/MeetingLifecycle.js';
import type { Participant } from '../conference/Participant.js';
import type { DialContext, DialedCall, Dialer, InviteFailure, InviteOptions, InviteOutcome } from '../ivr/Dialer.js';
import type { Dialer as ApiDialer } from '../api/Dialer.js';
import { DialError } from '../api/Dialer.js';
import type { ConferenceManager } from '../conference/ConferenceManager.js';
import type { Logger } from '../log.js';
import { MediaEngine } from '../media/MediaEngine.js';
import type { MediaLeg } from '../media/MediaLeg.js';
import type { Sound } from '../media/Sound.js';
import type { OutboundCall } from '../sip/OutboundCall.js';
import { AUDIO_CODECS, selectAudio, buildAudioOffer } from '../sip/sdp/index.js';
import type { SipServer } from '../sip/SipServer.js';
import type { OutboundFailureCause, SipTrunk } from '../sip/SipTypes.js';
import type { PromptName } from '../ivr/AccessCodeFlow.js';
import { FarewellHangup } from '../ivr/FarewellHangup.js';
import { FAREWELL_PROMPTS } from '../ivr/entrySteps.js';
import type { KeypadBinding } from '../ivr/KeypadCommands.js';
import type { KeypadServices } from '../ivr/MeetingKeypad.js';
import { MeetingKeypad } from '../ivr/MeetingKeypad.js';
import type { PromptLibrary } from '../ivr/PromptLibrary.js';

export interface SipDialerOptions {
  sip: Pick<SipServer, 'dial'>;
  media: Pick<MediaEngine, 'createLeg'>;
  trunks: readonly SipTrunk[];
  /** Address written into our SDP offer. */
  advertisedAddress: string;
  /** The in-meeting keypad of invited callees; without it their keys do nothing. */
  keypad?: InvitedKeypad;
  logger: Logger;
}

/** What an invited callee's keypad needs, the same keypad as the room's own callers. */
export interface InvitedKeypad {
  prompts: Pick<PromptLibrary, 'resolve' | 'tone'>;
  /** The meeting's bindings and prompt language (the callee dialed no DID: the meeting-wide attributes). */
  setupFor(meeting: Meeting): { bindings: readonly KeypadBinding[]; language: string };
  /** The keypad's ports (`*8`, recording, ...), read when the callee joins. */
  services(): KeypadServices | undefined;
}

const NOT_ANSWERING: ReadonlySet<OutboundFailureCause> = new Set<OutboundFailureCause>(['busy', 'no-answer', 'timeout']);

/**
 * The `Dialer` over SIP: the call goes out through the first trunk with an
 * outbound section, offering PCMU only (the leg's codec is fixed when it is
 * created, before the answer could pick another). Once answered the callee
 * joins the meeting as a participant, and from then on either side ending
 * ends the other: their BYE removes them from the meeting; the meeting
 * ending, a kick or an RTP timeout hangs their call up. A meeting that ends
 * while it rings cancels it; one locked meanwhile hangs up the answer.
 * Once in, the callee has the in-meeting keypad of their role, keys by
 * RFC 4733, in-band or SIP INFO, like any caller who dialed in.
 */
export class SipDialer implements Dialer {
  private static lastLeg = 0;

  constructor(private readonly options: SipDialerOptions) {}

  invite(number: string, meeting: Meeting, invitedBy: Participant | undefined, options: InviteOptions = {}): Promise<InviteOutcome> {
    const inviter = invitedBy?.callId ?? 'api';
    const placed = this.place(number, this.options.logger.child({ inviterCallId: inviter }));
    if (!placed.ok) return Promise.resolve(placed);
    const { call, leg, log: callLog } = placed;
    options.placed?.(call.info.callId);
    return new Promise<InviteOutcome>((resolve) => {
      // Nobody should be rung into a meeting that is over: give up (CANCEL).
      let meetingEnded = false;
      const onMeetingEnded = (): void => {
        meetingEnded = true;
        callLog.info('meeting ended while the invitation rang, cancelling');
        call.cancel();
      };
      meeting.once('ended', onMeetingEnded);
      call.once('failed', (failure) => {
        meeting.off('ended', onMeetingEnded);
        callLog.info({ status: failure.status, cause: failure.cause }, 'dial-out failed');
        leg.close();
        resolve({ ok: false, reason: meetingEnded ? 'meetingClosed' : NOT_ANSWERING.has(failure.cause) ? 'notAnswering' : 'unavailable' });
      });
      call.once('answered', ({ remoteSdp }) => {
        meeting.off('ended', onMeetingEnded);
        const outcome = this.admit(call, leg, remoteSdp, meeting, invitedBy, options, callLog);
        if (!outcome.ok) {
          call.hangup(outcome.reason === 'meetingClosed' ? 'meeting closed' : 'answer not usable');
          leg.close();
        }
        resolve(outcome);
      });
    });
  }

  dial(number: string, context: DialContext): Promise<DialedCall> {
    const placed = this.place(number, this.options.logger.child({ inviterCallId: context.callId }));
    if (!placed.ok) return Promise.reject(new Error(`call to ${number} not placed: ${placed.reason}`));
    const { call, leg, log } = placed;
    return new Promise<DialedCall>((resolve, reject) => {
      call.once('failed', (failure) => {
        log.info({ status: failure.status, cause: failure.cause }, 'outbound call failed');
        leg.close();
        reject(new Error(`call to ${number} failed: ${failure.cause}`));
      });
      call.once('answered', ({ remoteSdp }) => {
        if (!this.pointLegAt(leg, remoteSdp, log)) {
          call.hangup('answer not usable');
          leg.close();
          reject(new Error(`call to ${number}: answer not usable`));
          return;
        }
        this.followMedia(call, leg);
        const hangup = (reason: string): void => {
          if (call.state !== 'ended') call.hangup(reason);
        };
        leg.on('rtpTimeout', () => hangup('RTP timeout'));
        call.once('ended', (reason) => {
          log.info({ by: reason.by, cause: reason.cause }, 'outbound call ended');
          leg.close();
        });
        resolve({
          leg,
          hangup,
          onEnded: (listener) => {
            if (call.state === 'ended') listener();
            else call.once('ended', () => listener());
          },
        });
      });
    });
  }

  /** Creates the leg and sends the INVITE through the first outbound trunk; the caller waits for `answered` or `failed`. */
  private place(number: string, logger: Logger): { ok: true; call: OutboundCall; leg: MediaLeg; log: Logger } | { ok: false; reason: InviteFailure } {
    const trunk = this.options.trunks.find((t) => t.outbound !== undefined);
    if (!trunk) {
      logger.warn('dial-out: no trunk has an outbound section');
      return { ok: false, reason: 'unavailable' };
    }
    let leg: MediaLeg;
    try {
      leg = this.options.media.createLeg({ callId: `dial-out-${++SipDialer.lastLeg}`, codec: 'PCMU', payloadType: 0, telephoneEventPayloadType: 101 });
    } catch (err) {
      logger.error({ err }, 'dial-out: no media leg');
      return { ok: false, reason: 'unavailable' };
    }
    const offerSdp = buildAudioOffer({
      localAddress: this.options.advertisedAddress,
      localPort: leg.localPort,
      sessionId: Date.now(),
      codecs: AUDIO_CODECS,
      telephoneEventPayloadType: 101,
      comfortNoise: true,
    });
    let call: OutboundCall;
    try {
      call = this.options.sip.dial({ number, trunk: trunk.name, offerSdp });
    } catch (err) {
      leg.close();
      const invalid = err instanceof RangeError && /phone number/.test(err.message);
      logger.info({ err: (err as Error).message }, 'dial-out refused');
      return { ok: false, reason: invalid ? 'invalidNumber' : 'unavailable' };
    }
    const log = logger.child({ callId: call.info.callId });
    log.info({ trunk: trunk.name, number: call.info.number }, 'dial-out ringing');
    return { ok: true, call, leg, log };
  }

  /** Points the leg at the answer's media; false when the answer has no usable audio. */
  private pointLegAt(leg: MediaLeg, remoteSdp: string, log: Logger): boolean {
    const selection = selectAudio(remoteSdp, { supportedCodecs: AUDIO_CODECS });
    if (!selection.ok) {
      log.warn({ reason: selection.reason }, 'dial-out answer not usable');
      return false;
    }
    try {
      leg.setCodec(selection.codec, selection.payloadType);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'dial-out answer codec not usable');
      return false;
    }
    if (MediaEngine.canSendTo(selection.remote.address)) leg.setRemote(selection.remote);
    return true;
  }

  /** A re-INVITE from the far end may move its media. */
  private followMedia(call: OutboundCall, leg: MediaLeg): void {
    call.on('remoteSdp', (sdp) => {
      const moved = selectAudio(sdp, { supportedCodecs: AUDIO_CODECS });
      if (!moved.ok || leg.closed) return;
      try {
        leg.setCodec(moved.codec, moved.payloadType);
      } catch (err) {
        // A payload type clashing with our telephone-event one: keep the old codec.
        this.options.logger.child({ callId: call.info.callId }).warn({ err: (err as Error).message }, 'dial-out codec change refused');
      }
      if (MediaEngine.canSendTo(moved.remote.address)) leg.setRemote(moved.remote);
    });
  }

  /** The callee answered: point the leg at its media and join it to the meeting. */
  private admit(
    call: OutboundCall,
    leg: MediaLeg,
    remoteSdp: string,
    meeting: Meeting,
    invitedBy: Participant | undefined,
    options: InviteOptions,
    log: Logger,
  ): InviteOutcome {
    if (!this.pointLegAt(leg, remoteSdp, log)) return { ok: false, reason: 'unavailable' };
    if (meeting.ended || meeting.locked) {
      log.info({ ended: meeting.ended, locked: meeting.locked }, 'dial-out answered after the meeting closed');
      return { ok: false, reason: 'meetingClosed' };
    }
    const participant = meeting.join({
      callId: call.info.callId,
      role: options.role ?? 'participant',
      accessCode: '',
      caller: call.info.number,
      callee: invitedBy?.callee ?? '',
      leg,
    });
    if (options.customName) participant.customName = options.customName;
    log.info({ participantId: participant.id, meetingNumber: meeting.meetingNumber }, 'dial-out callee joined');
    const hangup = (reason: string): void => {
      if (call.state !== 'ended') call.hangup(reason);
    };
    let keypad: MeetingKeypad | undefined;
    // A last prompt before our BYE (*3): the callee leaves the meeting first, and that must not cut the prompt.
    const farewell = new FarewellHangup({
      leg,
      hangup,
      leaving: () => {
        keypad?.dispose();
        meeting.leave(participant);
      },
      logger: log,
    });
    // The meeting's end (leader left, time up) says goodbye to callees too, as to dial-in callers.
    participant.on('hangupRequested', (reason, kind) => {
      const sounds = kind && call.state !== 'ended' ? this.farewellSounds(meeting, kind, log) : [];
      if (sounds.length > 0) farewell.say(sounds, reason);
      else hangup(reason);
    });
    participant.once('left', () => {
      if (!farewell.started) hangup('meeting ended');
    });
    leg.on('rtpTimeout', () => hangup('RTP timeout'));
    this.followMedia(call, leg);
    call.once('ended', (reason) => {
      log.info({ by: reason.by, cause: reason.cause }, 'dial-out call ended');
      farewell.cancel();
      keypad?.dispose();
      meeting.leave(participant);
      leg.close();
    });
    try {
      keypad = this.attachKeypad(call, leg, meeting, participant, log, (sounds, reason) => {
        if (call.state !== 'ended') farewell.say(sounds, reason);
      });
    } catch (err) {
      // A keypad that cannot be set up (store error) costs the callee the keys, never the call.
      log.error({ err }, 'in-meeting keypad not available for the callee');
    }
    return { ok: true, participant };
  }

  /** The meeting-end prompts in the meeting's language; none without prompts or if the store fails (the callee is hung up without them). */
  private farewellSounds(meeting: Meeting, kind: Farewell, log: Logger): Sound[] {
    const setup = this.options.keypad;
    if (!setup) return [];
    try {
      return setup.prompts.resolve(FAREWELL_PROMPTS[kind], setup.setupFor(meeting).language);
    } catch (err) {
      log.error({ err }, 'farewell prompts not available for the callee');
      return [];
    }
  }

  /** The callee's in-meeting keypad, fed their keys however they send them. */
  private attachKeypad(
    call: OutboundCall,
    leg: MediaLeg,
    meeting: Meeting,
    participant: Participant,
    log: Logger,
    leave: (sounds: Sound[], reason: string) => void,
  ): MeetingKeypad | undefined {
    const setup = this.options.keypad;
    if (!setup) return undefined;
    const { bindings, language } = setup.setupFor(meeting);
    const services = setup.services();
    const keypad = new MeetingKeypad({
      meeting,
      participant,
      leg,
      prompts: { resolve: (names) => setup.prompts.resolve(names, language), tone: (name) => setup.prompts.tone(name) },
      logger: log,
      leave: (prompts: PromptName[], reason: string) => leave(setup.prompts.resolve(prompts, language), reason),
      bindings,
      ...(services ? { services } : {}),
    });
    const digit = (value: string, source: string): void => {
      log.debug({ digit: value, source }, 'DTMF in meeting');
      try {
        keypad.digit(value);
      } catch (err) {
        // A failing command costs the callee that command, never the call.
        log.error({ err }, 'keypad command failed');
      }
    };
    leg.on('dtmf', (event) => digit(event.digit, event.source));
    call.on('infoDtmf', (info) => digit(info.digit, 'sip-info'));
    return keypad;
  }
}

/**
 * The API's attendee call-out (seed 000) over the same dialer: it answers
 * once the INVITE is out, with its Call-ID; the answer and the join show on
 * the event feed.
 */
export function apiDialer(dialer: Pick<Dialer, 'invite'>, conference: Pick<ConferenceManager, 'getMeeting'>): ApiDialer {
  return {
    dial: (request) =>
      new Promise((resolve, reject) => {
        const meeting = conference.getMeeting(request.meetingNumber);
        if (!meeting) {
          reject(new DialError(`meeting ${request.meetingNumber} is not live`));
          return;
        }
        let placed = false;
        void dialer
          .invite(request.number, meeting, undefined, {
            role: request.role,
            customName: request.customName,
            placed: (callId) => {
              placed = true;
              resolve({ callId });
            },
          })
          .then((outcome) => {
            if (!placed) reject(new DialError(`the call could not be placed: ${outcome.ok ? 'unknown' : outcome.reason}`));
          });
      }),
  };
}

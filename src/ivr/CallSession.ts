import type { Logger } from '../log.js';
import type { ConferenceManager } from '../conference/ConferenceManager.js';
import type { Meeting } from '../conference/Meeting.js';
import type { Participant } from '../conference/Participant.js';
import { MeetingLockedError } from '../conference/ConferenceTypes.js';
import { MediaEngine } from '../media/MediaEngine.js';
import type { MediaLeg } from '../media/MediaLeg.js';
import type { DtmfEvent, PlaybackDoneEvent } from '../media/MediaTypes.js';
import type { InboundCall } from '../sip/InboundCall.js';
import { Q850 } from '../sip/InboundCall.js';
import { selectAudio } from '../sip/sdp/index.js';
import type { CallEndReason } from '../sip/SipTypes.js';
import type { ConferenceStore, Did, KeyMatch } from '../store/StoreTypes.js';
import type { AccessCodeAction, AccessCodeFlowOptions, PromptName } from './AccessCodeFlow.js';
import { AccessCodeFlow } from './AccessCodeFlow.js';
import type { KeypadBinding, KeypadOptions } from './KeypadCommands.js';
import { keypadBindingsForRoom } from './keypadAttributes.js';
import type { KeypadServices } from './MeetingKeypad.js';
import { MeetingKeypad } from './MeetingKeypad.js';
import type { PromptLibrary } from './PromptLibrary.js';

export interface CallSessionOptions {
  call: InboundCall;
  leg: MediaLeg;
  /** The phone's offer put the call on hold (sendonly, inactive or c=0.0.0.0). */
  remoteHold: boolean;
  did: Did;
  store: ConferenceStore;
  conference: ConferenceManager;
  prompts: PromptLibrary;
  flow: AccessCodeFlowOptions;
  /** In-meeting keypad: 001's bindings and a 3 s inter-digit pause unless given. */
  keypad?: { bindings?: readonly KeypadBinding[]; options?: Partial<KeypadOptions>; services?: KeypadServices };
  logger: Logger;
}

/**
 * Drives one answered inbound call: runs the access-code dialogue
 * (`AccessCodeFlow`) over the call's media leg and SIP dialog, then puts the
 * caller into the meeting its code opens. It owns the leg and closes it when
 * the call ends, whichever side ends it.
 */
export class CallSession {
  private readonly call: InboundCall;
  private readonly leg: MediaLeg;
  private readonly flow: AccessCodeFlow;
  private readonly logger: Logger;
  private digitTimer: NodeJS.Timeout | undefined;
  private currentPlayback: number | undefined;
  /** The "meeting is locked" prompt; the call is hung up when it ends. */
  private refusalPlayback: number | undefined;
  /** A last prompt (`leaveWith`) and the reason to hang up with once it ends. */
  private lastWords: { playbackId: number; reason: string } | undefined;
  private match: KeyMatch | undefined;
  private meeting: Meeting | undefined;
  private participant: Participant | undefined;
  private keypad: MeetingKeypad | undefined;
  private finished = false;
  private remoteHold: boolean;

  constructor(private readonly options: CallSessionOptions) {
    this.call = options.call;
    this.leg = options.leg;
    this.logger = options.logger;
    this.remoteHold = options.remoteHold;
    this.flow = new AccessCodeFlow(options.flow);
    this.leg.on('dtmf', (event) => this.guard(() => this.onDtmf(event)));
    this.leg.on('playbackDone', (event) => this.guard(() => this.onPlaybackDone(event)));
    this.leg.on('rtpTimeout', () => this.onRtpTimeout());
    this.call.on('infoDtmf', (info) =>
      this.guard(() => this.onDtmf({ digit: info.digit, source: 'sip-info', durationMs: info.durationMs })),
    );
    this.call.on('remoteSdp', (sdp) => this.guard(() => this.onRemoteSdp(sdp)));
    this.call.once('ended', (reason) => this.onEnded(reason));
  }

  start(): void {
    this.guard(() => {
      this.applyPhoneHold();
      this.run(this.flow.handle({ type: 'start' }));
    });
  }

  /**
   * While the phone holds the bridge we send nothing (our answer said
   * recvonly/inactive) and its audio, usually its own music on hold, is kept
   * out of the room.
   */
  private applyPhoneHold(): void {
    this.leg.setSending(!this.remoteHold);
    if (this.meeting && this.participant && this.participant.phoneHold !== this.remoteHold) {
      this.meeting.updateParticipant(this.participant, { phoneHold: this.remoteHold });
    }
  }

  /**
   * Runs one step of the session. A failure inside (store, media) must not
   * leave the caller in silence on a dead flow: it is logged with the call
   * id and the call is hung up with a temporary-failure cause.
   */
  private guard(step: () => void): void {
    try {
      step();
    } catch (err) {
      this.logger.error({ err }, 'call flow failed, hanging up');
      if (!this.finished) this.call.hangup('internal error', Q850.TEMPORARY_FAILURE);
    }
  }

  private onDtmf(event: DtmfEvent): void {
    // Inside the meeting, digits are keypad commands.
    if (this.keypad) {
      this.logger.debug({ digit: event.digit, source: event.source }, 'DTMF in meeting');
      this.keypad.digit(event.digit);
      return;
    }
    if (this.participant || this.refusalPlayback !== undefined) return;
    this.logger.info({ digit: event.digit, source: event.source }, 'DTMF');
    this.run(this.flow.handle({ type: 'digit', digit: event.digit }));
  }

  /** A re-INVITE or UPDATE offer: follow media that moved, and note hold. */
  private onRemoteSdp(sdp: string): void {
    const selection = selectAudio(sdp, { supportedCodecs: [this.leg.codec] });
    if (!selection.ok) {
      this.logger.warn({ reason: selection.reason }, 'new offer not usable, media unchanged');
      return;
    }
    this.remoteHold = selection.hold;
    const { address, port } = selection.remote;
    const current = this.leg.remote;
    if (MediaEngine.canSendTo(address) && (current?.address !== address || current.port !== port)) {
      this.leg.setRemote({ address, port });
    }
    this.applyPhoneHold();
    this.logger.info({ hold: selection.hold, remote: `${address}:${port}` }, 'media renegotiated');
  }

  private onRtpTimeout(): void {
    // A phone that holds us may legitimately send nothing until it resumes.
    if (this.remoteHold) {
      this.logger.info('no RTP while the phone holds the call');
      return;
    }
    this.logger.warn('RTP timeout, hanging up');
    this.call.hangup('RTP timeout', Q850.RECOVERY_ON_TIMER_EXPIRY);
  }

  private onPlaybackDone(event: PlaybackDoneEvent): void {
    if (event.playbackId === this.lastWords?.playbackId) {
      const { reason } = this.lastWords;
      this.lastWords = undefined;
      if (!this.finished) this.call.hangup(reason);
      return;
    }
    if (event.playbackId === this.refusalPlayback) {
      this.refusalPlayback = undefined;
      this.call.hangup('meeting locked');
      return;
    }
    // A stopped playback reports too; only the one the flow waits for counts.
    if (event.playbackId !== this.currentPlayback) return;
    this.currentPlayback = undefined;
    this.run(this.flow.handle({ type: 'promptDone', interrupted: event.interrupted }));
  }

  private run(actions: AccessCodeAction[]): void {
    for (const action of actions) {
      if (this.finished) return;
      this.perform(action);
    }
  }

  private perform(action: AccessCodeAction): void {
    switch (action.type) {
      case 'play':
        this.currentPlayback = this.leg.play(this.options.prompts.resolve(action.prompts), {
          interruptibleByDtmf: action.interruptible,
        });
        return;
      case 'stopPrompt':
        this.currentPlayback = undefined;
        this.leg.stopPlayback();
        return;
      case 'startDigitTimer':
        this.clearDigitTimer();
        this.digitTimer = setTimeout(() => {
          this.digitTimer = undefined;
          this.run(this.flow.handle({ type: 'digitTimeout' }));
        }, action.ms);
        return;
      case 'cancelDigitTimer':
        this.clearDigitTimer();
        return;
      case 'checkCode':
        this.match = this.options.store.findKey(this.options.did.didGroupId, action.code);
        this.logger.info({ accepted: this.match !== undefined, attempt: this.flow.failedAttempts + 1 }, 'access code entered');
        this.run(this.flow.handle({ type: this.match ? 'codeAccepted' : 'codeRejected' }));
        return;
      case 'join':
        this.join(action.code);
        return;
      case 'hangup':
        this.logger.info({ reason: action.reason }, 'hanging up');
        this.call.hangup('too many invalid access codes');
        return;
    }
  }

  private join(accessCode: string): void {
    const match = this.match!;
    let joined: { meeting: Meeting; participant: Participant };
    try {
      joined = this.options.conference.join(match.meetingRoom, {
        callId: this.call.info.callId,
        role: match.key.role,
        accessCode,
        caller: this.call.info.from.user,
        callee: this.options.did.phoneNumber,
        leg: this.leg,
      });
    } catch (err) {
      if (!(err instanceof MeetingLockedError)) throw err;
      // A locked meeting admits hosts only: tell the caller, then hang up.
      this.logger.info({ meetingNumber: match.meetingRoom.meetingNumber, role: match.key.role }, 'meeting locked, caller refused');
      this.refusalPlayback = this.leg.play(this.options.prompts.resolve(['conf-locked']), { interruptibleByDtmf: false });
      return;
    }
    const { meeting, participant } = joined;
    this.meeting = meeting;
    this.participant = participant;
    this.applyPhoneHold();
    participant.on('hangupRequested', (reason) => {
      if (!this.finished) this.call.hangup(reason);
    });
    // The meeting may end under the caller (ended by an operator): hang up then.
    participant.once('left', () => {
      if (!this.finished) this.call.hangup('meeting ended');
    });
    this.keypad = new MeetingKeypad({
      meeting,
      participant,
      leg: this.leg,
      prompts: this.options.prompts,
      logger: this.logger,
      leave: (prompts, reason) => this.leaveWith(prompts, reason),
      bindings: this.options.keypad?.bindings ?? keypadBindingsForRoom(this.options.store, this.options.did.didGroupId, match.meetingRoom, this.logger),
      ...(this.options.keypad?.options ? { keypad: this.options.keypad.options } : {}),
      ...(this.options.keypad?.services ? { services: this.options.keypad.services } : {}),
    });
  }

  /** Plays a last prompt, then hangs up (the keypad's exit). */
  private leaveWith(prompts: PromptName[], reason: string): void {
    if (this.finished || this.lastWords) return;
    this.lastWords = { playbackId: this.leg.play(this.options.prompts.resolve(prompts), { interruptibleByDtmf: false }), reason };
  }

  private onEnded(reason: CallEndReason): void {
    if (this.finished) return;
    this.finished = true;
    this.clearDigitTimer();
    this.keypad?.dispose();
    this.logger.debug({ by: reason.by, cause: reason.cause, state: this.flow.state }, 'call session finished');
    if (this.meeting && this.participant) this.meeting.leave(this.participant);
    this.leg.close();
  }

  private clearDigitTimer(): void {
    if (this.digitTimer) clearTimeout(this.digitTimer);
    this.digitTimer = undefined;
  }
}

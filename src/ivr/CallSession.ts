import type { Logger } from '../log.js';
import type { ConferenceManager } from '../conference/ConferenceManager.js';
import type { ChangeSource, JoinPolicy, MeetingNotice } from '../conference/ConferenceTypes.js';
import { MeetingFullError, MeetingLockedError } from '../conference/ConferenceTypes.js';
import type { Meeting } from '../conference/Meeting.js';
import type { Farewell } from '../conference/MeetingLifecycle.js';
import { admissionLimitsFrom, entryStateFor, meetingRulesFrom, qaPolicyFrom } from '../conference/MeetingRules.js';
import type { Participant } from '../conference/Participant.js';
import type { Role } from '../conference/Role.js';
import type { ResolvedAttributes } from '../conference/attributes/ResolvedAttributes.js';
import { resolveAttributes, resolveMeetingAttributes } from '../conference/attributes/ResolvedAttributes.js';
import { MediaEngine } from '../media/MediaEngine.js';
import type { MediaLeg } from '../media/MediaLeg.js';
import type { MediaRoom } from '../media/MediaRoom.js';
import type { Sound } from '../media/Sound.js';
import type { DtmfEvent, PlaybackDoneEvent } from '../media/MediaTypes.js';
import type { InboundCall } from '../sip/InboundCall.js';
import { Q850 } from '../sip/InboundCall.js';
import { AUDIO_CODECS, selectAudio } from '../sip/sdp/index.js';
import type { CallEndReason } from '../sip/SipTypes.js';
import type { ConferenceStore, Did, KeyMatch } from '../store/StoreTypes.js';
import type { AccessCodeAction, AccessCodeFlowOptions, PromptName } from './AccessCodeFlow.js';
import { AccessCodeFlow } from './AccessCodeFlow.js';
import type { DialedCall, OperatorRoute } from './Dialer.js';
import { FarewellHangup } from './FarewellHangup.js';
import type { RoomPins } from './entrySteps.js';
import { accessCodeAttempts, ENTRY_PROMPTS, entryPrompts, FAREWELL_PROMPTS, roleForPin, roomPins } from './entrySteps.js';
import type { KeypadBinding, KeypadOptions } from './KeypadCommands.js';
import { keypadBindingsForRoom } from './keypadAttributes.js';
import type { KeypadServices } from './MeetingKeypad.js';
import { MeetingKeypad } from './MeetingKeypad.js';
import type { NameDirectory } from './NameDirectory.js';
import { NameRecorder } from './NameRecorder.js';
import type { NameRecordingLimits } from './NameRecordingFlow.js';
import { rollCallPlan, rollCallSuffix } from './rollCall.js';
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
  /**
   * The digit dialogue's defaults (config `ivr`); the attributes refine
   * them per call (call_operator_after, dnis_welcomeprompt). Its prompts are
   * those of the access code.
   */
  flow: AccessCodeFlowOptions;
  /** Where callers go after too many wrong codes; without it they hear goodbye. */
  operator?: OperatorRoute;
  /** In-meeting keypad: 001's bindings and a 3 s inter-digit pause unless given. */
  keypad?: { bindings?: readonly KeypadBinding[]; options?: Partial<KeypadOptions>; services?: KeypadServices };
  /** Roll call's means (names directory, private rooms, loading a name); without them nobody is asked for a name. */
  rollCall?: RollCallServices;
  logger: Logger;
}

/** What roll call needs beyond the call itself. */
export interface RollCallServices {
  names: NameDirectory;
  createRoom: () => MediaRoom;
  loadSound: (path: string) => Sound;
  limits?: NameRecordingLimits;
}

/** The digit dialogues, in the order a caller meets them. */
type DialogueStage = 'code' | 'pin' | 'jobCode';

/**
 * Drives one answered inbound call: greets the caller, runs the access
 * code, PIN and job code dialogues (`AccessCodeFlow` each) over the call's
 * media leg and SIP dialog, reads the call's attributes (per call, from the
 * store), puts the caller into the meeting with their role's entry state,
 * tells them where they are, and ends the call with its last words
 * (`leaveWith`) whatever ends it: a refusal, a time limit, the meeting's
 * end. It owns the leg and closes it when the call ends, whichever side
 * ends it.
 */
export class CallSession {
  private readonly call: InboundCall;
  private readonly leg: MediaLeg;
  private readonly logger: Logger;
  private readonly answeredAt = Date.now();
  private stage: DialogueStage = 'code';
  private flow: AccessCodeFlow;
  private attributes: ResolvedAttributes;
  private language: string;
  private digitTimer: NodeJS.Timeout | undefined;
  private callTimer: NodeJS.Timeout | undefined;
  private currentPlayback: number | undefined;
  /** The last prompts before hanging up (leaveWith); the call ends when they do. */
  private readonly farewell: FarewellHangup;
  private match: KeyMatch | undefined;
  private role: Role | undefined;
  private pins: RoomPins | undefined;
  private jobCode: string | undefined;
  private meeting: Meeting | undefined;
  private participant: Participant | undefined;
  private keypad: MeetingKeypad | undefined;
  private operator: { room?: MediaRoom; callee?: DialedCall } | undefined;
  private finished = false;
  /** Roll call: the dialogue recording the caller's name, then the name itself (absent when none was said). */
  private nameRecorder: NameRecorder | undefined;
  private nameDirectory: string | undefined;
  /** Resolves once the engine has closed the name recorder's files: the directory goes after. */
  private nameFilesClosed: Promise<void> | undefined;
  private callerName: Sound | undefined;
  private remoteHold: boolean;

  constructor(private readonly options: CallSessionOptions) {
    this.call = options.call;
    this.leg = options.leg;
    this.logger = options.logger;
    this.remoteHold = options.remoteHold;
    this.farewell = new FarewellHangup({
      leg: this.leg,
      hangup: (reason) => {
        if (!this.finished) this.call.hangup(reason);
      },
      leaving: () => this.stopEverything(),
      logger: this.logger,
    });
    this.attributes = resolveAttributes({ store: options.store, did: options.did, logger: options.logger });
    this.language = this.attributes.text('conference_language', 'EN');
    const welcome = this.attributes.text('dnis_welcomeprompt').trim();
    const operatorReady = options.operator !== undefined && options.operator.number !== '';
    this.flow = new AccessCodeFlow({
      ...options.flow,
      maxAttempts: accessCodeAttempts(this.attributes, options.flow.maxAttempts),
      prompts: { ...options.flow.prompts, transfer: ENTRY_PROMPTS.transfer },
      ...(welcome !== '' ? { welcome: [welcome] } : {}),
      exhausted: operatorReady ? 'operator' : 'goodbye',
    });
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
      this.armCallLimit();
      this.run(this.flow.handle({ type: 'start' }));
    });
  }

  /**
   * Plays `prompts` (in the caller's language, not interruptible), then
   * hangs up with `reason`. The caller leaves the meeting at once, so the
   * others stop hearing them and the counts are right; keys are ignored
   * from now on. The one way every refusal, time limit and goodbye ends a
   * call. Calling it again while leaving changes nothing.
   */
  leaveWith(prompts: PromptName[], reason: string): void {
    if (this.finished || this.leaving) return;
    this.logger.info({ reason, prompts }, 'leaving with a last prompt');
    const sounds = prompts.length === 0 || this.leg.closed ? [] : this.options.prompts.resolve(prompts, this.language);
    this.farewell.say(sounds, reason);
  }

  /** Leaving (a farewell started) or gone: keys, prompts and the dialogue no longer act. */
  private get leaving(): boolean {
    return this.farewell.started;
  }

  /** The farewell starts: stop the dialogue and timers, the keypad, the name recording, and leave the meeting or the operator. */
  private stopEverything(): void {
    this.clearDigitTimer();
    this.clearCallTimer();
    this.keypad?.dispose();
    this.keypad = undefined;
    this.stopNameRecording();
    this.currentPlayback = undefined;
    this.leaveMeeting();
    this.endOperatorBridge();
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
    if (this.leaving) return;
    if (this.nameRecorder) {
      this.nameRecorder.digit(event.digit);
      return;
    }
    // Inside the meeting, digits are keypad commands.
    if (this.keypad) {
      this.logger.debug({ digit: event.digit, source: event.source }, 'DTMF in meeting');
      this.keypad.digit(event.digit);
      return;
    }
    if (this.participant || this.operator) return;
    this.logger.info({ digit: event.digit, source: event.source, stage: this.stage }, 'DTMF');
    this.run(this.flow.handle({ type: 'digit', digit: event.digit }));
  }

  /** A re-INVITE or UPDATE offer, or the answer to our offer: follow media that moved or changed codec, and note hold. */
  private onRemoteSdp(sdp: string): void {
    // The same choice as the SIP layer's answer (renegotiateAudio over AUDIO_CODECS).
    const selection = selectAudio(sdp, { supportedCodecs: AUDIO_CODECS });
    if (!selection.ok) {
      this.logger.warn({ reason: selection.reason }, 'new offer not usable, media unchanged');
      return;
    }
    this.remoteHold = selection.hold;
    try {
      this.leg.setCodec(selection.codec, selection.payloadType);
    } catch (err) {
      // A codec payload type clashing with our telephone-event one: keep the old codec.
      this.logger.warn({ err: (err as Error).message, codec: selection.codec }, 'codec change refused');
    }
    const { address, port } = selection.remote;
    const current = this.leg.remote;
    if (MediaEngine.canSendTo(address) && (current?.address !== address || current.port !== port)) {
      this.leg.setRemote({ address, port });
    }
    this.applyPhoneHold();
    this.logger.info({ hold: selection.hold, remote: `${address}:${port}`, codec: selection.codec }, 'media renegotiated');
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
    // The farewell's end is FarewellHangup's. A stopped playback reports too; only the one the flow waits for counts.
    if (event.playbackId !== this.currentPlayback) return;
    this.currentPlayback = undefined;
    this.run(this.flow.handle({ type: 'promptDone', interrupted: event.interrupted }));
  }

  private run(actions: AccessCodeAction[]): void {
    for (const action of actions) {
      if (this.finished || this.leaving) return;
      this.perform(action);
    }
  }

  private play(prompts: PromptName[], interruptible: boolean): number {
    return this.leg.play(this.options.prompts.resolve(prompts, this.language), { interruptibleByDtmf: interruptible });
  }

  private perform(action: AccessCodeAction): void {
    switch (action.type) {
      case 'play':
        this.currentPlayback = this.play(action.prompts, action.interruptible);
        return;
      case 'stopPrompt':
        this.currentPlayback = undefined;
        this.leg.stopPlayback();
        return;
      case 'startDigitTimer':
        this.clearDigitTimer();
        this.digitTimer = setTimeout(() => {
          this.digitTimer = undefined;
          this.guard(() => this.run(this.flow.handle({ type: 'digitTimeout' })));
        }, action.ms);
        return;
      case 'cancelDigitTimer':
        this.clearDigitTimer();
        return;
      case 'checkCode':
        this.run(this.flow.handle({ type: this.check(action.code) ? 'codeAccepted' : 'codeRejected' }));
        return;
      case 'accepted':
        this.next();
        return;
      case 'hangup':
        this.logger.info({ reason: action.reason, stage: this.stage }, 'hanging up');
        this.call.hangup(this.stage === 'code' ? 'too many invalid access codes' : `too many invalid entries (${this.stage})`);
        return;
      case 'operator':
        void this.transferToOperator();
        return;
    }
  }

  /** Checks what the caller typed in the current dialogue. */
  private check(entered: string): boolean {
    switch (this.stage) {
      case 'code': {
        this.match = this.options.store.findKey(this.options.did.didGroupId, entered);
        this.logger.info({ accepted: this.match !== undefined, attempt: this.flow.failedAttempts + 1 }, 'access code entered');
        return this.match !== undefined;
      }
      case 'pin': {
        const role = roleForPin(entered, this.pins!, this.match!.key.role);
        // Never log the PIN itself.
        this.logger.info({ accepted: role !== undefined, role, attempt: this.flow.failedAttempts + 1 }, 'PIN entered');
        if (role) this.role = role;
        return role !== undefined;
      }
      case 'jobCode':
        this.jobCode = entered;
        this.logger.info({ jobCode: entered }, 'job code entered');
        return true;
    }
  }

  /** The dialogue in progress succeeded: on to the next one, or into the meeting. */
  private next(): void {
    if (this.stage === 'code') {
      const match = this.match!;
      this.role = match.key.role;
      // The room is known now: its attributes join the DID's, read afresh.
      this.attributes = resolveAttributes({ store: this.options.store, did: this.options.did, room: match.meetingRoom, logger: this.logger });
      this.language = this.attributes.text('conference_language', 'EN');
      this.armCallLimit();
      this.pins = roomPins(this.attributes);
      if (this.pins) return this.ask('pin', ENTRY_PROMPTS.enterPin, ENTRY_PROMPTS.invalidPin);
    }
    if (this.stage !== 'jobCode' && this.attributes.isOn('call_jobcodeonenter')) {
      return this.ask('jobCode', ENTRY_PROMPTS.enterJobCode, ENTRY_PROMPTS.invalidJobCode);
    }
    this.recordNameThenJoin();
  }

  /**
   * Roll call: a room that announces names has the caller say theirs
   * before joining (NameRecorder); a caller who says nothing joins all the
   * same, unannounced.
   */
  private recordNameThenJoin(): void {
    const services = this.options.rollCall;
    if (!services || !rollCallPlan(this.attributes).recordName) return this.join();
    // A locked meeting refuses non-hosts at once: asking them their name first would be in vain.
    const live = this.options.conference.getMeeting(this.match!.meetingRoom.meetingNumber);
    if (live?.locked && (this.role ?? this.match!.key.role) !== 'host') return this.join();
    try {
      this.nameDirectory = services.names.forCall();
    } catch (err) {
      // No room for a name costs the caller their announcement, never their call.
      this.logger.error({ err }, 'no directory for the caller name, joining unannounced');
      return this.join();
    }
    const prompts = this.options.prompts;
    const language = this.language;
    const recorder = new NameRecorder({
      leg: this.leg,
      createRoom: services.createRoom,
      directory: this.nameDirectory,
      prompts: (names) => prompts.resolve(names, language),
      loadSound: services.loadSound,
      logger: this.logger,
      ...(services.limits ? { limits: services.limits } : {}),
    });
    this.nameRecorder = recorder;
    this.nameFilesClosed = recorder.filesClosed();
    recorder.start((name) =>
      this.guard(() => {
        this.nameRecorder = undefined;
        this.callerName = name;
        if (!name) this.logger.info('no name recorded, joining unannounced');
        if (!this.finished && !this.leaving) this.join();
      }),
    );
  }

  /**
   * "<name> has joined" / "has left" to the whole meeting, when the caller
   * left a name and the meeting wants it: the onenter/onexit switches are
   * meeting-wide (rollCallPlan), read now from the live meeting's room so an
   * API change during the meeting applies to the next announcement.
   */
  private announceName(meeting: Meeting, event: 'enter' | 'exit'): void {
    if (!this.callerName) return;
    if (meeting.ended || meeting.participants.length === 0) return;
    try {
      const plan = rollCallPlan(this.attributes, resolveMeetingAttributes({ store: this.options.store, room: meeting.room, logger: this.logger }));
      if (!(event === 'enter' ? plan.announceEnter : plan.announceExit)) return;
      meeting.announce([this.callerName, ...this.options.prompts.resolve([rollCallSuffix(event)], this.language)]);
    } catch (err) {
      // A name that cannot be played costs the meeting the announcement, never the caller the call.
      this.logger.warn({ err, event }, 'roll-call announcement failed');
    }
  }

  private stopNameRecording(): void {
    this.nameRecorder?.dispose();
    this.nameRecorder = undefined;
  }

  private ask(stage: DialogueStage, enter: PromptName, invalid: PromptName): void {
    this.stage = stage;
    this.flow = new AccessCodeFlow({
      digitTimeoutMs: this.options.flow.digitTimeoutMs,
      maxAttempts: this.options.flow.maxAttempts,
      maxCodeLength: this.options.flow.maxCodeLength,
      prompts: { enterCode: enter, invalidCode: invalid, goodbye: ENTRY_PROMPTS.goodbye },
    });
    this.run(this.flow.handle({ type: 'start' }));
  }

  private join(): void {
    const match = this.match!;
    const role = this.role ?? match.key.role;
    // Meeting-wide rules come from the room and its primary DID group, never
    // the dialed DID: the meeting is the same whoever starts or joins it.
    const meetingWide = resolveMeetingAttributes({ store: this.options.store, room: match.meetingRoom, logger: this.logger });
    const policy: JoinPolicy = {
      rules: meetingRulesFrom(meetingWide),
      limits: admissionLimitsFrom(meetingWide),
      joinNotifications: meetingWide.isOn('conference_entrytones') || meetingWide.isOn('conference_exittones'),
      ...qaPolicyFrom(meetingWide),
    };
    let joined: ReturnType<ConferenceManager['join']>;
    try {
      joined = this.options.conference.join(
        match.meetingRoom,
        {
          callId: this.call.info.callId,
          role,
          accessCode: match.key.accessCode,
          caller: this.call.info.from.user,
          callee: this.options.did.phoneNumber,
          leg: this.leg,
          entry: entryStateFor(role, this.attributes),
          ...(this.jobCode !== undefined ? { jobCode: this.jobCode } : {}),
        },
        policy,
      );
    } catch (err) {
      const refusal = err instanceof MeetingLockedError ? 'locked' : err instanceof MeetingFullError ? 'full' : undefined;
      if (!refusal) throw err;
      // A locked meeting admits hosts only; a full one nobody.
      this.logger.info({ meetingNumber: match.meetingRoom.meetingNumber, role, refusal }, `meeting ${refusal}, caller refused`);
      this.leaveWith([ENTRY_PROMPTS[refusal], ENTRY_PROMPTS.goodbye], `meeting ${refusal}`);
      return;
    }
    const { meeting, participant, waiting } = joined;
    this.meeting = meeting;
    this.participant = participant;
    this.applyPhoneHold();
    participant.on('hangupRequested', (reason, farewell) => this.guard(() => this.onHangupRequested(reason, farewell)));
    participant.on('notice', (notice) => this.guard(() => this.onNotice(notice)));
    participant.on('holdChanged', (held, by) => this.guard(() => this.signalHold(held, by)));
    // The meeting may end under the caller (ended by an operator): hang up then.
    participant.once('left', () => {
      this.announceName(meeting, 'exit');
      if (!this.finished && !this.leaving) this.call.hangup('meeting ended');
    });
    this.announceName(meeting, 'enter');
    const language = this.language;
    const prompts = this.options.prompts;
    this.keypad = new MeetingKeypad({
      meeting,
      participant,
      leg: this.leg,
      // Keypad confirmations in the caller's language too.
      prompts: { resolve: (names) => prompts.resolve(names, language), tone: (name) => prompts.tone(name) },
      logger: this.logger,
      leave: (prompts, reason) => this.leaveWith(prompts, reason),
      bindings: this.options.keypad?.bindings ?? keypadBindingsForRoom(this.options.store, this.options.did.didGroupId, match.meetingRoom, this.attributes, this.logger),
      ...(this.options.keypad?.options ? { keypad: this.options.keypad.options } : {}),
      ...(this.options.keypad?.services ? { services: this.options.keypad.services } : {}),
    });
    const others = meeting.participants.length - 1;
    const greeting = entryPrompts({ waiting, others, announceCount: this.attributes.allows('call_announceparticipantcount', role) });
    this.logger.info({ meetingNumber: meeting.meetingNumber, role, waiting, others, muted: participant.muted, held: participant.held }, 'caller in the meeting');
    if (greeting.length > 0) this.play(greeting, true);
  }

  /**
   * An operator's hold (the API's holdMode) shows in the signalling too: a
   * re-INVITE with a=sendonly while the caller hears music, sendrecv again
   * after (RFC 3264 §8.4), so the carrier and the phone know. Meeting-wide
   * holds (*96, the API's meeting hold) and entry policies stay media-only:
   * they come and go with the meeting and would only add re-INVITE churn.
   */
  private signalHold(held: boolean, by: ChangeSource): void {
    if (by !== 'operator' || this.finished || held === this.call.heldByUs) return;
    if (held && this.meeting?.held) return;
    void (held ? this.call.hold() : this.call.resume()).then((result) => {
      if (!result.ok) this.logger.info({ held, status: result.status, reason: result.reason }, 'hold re-INVITE not accepted');
    });
  }

  private onHangupRequested(reason: string, farewell: Farewell | undefined): void {
    if (this.finished) return;
    if (farewell) this.leaveWith(FAREWELL_PROMPTS[farewell], reason);
    else this.call.hangup(reason);
  }

  private onNotice(notice: MeetingNotice): void {
    if (this.finished || this.leaving || this.leg.closed) return;
    this.play([notice === 'leaderLeft' ? ENTRY_PROMPTS.leaderLeft : ENTRY_PROMPTS.started], true);
  }

  /** call_maxduration, counted from the answer; re-armed when the room's attributes are known. */
  private armCallLimit(): void {
    this.clearCallTimer();
    const seconds = this.attributes.integer('call_maxduration', -1);
    if (seconds <= 0) return;
    const remaining = Math.max(0, seconds * 1000 - (Date.now() - this.answeredAt));
    this.callTimer = setTimeout(() => this.guard(() => this.leaveWith(FAREWELL_PROMPTS.timeUp, 'call max duration reached')), remaining);
  }

  /**
   * After too many wrong codes: calls the operator and bridges the caller
   * to them in a private room. The caller hears music until the operator
   * answers, goodbye if they do not.
   */
  private async transferToOperator(): Promise<void> {
    const route = this.options.operator!;
    this.operator = {};
    this.logger.info({ operator: route.number }, 'transferring to the operator');
    this.leg.hold(this.options.prompts.musicOnHold());
    let callee: DialedCall;
    try {
      callee = await route.dialer.dial(route.number, { callId: this.call.info.callId, caller: this.call.info.from.user });
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'operator not reached');
      this.guard(() => this.leaveWith([ENTRY_PROMPTS.goodbye], 'operator not reached'));
      return;
    }
    if (this.finished || this.leaving) {
      callee.hangup('caller left');
      return;
    }
    this.guard(() => {
      this.operator = { callee };
      callee.onEnded(() => {
        if (!this.finished) this.call.hangup('operator hung up');
      });
      const room = route.createRoom();
      this.operator.room = room;
      this.leg.unhold();
      this.leg.join(room);
      callee.leg.join(room);
      this.logger.info('caller bridged to the operator');
    });
  }

  private endOperatorBridge(): void {
    if (!this.operator) return;
    this.operator.callee?.hangup('caller left');
    if (this.operator.room && !this.operator.room.closed) this.operator.room.close();
    this.operator = undefined;
  }

  private leaveMeeting(): void {
    if (this.meeting && this.participant) this.meeting.leave(this.participant);
  }

  private onEnded(reason: CallEndReason): void {
    if (this.finished) return;
    this.finished = true;
    this.clearDigitTimer();
    this.clearCallTimer();
    this.farewell.cancel();
    this.keypad?.dispose();
    this.stopNameRecording();
    // After the recorder's files are closed by the engine, not while it may still write them.
    if (this.nameDirectory) this.options.rollCall?.names.remove(this.nameDirectory, this.nameFilesClosed);
    this.logger.debug({ by: reason.by, cause: reason.cause, stage: this.stage, state: this.flow.state }, 'call session finished');
    this.leaveMeeting();
    this.endOperatorBridge();
    this.leg.close();
  }

  private clearDigitTimer(): void {
    if (this.digitTimer) clearTimeout(this.digitTimer);
    this.digitTimer = undefined;
  }

  private clearCallTimer(): void {
    if (this.callTimer) clearTimeout(this.callTimer);
    this.callTimer = undefined;
  }
}

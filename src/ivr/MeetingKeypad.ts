import type { Logger } from '../log.js';
import type { ChangeSource } from '../conference/ConferenceTypes.js';
import type { Meeting } from '../conference/Meeting.js';
import type { Participant } from '../conference/Participant.js';
import { roleCanSpeak } from '../conference/Role.js';
import type { MediaLeg } from '../media/MediaLeg.js';
import type { PromptName } from './AccessCodeFlow.js';
import type { KeypadAction, KeypadBinding, KeypadCommand, KeypadOptions } from './KeypadCommands.js';
import { defaultKeypadBindings, KeypadCommands } from './KeypadCommands.js';
import type { Dialer, InviteOutcome } from './Dialer.js';
import { helpMenuPrompts } from './keypadHelp.js';
import type { PromptLibrary } from './PromptLibrary.js';
import { sayNumber } from './sayNumber.js';

export interface MeetingKeypadOptions {
  meeting: Meeting;
  participant: Participant;
  leg: MediaLeg;
  prompts: Pick<PromptLibrary, 'resolve' | 'tone'>;
  logger: Logger;
  /** Plays these prompts to the caller, then hangs up (`CallSession.leaveWith`); the call flow does it. */
  leave(prompts: PromptName[], reason: string): void;
  bindings?: readonly KeypadBinding[];
  keypad?: Partial<KeypadOptions>;
  /** What other parts carry out; a command whose service is missing answers with the error tone. */
  services?: KeypadServices;
}

/** The keypad's ports to the rest of the server, wired by the application. */
export interface KeypadServices {
  /** `*8`: calls a number and joins the callee to the meeting. */
  dialer?: Pick<Dialer, 'invite'>;
  /** `recording_dtmf`: the meeting recorder. */
  recording?: RecordingControl;
  /** `call_operator_dtmf`: a caller asks for an operator (an API event, a transfer). */
  operatorRequested?(meeting: Meeting, participant: Participant): void;
  /** `conference_schedule_extend_dtmf`: extends the meeting's schedule; false when it cannot be. */
  extendSchedule?(meeting: Meeting, by: Participant): boolean;
  /** `polling_dtmf`: starts a polling vote. */
  pollingRequested?(meeting: Meeting, by: Participant): void;
  /**
   * `conference_entryexittones_dtmf`: the meeting's entry and exit tones
   * apart. Without it the keypad switches both together (join notifications).
   */
  entryExitTones?: EntryExitTonesControl;
  /**
   * Every sequence the caller completed, carried out or not, after the
   * keypad acted on it (the event feed reports it as `keypad-command`).
   */
  commandCarriedOut?(report: KeypadCommandReport): void;
}

/**
 * How a completed sequence ended: `done` (carried out; for `*8`, the call
 * is placed), `refused` (not possible now, e.g. `*98` without Q&A),
 * `denied` (not for the caller's role), `unavailable` (no service for it
 * here), `unknown` (bound to nothing, or cut by the inter-digit pause).
 */
export type KeypadOutcome = 'done' | 'refused' | 'denied' | 'unavailable' | 'unknown';

export interface KeypadCommandReport {
  meeting: Meeting;
  participant: Participant;
  /** The bound command; null when the sequence is bound to nothing. */
  command: KeypadCommand | null;
  /** The keys as pressed, e.g. `*92` (`*8` without the number dialed after it). */
  sequence: string;
  outcome: KeypadOutcome;
}

export interface RecordingControl {
  isRecording(meeting: Meeting): boolean;
  /**
   * Asks the recorder to start or stop; the keypad confirms to the caller
   * with a tone, or answers a refusal (recording off, role not allowed)
   * with the error tone. The recorder tells the whole meeting itself
   * ("conf-now-recording") when a recording starts.
   */
  recordingRequested(meeting: Meeting, action: 'start' | 'stop', by: Participant): { ok: boolean; reason?: string };
}

export interface EntryExitTones {
  entry: boolean;
  exit: boolean;
}

export interface EntryExitTonesControl {
  get(meeting: Meeting): EntryExitTones;
  set(meeting: Meeting, tones: EntryExitTones): void;
}

/** Seed 004's cycle of entry:exit tones: ON:ON, ON:OFF, OFF:ON, OFF:OFF, then ON:ON again. */
export function nextEntryExitTones(current: EntryExitTones): EntryExitTones {
  if (current.entry && current.exit) return { entry: true, exit: false };
  if (current.entry) return { entry: false, exit: true };
  if (current.exit) return { entry: false, exit: false };
  return { entry: true, exit: true };
}

export const DEFAULT_KEYPAD_OPTIONS: KeypadOptions = { interDigitTimeoutMs: 3000, maxNumberLength: 15 };

/**
 * The in-meeting keypad of one caller: feeds the caller's digits to the
 * pure `KeypadCommands` recognizer with the caller's current role, runs its
 * inter-digit timer, carries out the commands through the `Meeting`, and
 * tells the caller what happened: a prompt confirms each command, the
 * error tone answers a denied, unknown or unavailable one. What other parts
 * own (dial-out, recording, operator, schedule, polling, separate entry and
 * exit tones) goes through the `KeypadServices` ports; leaving goes through
 * the call flow's `leave`. It also announces to this caller the changes
 * others make to them (a host's mute all, Q&A, an operator's mute).
 */
export class MeetingKeypad {
  private readonly recognizer: KeypadCommands;
  private readonly bindings: readonly KeypadBinding[];
  private readonly keypadOptions: KeypadOptions;
  private timer: NodeJS.Timeout | undefined;
  /** Set once `*3` asked the call flow to say goodbye and hang up. */
  private leaving = false;
  private disposed = false;
  /** Set while a `*8` invitation rings: one at a time per caller. */
  private inviting = false;
  private readonly onMuteChanged = (muted: boolean, by: ChangeSource): void => this.guard(() => this.announceMute(muted, by));

  constructor(private readonly options: MeetingKeypadOptions) {
    this.keypadOptions = { ...DEFAULT_KEYPAD_OPTIONS, ...options.keypad };
    this.bindings = options.bindings ?? defaultKeypadBindings({ muteNonModerator: false });
    this.recognizer = new KeypadCommands(this.bindings, this.keypadOptions);
    options.participant.on('muteChanged', this.onMuteChanged);
  }

  /** A digit the caller pressed (RFC 4733 or SIP INFO). */
  digit(digit: string): void {
    if (this.disposed || this.leaving) return;
    this.run(this.recognizer.handle({ type: 'digit', digit }, this.options.participant.role));
  }

  /** Stops the timer and listening; the call is over. */
  dispose(): void {
    this.disposed = true;
    this.clearTimer();
    this.options.participant.off('muteChanged', this.onMuteChanged);
  }

  private run(actions: KeypadAction[]): void {
    for (const action of actions) {
      if (this.disposed) return;
      switch (action.type) {
        case 'startTimer':
          this.clearTimer();
          this.timer = setTimeout(() => {
            this.timer = undefined;
            this.guard(() => this.run(this.recognizer.handle({ type: 'timeout' }, this.options.participant.role)));
          }, action.ms);
          break;
        case 'cancelTimer':
          this.clearTimer();
          break;
        case 'denied':
          this.options.logger.info({ command: action.command, role: this.options.participant.role }, 'keypad command denied');
          this.errorTone();
          this.report(action.command, this.sequenceOf(action.command), 'denied');
          break;
        case 'invalid':
          this.options.logger.info({ sequence: action.sequence }, 'keypad sequence invalid');
          this.errorTone();
          this.report(null, action.sequence, 'unknown');
          break;
        case 'command': {
          const outcome = (action.command === 'invite' ? this.invite(action.number ?? '') : this.execute(action.command)) ?? 'done';
          this.report(action.command, this.sequenceOf(action.command), outcome);
          break;
        }
      }
    }
  }

  /** Tells the `commandCarriedOut` port; a failing port must not cost the caller the keypad. */
  private report(command: KeypadCommand | null, sequence: string, outcome: KeypadOutcome): void {
    const port = this.options.services?.commandCarriedOut;
    if (!port) return;
    const { meeting, participant } = this.options;
    this.guard(() => port({ meeting, participant, command, sequence, outcome }));
  }

  private sequenceOf(command: KeypadCommand): string {
    return this.bindings.find((b) => b.command === command)?.sequence ?? '';
  }

  /** Carries out a command; answers how it ended when not simply `done`. */
  private execute(command: KeypadCommand): KeypadOutcome | void {
    const { meeting, participant, logger } = this.options;
    logger.info({ command, role: participant.role }, 'keypad command');
    const services = this.options.services ?? {};
    switch (command) {
      case 'selfMuteToggle':
        // A listener is never heard: there is nothing to toggle.
        if (!roleCanSpeak(participant.role)) return this.errorTone();
        // During Q&A the floor is the host's to give: raise a hand instead.
        if (meeting.qa.holdsMuted(participant)) return this.errorTone();
        // The muteChanged event plays the confirmation.
        meeting.updateParticipant(participant, { muted: !participant.muted }, 'self');
        return;
      case 'muteAllButHosts':
        meeting.muteAllButHosts(true, 'host');
        return this.say(['conf-now-muted']);
      case 'unmuteAllButHosts':
        meeting.muteAllButHosts(false, 'host');
        return this.say(['conf-now-unmuted']);
      case 'lock':
        meeting.lock();
        return this.say(['conf-lockednow']);
      case 'unlock':
        meeting.unlock();
        return this.say(['conf-unlockednow']);
      case 'joinNotificationsOff':
        meeting.setJoinNotifications(false);
        return this.tone('confirmOff');
      case 'joinNotificationsOn':
        meeting.setJoinNotifications(true);
        return this.tone('confirmOn');
      case 'holdToggle': {
        const held = !meeting.held;
        meeting.setHeld(held, 'host');
        return this.tone(held ? 'confirmOn' : 'confirmOff');
      }
      case 'qaToggle':
        if (meeting.qa.active) meeting.qa.stop('host');
        else meeting.qa.start('host');
        return this.say([meeting.qa.active ? 'activated' : 'de-activated']);
      case 'raiseHand':
        return this.raiseOrLowerHand();
      case 'qaNext': {
        if (!meeting.qa.active) return this.errorTone();
        const taken = meeting.qa.next('host');
        // The questioner hears "you are unmuted"; the host hears who it is.
        return taken ? this.say(questionerPrompts(taken.caller)) : this.tone('confirmOff');
      }
      case 'qaClear':
        if (!meeting.qa.active) return this.errorTone();
        meeting.qa.clear('host');
        return this.say(['cancelled']);
      case 'participantCount':
        return this.say(participantCountPrompts(meeting.participants.length - 1));
      case 'help': {
        const menu = helpMenuPrompts(this.bindings, participant.role);
        return menu.length > 0 ? this.say(menu) : this.errorTone();
      }
      case 'exit':
        this.clearTimer();
        this.leaving = true;
        this.options.leave(['goodbye'], 'caller left (keypad exit)');
        return;
      case 'recordingToggle': {
        if (!services.recording) return this.unavailable(command);
        const start = !services.recording.isRecording(meeting);
        const answer = services.recording.recordingRequested(meeting, start ? 'start' : 'stop', participant);
        if (!answer.ok) {
          // The caller hears the error tone either way; the event says why.
          if (answer.reason === 'notAllowed') {
            this.errorTone();
            return 'denied';
          }
          if (answer.reason === 'failed') return this.unavailable(command);
          return this.errorTone();
        }
        return this.tone(start ? 'confirmOn' : 'confirmOff');
      }
      case 'operator':
        if (!services.operatorRequested) return this.unavailable(command);
        services.operatorRequested(meeting, participant);
        return this.say(['one-moment-please']);
      case 'scheduleExtend':
        if (!services.extendSchedule) return this.unavailable(command);
        return this.say([services.extendSchedule(meeting, participant) ? 'conf-extended' : 'conf-nonextended']);
      case 'polling':
        if (!services.pollingRequested) return this.unavailable(command);
        services.pollingRequested(meeting, participant);
        return this.tone('confirmOn');
      case 'entryExitTonesCycle':
        return this.cycleEntryExitTones();
      default:
        return this.errorTone();
    }
  }

  /**
   * `*8` then a number and `#`: the caller hears "please hold while I try"
   * while it rings, then "the user will join" or, after the error tone,
   * why not.
   */
  private invite(number: string): KeypadOutcome | void {
    const { meeting, participant, logger } = this.options;
    const dialer = this.options.services?.dialer;
    if (!dialer || this.inviting) {
      logger.info({ available: dialer !== undefined, inviting: this.inviting }, 'invitation refused');
      this.errorTone();
      return dialer ? 'refused' : 'unavailable';
    }
    if (meeting.locked) return this.errorThen(['conf-locked']);
    logger.info({ number }, 'inviting a number into the meeting');
    this.inviting = true;
    this.say(['pls-hold-while-try']);
    const settle = (outcome: InviteOutcome): void => {
      this.inviting = false;
      if (this.disposed || this.leaving) return;
      logger.info({ number, ok: outcome.ok, ...(outcome.ok ? { participantId: outcome.participant.id } : { reason: outcome.reason }) }, 'invitation settled');
      if (outcome.ok) return this.say(['conf-userwilljoin']);
      this.errorThen([outcome.reason === 'notAnswering' ? 'number-not-answering' : 'cannot-complete-as-dialed']);
    };
    dialer.invite(number, meeting, participant).then(
      (outcome) => this.guard(() => settle(outcome)),
      (err: unknown) => {
        logger.error({ err }, 'invitation failed');
        this.guard(() => settle({ ok: false, reason: 'unavailable' }));
      },
    );
  }

  /** `*5`: joins the question queue, or leaves it when already in. */
  private raiseOrLowerHand(): KeypadOutcome | void {
    const { meeting, participant } = this.options;
    if (meeting.qa.lowerHand(participant)) return this.say(['removed']);
    const raised = meeting.qa.raiseHand(participant);
    if (!raised.ok) {
      this.options.logger.info({ reason: raised.reason }, 'hand not raised');
      return this.errorTone();
    }
    // "You are currently caller number 2."
    this.say(['queue-thereare', ...sayNumber(raised.position)]);
  }

  /** Tells this caller that a host or an operator muted or unmuted them; confirms their own *1. */
  private announceMute(muted: boolean, _by: ChangeSource): void {
    if (this.disposed || this.leaving || !roleCanSpeak(this.options.participant.role)) return;
    this.say([muted ? 'conf-muted' : 'conf-unmuted']);
  }

  /** Entry/exit tones: seed 004's four-step cycle when the meeting has them apart, else both on or off together. */
  private cycleEntryExitTones(): void {
    const { meeting } = this.options;
    const control = this.options.services?.entryExitTones;
    if (!control) {
      meeting.setJoinNotifications(!meeting.joinNotifications);
      return this.tone(meeting.joinNotifications ? 'confirmOn' : 'confirmOff');
    }
    const next = nextEntryExitTones(control.get(meeting));
    control.set(meeting, next);
    // "Enabled"/"disabled" for entry, then for exit.
    this.say([next.entry ? 'enabled' : 'disabled', next.exit ? 'enabled' : 'disabled']);
  }

  private unavailable(command: KeypadCommand): 'unavailable' {
    this.options.logger.info({ command }, 'keypad command not available here');
    this.errorTone();
    return 'unavailable';
  }

  private say(prompts: PromptName[]): void {
    this.options.leg.play(this.options.prompts.resolve(prompts), { interruptibleByDtmf: true });
  }

  private tone(name: 'confirmOn' | 'confirmOff'): void {
    this.options.leg.play(this.options.prompts.tone(name), { interruptibleByDtmf: true });
  }

  /** The error tone, then a prompt saying why. */
  private errorThen(prompts: PromptName[]): 'refused' {
    this.options.leg.play([...this.options.prompts.tone('error'), ...this.options.prompts.resolve(prompts)], { interruptibleByDtmf: true });
    return 'refused';
  }

  /** The error tone; a command that ends with it was refused. */
  private errorTone(): 'refused' {
    this.options.leg.play(this.options.prompts.tone('error'), { interruptibleByDtmf: false });
    return 'refused';
  }

  private guard(step: () => void): void {
    try {
      step();
    } catch (err) {
      this.options.logger.error({ err }, 'keypad command failed');
    }
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** What the host hears on "next": "telephone number" and the questioner's digits, when it has any. */
export function questionerPrompts(caller: string): PromptName[] {
  const digits = caller.replace(/\D/g, '').slice(0, 15);
  return digits === '' ? ['conf-unmuted'] : ['telephone-number', ...[...digits].map((d) => `digits/${d}`)];
}

/** What `*2` says: alone, one other, or "there are currently N other participants". */
export function participantCountPrompts(others: number): PromptName[] {
  if (others <= 0) return ['conf-onlyperson'];
  if (others === 1) return ['conf-onlyone'];
  return ['conf-thereare', ...sayNumber(others), 'conf-otherinparty'];
}

/**
 * When a meeting is recorded, as a pure state machine: it is fed the
 * meeting's joins and leaves, start/stop requests (keypad, API) and timer
 * expiries, and answers with what its driver (MeetingRecorder) must do. No
 * timers, files or media here.
 *
 * Our reading of seed 004's attributes:
 * - `conference_recording` `auto`: the recording starts with the meeting
 *   (its first caller); `on`: recording is allowed and starts on demand
 *   (keypad `recording_dtmf_binding`, API `recording-start`); `off`: never,
 *   every request is refused. Unset, 001's `record_enabled` decides
 *   (true → on, false → off); with neither set, `on`.
 * - `recording_dtmf`: the roles whose keypad may start and stop it (hosts
 *   when unset). The API's operators are not callers: they may whenever the
 *   meeting may be recorded.
 * - `recording_stop_how` `last`: the recording runs until it is stopped or
 *   the meeting ends (the last caller leaves); `moderator`: it also stops
 *   `recording_stop_wait` seconds after the last host left, unless a host
 *   comes back first. The meeting's end always stops it.
 * - Whenever a recording starts, everyone in the meeting hears
 *   "conf-now-recording": callers must know they are recorded.
 * - A live meeting's attributes may change (API): the new rules apply from
 *   then on, and `off` stops a running recording.
 */
import type { ResolvedAttributes } from './attributes/ResolvedAttributes.js';
import type { Role } from './Role.js';

export type RecordingMode = 'on' | 'off' | 'auto';
export type RecordingStopHow = 'last' | 'moderator';

export interface RecordingRules {
  mode: RecordingMode;
  /** Roles whose keypad may start and stop the recording (`recording_dtmf`). */
  keypadRoles: ReadonlySet<Role>;
  stopHow: RecordingStopHow;
  /** With stopHow moderator: how long the recording goes on after the last host left. */
  stopWaitMs: number;
}

/** Who asks: a caller of a role (keypad) or an operator (API). */
export type RecordingRequester = Role | 'operator';

export type RecordingRefusal =
  /** conference_recording off. */
  | 'disabled'
  /** The requester's role is not in recording_dtmf. */
  | 'notAllowed'
  | 'alreadyRecording'
  | 'notRecording'
  /** The meeting has ended. */
  | 'ended';

export type RecordingAnswer = { ok: true } | { ok: false; reason: RecordingRefusal };

export type RecordingStopReason = 'requested' | 'hostLeft' | 'meetingEnded' | 'disabled';

export type RecordingPolicyInput =
  | { type: 'joined'; id: number; role: Role }
  | { type: 'left'; id: number; role: Role }
  | { type: 'stopWaitOver' }
  /** The recorder stopped by itself (a write failure): the policy follows. */
  | { type: 'recorderFailed' }
  | { type: 'meetingEnded' };

export type RecordingPolicyAction =
  /** Start recording, then tell everyone: `announce` is always true today, kept explicit for the driver. */
  | { type: 'start'; announce: true }
  | { type: 'stop'; reason: RecordingStopReason }
  | { type: 'startStopWait'; ms: number }
  | { type: 'cancelStopWait' };

export const DEFAULT_RECORDING_RULES: RecordingRules = { mode: 'on', keypadRoles: new Set(['host']), stopHow: 'last', stopWaitMs: 0 };

export function recordingRulesFrom(attributes: ResolvedAttributes): RecordingRules {
  let mode: RecordingMode;
  if ((attributes.get('conference_recording') ?? '') !== '') mode = attributes.choice<RecordingMode>('conference_recording', 'on');
  else if ((attributes.get('record_enabled') ?? '') !== '') mode = attributes.isOn('record_enabled') ? 'on' : 'off';
  else mode = 'on';
  const keypadRoles = (attributes.get('recording_dtmf') ?? '') === '' ? new Set<Role>(['host']) : attributes.roles('recording_dtmf');
  return {
    mode,
    keypadRoles,
    stopHow: attributes.choice<RecordingStopHow>('recording_stop_how', 'last'),
    stopWaitMs: Math.max(0, attributes.integer('recording_stop_wait', 0)) * 1000,
  };
}

export interface RecordingDecision {
  answer: RecordingAnswer;
  actions: RecordingPolicyAction[];
}

export class MeetingRecordingPolicy {
  private recordingValue = false;
  private ended = false;
  private stopWaitArmed = false;
  private autoStarted = false;
  private readonly present = new Map<number, Role>();

  constructor(private rules: RecordingRules) {}

  get recording(): boolean {
    return this.recordingValue;
  }

  /** Whether this meeting may be recorded at all. */
  get allowed(): boolean {
    return this.rules.mode !== 'off';
  }

  /**
   * New rules for the rest of the meeting (its live attributes changed).
   * Turning recording off stops a running recording; leaving `moderator`
   * drops a pending stop wait. `auto` set now starts with the next caller
   * if the meeting was never recorded.
   */
  setRules(rules: RecordingRules): RecordingPolicyAction[] {
    this.rules = rules;
    if (this.ended) return [];
    if (rules.mode === 'off' && this.recordingValue) return this.stop('disabled');
    if (rules.stopHow !== 'moderator' && this.stopWaitArmed) return [this.disarm()];
    return [];
  }

  /** A start or stop request; the answer says whether it is carried out and why not. */
  request(action: 'start' | 'stop', by: RecordingRequester): RecordingDecision {
    const refuse = (reason: RecordingRefusal): RecordingDecision => ({ answer: { ok: false, reason }, actions: [] });
    if (this.ended) return refuse('ended');
    if (this.rules.mode === 'off') return refuse('disabled');
    if (by !== 'operator' && !this.rules.keypadRoles.has(by)) return refuse('notAllowed');
    if (action === 'start') {
      if (this.recordingValue) return refuse('alreadyRecording');
      return { answer: { ok: true }, actions: this.start() };
    }
    if (!this.recordingValue) return refuse('notRecording');
    return { answer: { ok: true }, actions: this.stop('requested') };
  }

  handle(input: RecordingPolicyInput): RecordingPolicyAction[] {
    if (this.ended) return [];
    switch (input.type) {
      case 'joined':
        return this.onJoined(input.id, input.role);
      case 'left':
        return this.onLeft(input.id, input.role);
      case 'stopWaitOver':
        if (!this.stopWaitArmed) return [];
        this.stopWaitArmed = false;
        return this.recordingValue ? this.stop('hostLeft') : [];
      case 'recorderFailed':
        this.recordingValue = false;
        return this.stopWaitArmed ? [this.disarm()] : [];
      case 'meetingEnded': {
        this.ended = true;
        const actions: RecordingPolicyAction[] = this.stopWaitArmed ? [this.disarm()] : [];
        if (this.recordingValue) {
          this.recordingValue = false;
          actions.push({ type: 'stop', reason: 'meetingEnded' });
        }
        return actions;
      }
    }
  }

  private onJoined(id: number, role: Role): RecordingPolicyAction[] {
    this.present.set(id, role);
    const actions: RecordingPolicyAction[] = [];
    if (role === 'host' && this.stopWaitArmed) actions.push(this.disarm());
    // auto: once, with the meeting's first caller; a recording stopped later stays stopped.
    if (this.rules.mode === 'auto' && !this.autoStarted && !this.recordingValue) actions.push(...this.start());
    return actions;
  }

  private onLeft(id: number, role: Role): RecordingPolicyAction[] {
    if (!this.present.delete(id)) return [];
    if (this.rules.stopHow !== 'moderator' || role !== 'host' || !this.recordingValue) return [];
    if ([...this.present.values()].includes('host') || this.present.size === 0) return [];
    if (this.rules.stopWaitMs === 0) return this.stop('hostLeft');
    if (this.stopWaitArmed) return [];
    this.stopWaitArmed = true;
    return [{ type: 'startStopWait', ms: this.rules.stopWaitMs }];
  }

  private start(): RecordingPolicyAction[] {
    this.recordingValue = true;
    this.autoStarted = true;
    return [{ type: 'start', announce: true }];
  }

  private stop(reason: RecordingStopReason): RecordingPolicyAction[] {
    this.recordingValue = false;
    const actions: RecordingPolicyAction[] = this.stopWaitArmed ? [this.disarm()] : [];
    actions.push({ type: 'stop', reason });
    return actions;
  }

  private disarm(): RecordingPolicyAction {
    this.stopWaitArmed = false;
    return { type: 'cancelStopWait' };
  }
}

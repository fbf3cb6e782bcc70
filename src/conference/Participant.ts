import { EventEmitter } from 'node:events';
import type { MediaLeg } from '../media/MediaLeg.js';
import type { JoinRequest, MeetingNotice, ParticipantEvents } from './ConferenceTypes.js';
import type { Farewell } from './MeetingLifecycle.js';
import type { Membership } from './MeetingPolicy.js';
import { membershipFor } from './MeetingPolicy.js';
import type { ParticipantChanges } from './Meeting.js';
import type { Role } from './Role.js';

/**
 * One caller inside a live meeting (seed 004's Call object once joined).
 * Its `Meeting` owns it; the call flow keeps the SIP side.
 */
export class Participant extends EventEmitter<ParticipantEvents> {
  readonly id: number;
  readonly callId: string;
  readonly accessCode: string;
  readonly caller: string;
  readonly callee: string;
  readonly joinedAt: Date;
  readonly leg: MediaLeg;
  /** The job code entered on the way in (004 call_jobcodeonenter), if any. */
  readonly jobCode: string | undefined;
  private roleValue: Role;
  private mutedValue = false;
  private deafValue = false;
  private heldValue = false;
  private phoneHoldValue = false;
  private gainLevelValue = 0;
  /** A friendly name for the call (seed 004 `customName`). */
  customName = '';

  constructor(id: number, request: JoinRequest) {
    super();
    this.id = id;
    this.callId = request.callId;
    this.accessCode = request.accessCode;
    this.caller = request.caller;
    this.callee = request.callee;
    this.leg = request.leg;
    this.jobCode = request.jobCode;
    this.roleValue = request.role;
    this.joinedAt = new Date();
  }

  get role(): Role {
    return this.roleValue;
  }

  get muted(): boolean {
    return this.mutedValue;
  }

  get deaf(): boolean {
    return this.deafValue;
  }

  /** On hold: hears music instead of the room and is not heard (seed 004 holdMode 40). */
  get held(): boolean {
    return this.heldValue;
  }

  /** Seed 004 `gainLevel`: see `gainDbForLevel`. */
  get gainLevel(): number {
    return this.gainLevelValue;
  }

  /** Only `Meeting.updateParticipant` calls this, so that media follows every change. */
  apply(changes: ParticipantChanges): void {
    if (changes.role !== undefined) this.roleValue = changes.role;
    if (changes.muted !== undefined) this.mutedValue = changes.muted;
    if (changes.deaf !== undefined) this.deafValue = changes.deaf;
    if (changes.held !== undefined) this.heldValue = changes.held;
    if (changes.gainLevel !== undefined) this.gainLevelValue = changes.gainLevel;
    if (changes.phoneHold !== undefined) this.phoneHoldValue = changes.phoneHold;
  }

  /** The phone has put the bridge on hold. */
  get phoneHold(): boolean {
    return this.phoneHoldValue;
  }

  /** Emits `hangupRequested`; the call flow that owns the call hangs it up, after the farewell if one is given. */
  requestHangup(reason: string, farewell?: Farewell): void {
    this.emit('hangupRequested', reason, farewell);
  }

  /** Emits `notice`; the call flow says it to the caller. */
  notify(notice: MeetingNotice): void {
    this.emit('notice', notice);
  }

  get membership(): Membership {
    return membershipFor({ role: this.roleValue, muted: this.mutedValue, deaf: this.deafValue, phoneHold: this.phoneHoldValue });
  }
}

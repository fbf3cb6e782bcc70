import type { MediaLeg } from '../media/MediaLeg.js';
import type { Sound } from '../media/Sound.js';
import type { Farewell } from './MeetingLifecycle.js';
import type { AdmissionLimits, EntryState, MeetingRules } from './MeetingRules.js';
import type { Role } from './Role.js';

/** What the call flow knows about a caller when it asks to join a meeting. */
export interface JoinRequest {
  /** SIP Call-ID, for logs and correlation. */
  callId: string;
  role: Role;
  accessCode: string;
  /** Caller number or URI user (seed 004 `caller`). */
  caller: string;
  /** The DID dialed (seed 004 `callee`). */
  callee: string;
  leg: MediaLeg;
  /** Muted, deaf or held on entry (the role's policies); none of them when absent. */
  entry?: Partial<EntryState>;
  /** The job code the caller entered (004 call_jobcodeonenter). */
  jobCode?: string;
}

/**
 * The attributes' say in a join (see MeetingRules): `limits` apply to this
 * caller; `rules` and `joinNotifications` set up the meeting if this caller
 * starts it.
 */
export interface JoinPolicy {
  rules: MeetingRules;
  limits: AdmissionLimits;
  /** conference_entrytones / conference_exittones. */
  joinNotifications: boolean;
  /** conference_qa_policy (roles muted by Q&A) when set above the room; the room's own value otherwise. */
  qaPolicy?: string;
}

/** Things a meeting tells a caller, which the call flow says in the caller's language. */
export type MeetingNotice = 'meetingStarted' | 'leaderLeft';

/** Who changed a participant's state: the caller, a host (keypad) or an operator (API). */
export type ChangeSource = 'self' | 'host' | 'operator';

export interface ParticipantEvents {
  left: [];
  /** The participant's mute flag changed. */
  muteChanged: [muted: boolean, by: ChangeSource];
  /** The participant went on hold (hears music, not heard) or came back. */
  holdChanged: [held: boolean, by: ChangeSource];
  /** Someone (an operator through the API, a host) asks for this call to be hung up; the call flow does it. */
  hangupRequested: [reason: string, farewell?: Farewell];
  /** Something the caller should hear about (see MeetingNotice). */
  notice: [notice: MeetingNotice];
}

export interface MeetingEvents {
  participantJoined: [import('./Participant.js').Participant];
  participantLeft: [import('./Participant.js').Participant];
  ended: [];
  lockChanged: [locked: boolean];
  /** Meeting hold (seed 004 holdMode 40): non-hosts hear music while hosts talk. */
  holdChanged: [held: boolean];
  /** Entry and exit tones on or off (001's *94/*95). */
  joinNotificationsChanged: [on: boolean];
}

/**
 * The sounds a meeting plays by itself. The call-flow layer supplies them
 * (prompt files, generated tones) so that this layer knows no prompt names.
 */
export interface MeetingSounds {
  /** Music a held caller hears, looping. */
  holdMusic(): Sound[];
  /** Played to everyone else when someone joins, if join notifications are on. */
  entryTone(): Sound[];
  /** Played to everyone left when someone leaves, if join notifications are on. */
  exitTone(): Sound[];
  /** Music for a caller alone in the meeting: `name` is 001's music_on_hold_sound ('on' for the default music). */
  aloneMusic?(name: string): Sound[];
}

export interface ConferenceManagerEvents {
  meetingStarted: [import('./Meeting.js').Meeting];
  meetingEnded: [import('./Meeting.js').Meeting];
}

export class MeetingEndedError extends Error {
  override name = 'MeetingEndedError';
}

/** A meeting at one of its limits (conference_maxcalls, conference_maxcallsperrole, max_members) admits nobody. */
export class MeetingFullError extends Error {
  override name = 'MeetingFullError';
}

/** A locked meeting admits hosts only. */
export class MeetingLockedError extends Error {
  override name = 'MeetingLockedError';
}

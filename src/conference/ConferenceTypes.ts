import type { MediaLeg } from '../media/MediaLeg.js';
import type { Sound } from '../media/Sound.js';
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
}

/** Who changed a participant's state: the caller, a host (keypad) or an operator (API). */
export type ChangeSource = 'self' | 'host' | 'operator';

export interface ParticipantEvents {
  left: [];
  /** The participant's mute flag changed. */
  muteChanged: [muted: boolean, by: ChangeSource];
  /** The participant went on hold (hears music, not heard) or came back. */
  holdChanged: [held: boolean, by: ChangeSource];
  /** Someone (an operator through the API, a host) asks for this call to be hung up; the call flow does it. */
  hangupRequested: [reason: string];
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
}

export interface ConferenceManagerEvents {
  meetingStarted: [import('./Meeting.js').Meeting];
  meetingEnded: [import('./Meeting.js').Meeting];
}

export class MeetingEndedError extends Error {
  override name = 'MeetingEndedError';
}

/** A locked meeting admits hosts only. */
export class MeetingLockedError extends Error {
  override name = 'MeetingLockedError';
}

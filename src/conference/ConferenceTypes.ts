import type { MediaLeg } from '../media/MediaLeg.js';
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

export interface ParticipantEvents {
  left: [];
  /** Someone (an operator through the API, a host) asks for this call to be hung up; the call flow does it. */
  hangupRequested: [reason: string];
}

export interface MeetingEvents {
  participantJoined: [import('./Participant.js').Participant];
  participantLeft: [import('./Participant.js').Participant];
  ended: [];
  lockChanged: [locked: boolean];
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

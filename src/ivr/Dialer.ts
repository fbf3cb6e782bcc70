import type { Meeting } from '../conference/Meeting.js';
import type { Participant } from '../conference/Participant.js';
import type { Role } from '../conference/Role.js';
import type { MediaLeg } from '../media/MediaLeg.js';
import type { MediaRoom } from '../media/MediaRoom.js';

/** Why an invitation did not bring the callee in. */
export type InviteFailure =
  /** Busy, or rang without an answer until the ring timeout. */
  | 'notAnswering'
  /** Refused by the far end or the trunk, or no outbound trunk at all. */
  | 'unavailable'
  /** Not a number the trunk can dial. */
  | 'invalidNumber'
  /** The meeting ended or locked while it rang. */
  | 'meetingClosed';

export type InviteOutcome = { ok: true; participant: Participant } | { ok: false; reason: InviteFailure };

export interface InviteOptions {
  /** The callee's role once in; a participant unless given. */
  role?: Role;
  /** Seed 004 `customName` for the callee's call. */
  customName?: string;
  /** Called once the call is placed (INVITE sent), with its Call-ID. */
  placed?: (callId: string) => void;
}

export interface DialContext {
  /** The Call-ID of the call on whose behalf we dial, for logs. */
  callId: string;
  /** The caller's number, to present to the far end. */
  caller: string;
}

export interface DialedCall {
  leg: MediaLeg;
  /** Hangs the outbound call up (the caller left). Idempotent. */
  hangup(reason: string): void;
  /** Called once when the outbound call ends, whichever side ended it. */
  onEnded(listener: () => void): void;
}

/**
 * The port through which the call flow and the keypad place outbound calls;
 * the application implements it over the SIP layer's outbound trunk
 * (`src/app/dialOut.ts`), so src/ivr never sees SIP.
 */
export interface Dialer {
  /**
   * Calls an external number out of a meeting (001's `*8`, the API's
   * attendee call-out): once answered, the callee joins the meeting as a
   * participant whose call ends when they leave (and the other way round).
   * Settles once it is answered or has failed; never rejects.
   */
  invite(number: string, meeting: Meeting, invitedBy: Participant | undefined, options?: InviteOptions): Promise<InviteOutcome>;
  /**
   * Calls `number` and resolves once it answers, with its media leg in no
   * room yet (the operator transfer bridges it to the caller); rejects when
   * it is not answered (busy, no answer, failure).
   */
  dial(number: string, context: DialContext): Promise<DialedCall>;
}

/** Where callers go after too many wrong codes: the configured operator and the means to reach them. */
export interface OperatorRoute {
  /** Config `ivr.operatorNumber`, dialed through the outbound trunk. */
  number: string;
  dialer: Pick<Dialer, 'dial'>;
  /** A private media room bridging the caller and the operator. */
  createRoom(): MediaRoom;
}

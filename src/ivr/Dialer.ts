import type { Meeting } from '../conference/Meeting.js';
import type { Participant } from '../conference/Participant.js';

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

/**
 * Calls an external number out of a meeting (001's `*8`): it places the
 * call through an outbound trunk and, once answered, joins the callee to the
 * meeting as a participant whose call ends when they leave (and the other
 * way round). The promise settles once it is answered or has failed; it
 * never rejects.
 */
export interface Dialer {
  invite(number: string, meeting: Meeting, invitedBy: Participant): Promise<InviteOutcome>;
}

/**
 * The port through which the API calls an attendee out into a live meeting
 * (seed 000 `conference.attendee.call`). Application wires it to the SIP
 * layer's outbound calls; the API knows nothing of SIP.
 */
import type { Role } from '../conference/Role.js';

export interface DialRequest {
  /** Digits-only E.164 (normalized), e.g. `15551230001`. */
  number: string;
  /** The live meeting the call joins once answered. */
  meetingNumber: number;
  role: Role;
  /** Seed 004 `customName` for the call once it is in the meeting. */
  customName: string;
}

export interface DialStarted {
  /** SIP Call-ID of the outbound call; the participant's `call_id` once it joins. */
  callId: string;
}

export interface Dialer {
  /**
   * Places the call (INVITE sent) and resolves with its Call-ID; rejects
   * with a DialError when it cannot be placed (no trunk, dialog limit).
   * What happens next (answer and join, busy, no answer) shows on the event
   * feed: `add-member` with this Call-ID when it joins.
   */
  dial(request: DialRequest): Promise<DialStarted>;
}

/** The call could not be placed; `message` says why (sent to the API client). */
export class DialError extends Error {
  override name = 'DialError';
}

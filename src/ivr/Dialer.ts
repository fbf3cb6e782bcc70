import type { MediaLeg } from '../media/MediaLeg.js';
import type { MediaRoom } from '../media/MediaRoom.js';

/**
 * The port through which the call flow places an outbound call (the
 * operator transfer after failed access codes). The application wires it to
 * the SIP layer (`SipServer.dial` plus a media leg for the answered call);
 * the call flow only bridges the answered leg to its caller.
 */
export interface Dialer {
  /**
   * Calls `target` (a SIP URI or a number for the outbound trunk) and
   * resolves once it answers, with its media leg (in no room yet); rejects
   * when it is not answered (busy, no answer, failure).
   */
  dial(target: string, context: DialContext): Promise<DialedCall>;
}

export interface DialContext {
  /** The Call-ID of the caller being transferred, for logs. */
  callId: string;
  /** The caller's number, to present to the operator. */
  caller: string;
}

export interface DialedCall {
  leg: MediaLeg;
  /** Hangs the outbound call up (the caller left). Idempotent. */
  hangup(reason: string): void;
  /** Called once when the outbound call ends, whichever side ended it. */
  onEnded(listener: () => void): void;
}

/** Where transferred callers go: the configured operator and the means to reach them. */
export interface OperatorRoute {
  /** Config `ivr.operatorUri`. */
  uri: string;
  dialer: Dialer;
  /** A private media room bridging the caller and the operator. */
  createRoom(): MediaRoom;
}

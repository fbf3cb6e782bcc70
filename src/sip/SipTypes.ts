/**
 * Public types of the signaling layer. The rest of the system sees SIP only
 * as `SipServer` (which emits `call` for each new INVITE) and `InboundCall`.
 */
import type { Logger } from '../log.js';

export type SipTransportName = 'udp' | 'tcp' | 'tls';

export interface SipServerOptions {
  /** Address to bind UDP and TCP listeners to. */
  bindAddress: string;
  port: number;
  /** Address written into Contact and Via; defaults to bindAddress (or 127.0.0.1 for 0.0.0.0). */
  advertisedAddress?: string;
  /** Largest SIP message accepted, in bytes; larger ones are answered 513 or dropped. Default 65535. */
  maxMessageBytes?: number;
  userAgent?: string;
  /** TCP connections with no traffic and no call on them are closed after this long. Default 120000 ms. */
  tcpIdleTimeoutMs?: number;
  /**
   * Trunks, in match order. Undefined: INVITEs from any source are admitted
   * (no trunk name in the call info). An empty list admits nobody.
   * OPTIONS is always answered, whatever the source.
   */
  trunks?: readonly SipTrunk[];
  /** Requests with more header fields than this get 400. Default 256. */
  maxHeaderCount?: number;
  /** New INVITEs beyond this many live calls (inbound + outbound) get 503. Default 10000. */
  maxDialogs?: number;
  /** Per-source-address token bucket on new INVITEs (503 + Retry-After when empty). Default: off. */
  inviteRateLimit?: { perSecond: number; burst: number };
  /** Default ring timeout of outbound calls. Default 60000 ms. */
  defaultRingTimeoutMs?: number;
  /**
   * RFC 4028 session timers (inbound calls, and outbound INVITEs ask for
   * them). Default { expiresSeconds: 1800, minSeconds: 90 }; false switches
   * them off (Session-Expires is then ignored).
   */
  sessionTimers?: import('./SessionTimer.js').SessionTimerSettings | false;
  /** SIP over TLS on its own port (PEM files); absent: no TLS listener. */
  tls?: { port: number; certificateFile: string; privateKeyFile: string };
  logger: Logger;
}

/** Digest credentials a trunk must present to us (inbound). */
export interface InboundDigest {
  realm: string;
  username: string;
  password: string;
}

/** Digest credentials we present to a trunk's proxy (outbound); the realm comes from the challenge. */
export interface OutboundDigest {
  username: string;
  password: string;
}

export interface SipTrunk {
  name: string;
  inbound: {
    /** Source IPs or CIDR blocks (IPv4 or IPv6) whose INVITEs this trunk admits. */
    addresses: string[];
    /** When set, admitted INVITEs must also pass digest authentication (401 challenge). */
    auth?: InboundDigest;
  };
  /** Absent: the trunk carries inbound calls only. */
  outbound?: {
    proxy: { host: string; port: number; transport: SipTransportName };
    /** User part of our From (a number, usually E.164). */
    callerId: string;
    /** P-Asserted-Identity value: a number or a full sip:/tel: URI. */
    pAssertedIdentity?: string;
    auth?: OutboundDigest;
    /** How the dialed number is written in the Request-URI: E.164 with a plus (default) or without. */
    numberFormat?: 'e164' | 'e164-plus';
  };
}

export interface SipAddress {
  /** The full URI, e.g. sip:+15550100@127.0.0.1:5060 */
  uri: string;
  /** User part of the URI, may be empty. */
  user: string;
  displayName: string;
}

export interface InboundCallInfo {
  callId: string;
  from: SipAddress;
  to: SipAddress;
  /** User part of the Request-URI: the dialed number as the trunk sent it. */
  dialed: string;
  /** `dialed` normalised to E.164 with a leading '+', when it is a phone number. */
  dialedE164?: string;
  /** Name of the trunk that admitted the call (undefined when no trunks are configured). */
  trunk?: string;
  transport: SipTransportName;
  sourceAddress: string;
  sourcePort: number;
  /** SDP body of the INVITE; empty string when the INVITE carried none (delayed offer). */
  offerSdp: string;
}

export type CallEndReason =
  | { by: 'remote'; cause: 'bye' | 'cancel' }
  | { by: 'local'; cause: 'hangup' | 'rejected' | 'no-answer-in-ack' }
  | { by: 'timeout'; cause: 'no-ack' | 'transaction' | 'session-timer' };

export interface InfoDtmf {
  digit: string;
  durationMs: number;
}

export interface InboundCallEvents {
  /** The call is over, whatever the side. Emitted once. */
  ended: [CallEndReason];
  /** ACK for our 2xx arrived. */
  confirmed: [];
  /** DTMF received through SIP INFO (application/dtmf-relay or application/dtmf). */
  infoDtmf: [InfoDtmf];
  /** A re-INVITE or UPDATE carried a new offer; the layer already answered it with our current SDP. */
  remoteSdp: [string];
}

export type OutboundFailureCause = 'busy' | 'no-answer' | 'rejected' | 'unavailable' | 'redirected' | 'timeout' | 'cancelled';

export interface DialOptions {
  /** The number to call; normalised to E.164 and written as the trunk wants it. */
  number: string;
  /** Name of a configured trunk with an outbound section. */
  trunk: string;
  /** User part of From; defaults to the trunk's callerId. */
  callerId?: string;
  /** Our SDP offer (media is the caller's business). */
  offerSdp: string;
  /** Give up (CANCEL) when not answered within this long. Default: the server's defaultRingTimeoutMs. */
  ringTimeoutMs?: number;
  /** Display name in From. */
  displayName?: string;
}

export interface OutboundCallInfo {
  callId: string;
  trunk: string;
  /** The number as written into the Request-URI. */
  number: string;
  requestUri: string;
  from: string;
  transport: SipTransportName;
  offerSdp: string;
}

export interface OutboundProgress {
  status: number;
  reason: string;
  /** SDP of a 18x (early media), when it carried one. */
  earlySdp?: string;
}

export interface OutboundFailure {
  /** Final status (3xx-6xx); 408 when nothing answered at all, 503 on a transport error. */
  status: number;
  reason: string;
  cause: OutboundFailureCause;
}

export type OutboundEndReason =
  | { by: 'remote'; cause: 'bye' }
  | { by: 'local'; cause: 'hangup' }
  | { by: 'timeout'; cause: 'session-timer' }
  | { by: 'failed'; cause: OutboundFailureCause };

export interface OutboundCallEvents {
  /** 180/183 (and other 1xx but 100), with early-media SDP when present. */
  progress: [OutboundProgress];
  /** 2xx received and ACKed; the remote SDP is the answer to our offer. */
  answered: [{ remoteSdp: string }];
  /** The call was never answered. `ended` follows. */
  failed: [OutboundFailure];
  /** The call is over, whatever happened. Emitted once. */
  ended: [OutboundEndReason];
  infoDtmf: [InfoDtmf];
  /** A re-INVITE from the far end carried a new offer, already answered. */
  remoteSdp: [string];
}

export interface SipServerEvents {
  /** A new out-of-dialog INVITE. The listener must `accept` or `reject` it. 100 Trying has been sent. */
  call: [import('./InboundCall.js').InboundCall];
}

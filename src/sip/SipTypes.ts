/**
 * Public types of the signaling layer. The rest of the system sees SIP only
 * as `SipServer` (which emits `call` for each new INVITE) and `InboundCall`.
 */
import type { Logger } from '../log.js';

export type SipTransportName = 'udp' | 'tcp';

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
  logger: Logger;
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
  transport: SipTransportName;
  sourceAddress: string;
  sourcePort: number;
  /** SDP body of the INVITE; empty string when the INVITE carried none (delayed offer). */
  offerSdp: string;
}

export type CallEndReason =
  | { by: 'remote'; cause: 'bye' | 'cancel' }
  | { by: 'local'; cause: 'hangup' | 'rejected' }
  | { by: 'timeout'; cause: 'no-ack' | 'transaction' };

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

export interface SipServerEvents {
  /** A new out-of-dialog INVITE. The listener must `accept` or `reject` it. 100 Trying has been sent. */
  call: [import('./InboundCall.js').InboundCall];
}

/**
 * The SIP signaling server: UDP and TCP listeners on one port, each feeding
 * its own SIP.js UserAgentCore (one protocol per core), both emitting
 * `call` for new INVITEs.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { DigestAuthentication, URI, UserAgentCore } from 'sip.js/lib/core/index.js';
import { AllowedMethods } from 'sip.js/lib/core/user-agent-core/allowed-methods.js';
import type {
  IncomingInviteRequest,
  IncomingRequestMessage,
  IncomingResponseMessage,
  LoggerFactory,
  UserAgentCoreConfiguration,
} from 'sip.js/lib/core/index.js';
import type { Logger } from '../log.js';
import { createCoreLoggerFactory } from './coreLogger.js';
import { DigestVerifier } from './digest.js';
import { InboundCall } from './InboundCall.js';
import { sdpBody } from './inDialog.js';
import { TokenBucketLimiter } from '../util/tokenBucket.js';
import { OutboundCall } from './OutboundCall.js';
import type {
  DialOptions,
  InboundCallInfo,
  SipAddress,
  SipServerEvents,
  SipServerOptions,
  SipTransportName,
  SipTrunk,
} from './SipTypes.js';
import { negotiateAsAnswerer, namesOptionTag, type SessionInterval, type SessionTimerSettings } from './SessionTimer.js';
import { formatForTrunk, normaliseE164, TrunkTable } from './trunks.js';
import type { ReceivedMeta, SipTransportBase } from './transport/SipTransportBase.js';
import { TcpTransport } from './transport/TcpTransport.js';
import { TlsTransport } from './transport/TlsTransport.js';
import { UdpTransport } from './transport/UdpTransport.js';

/** Methods we implement. */
export const ALLOWED_METHODS = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'INFO', 'UPDATE', 'PRACK'] as const;
const ALLOW_HEADER = `Allow: ${ALLOWED_METHODS.join(', ')}`;
const ACCEPT_HEADER = 'Accept: application/sdp, application/dtmf-relay, application/dtmf';
/** Methods we know but do not support (405); anything else unknown gets 501. */
const KNOWN_METHODS = new Set([
  'REGISTER', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'MESSAGE', 'REFER',
]);
/** The user part of our Contact; every incoming Request-URI is mapped to it before SIP.js sees it. */
const CONTACT_USER = 'bridge';
/** SIP extensions (option tags) we support; a Require: naming any other gets 420 (RFC 3261 8.2.2.3). */
export const SUPPORTED_EXTENSIONS: readonly string[] = ['timer', '100rel'];
/** RFC 4028 defaults: 30 min sessions, 90 s the smallest interval accepted. */
export const DEFAULT_SESSION_TIMERS: SessionTimerSettings = { expiresSeconds: 1800, minSeconds: 90 };
/**
 * How long an admitted INVITE is remembered (by source, Call-ID, CSeq and
 * branch), so its retransmissions skip admission and limits.
 */
const ADMITTED_BRANCH_TTL_MS = 64 * 500 + 1000;
/** How long close() waits for outstanding BYE / CANCEL transactions. */
const SHUTDOWN_WAIT_MS = 2000;
/** A user part we are willing to put into From / Request-URI. */
const USER_PART_RE = /^[A-Za-z0-9+\-_.!~*'()&=$,;?/]{1,64}$/;

export interface SipServerAddress {
  bindAddress: string;
  advertisedAddress: string;
  udpPort: number;
  tcpPort: number;
  /** 0 when TLS is not configured. */
  tlsPort: number;
}

interface RequestMeta extends ReceivedMeta {
  dialed: string;
  trunk?: string;
  /** Session timer negotiated on a new INVITE. */
  sessionTimer?: { interval: SessionInterval; responseHeaders: string[] };
}

interface Stack {
  name: SipTransportName;
  transport: SipTransportBase;
  core: UserAgentCore;
  contactHeader: string;
}

function hostForUri(address: string): string {
  return net.isIPv6(address) ? `[${address}]` : address;
}

export class SipServer extends EventEmitter<SipServerEvents> {
  private readonly log: Logger;
  private readonly stacks: Stack[] = [];
  private readonly calls = new Map<string, InboundCall>();
  /** Inbound calls that ended before the ACK and still owe a BYE. */
  private readonly lingering = new Set<InboundCall>();
  /** Outbound calls by Call-ID. */
  private readonly outbound = new Map<string, OutboundCall>();
  private readonly requestMeta = new WeakMap<IncomingRequestMessage, RequestMeta>();
  private readonly advertisedAddress: string;
  private readonly trunkTable: TrunkTable | undefined;
  private readonly digest = new DigestVerifier();
  private readonly inviteLimiter: TokenBucketLimiter | undefined;
  private readonly sessionTimers: SessionTimerSettings | undefined;
  /**
   * INVITEs admitted recently, keyed transport|source:port|Call-ID|CSeq|branch
   * (insertion order = expiry order). A retransmission matches every part.
   */
  private readonly admittedBranches = new Map<string, number>();
  /** Call-ID of the response SIP.js is processing (for the per-trunk outbound credentials). */
  private responseCallId: string | undefined;
  private closing = false;

  private constructor(private readonly options: SipServerOptions) {
    super();
    this.log = options.logger.child({ component: 'sip' });
    this.advertisedAddress =
      options.advertisedAddress ??
      (options.bindAddress === '0.0.0.0' || options.bindAddress === '::' ? '127.0.0.1' : options.bindAddress);
    this.trunkTable = options.trunks ? new TrunkTable(options.trunks) : undefined;
    this.inviteLimiter = options.inviteRateLimit ? new TokenBucketLimiter(options.inviteRateLimit) : undefined;
    this.sessionTimers = options.sessionTimers === false ? undefined : (options.sessionTimers ?? DEFAULT_SESSION_TIMERS);
    if (!this.trunkTable) this.log.warn('no trunks configured: INVITEs from any source are admitted');
  }

  /** Open the UDP and TCP listeners; rejects naming the protocol and port if one cannot be opened. */
  static async listen(options: SipServerOptions): Promise<SipServer> {
    const server = new SipServer(options);
    await server.start();
    return server;
  }

  private async start(): Promise<void> {
    // SIP.js writes its module-level method list into the Allow header of
    // every 2xx to INVITE. Narrow it to what we implement; requests for other
    // methods never reach the core (onRequest answers them), so nothing else
    // changes. Idempotent, and the same for every SipServer in the process.
    AllowedMethods.splice(0, AllowedMethods.length, ...ALLOWED_METHODS);
    const maxMessageBytes = this.options.maxMessageBytes ?? 65535;
    const coreLoggerFactory = createCoreLoggerFactory(this.log);
    const base = {
      bindAddress: this.options.bindAddress,
      maxMessageBytes,
      ...(this.options.maxHeaderCount !== undefined ? { maxHeaderCount: this.options.maxHeaderCount } : {}),
      logger: this.log,
      coreLoggerFactory,
      ...(this.options.userAgent ? { userAgent: this.options.userAgent } : {}),
    };
    const attempts = this.options.port === 0 ? 5 : 1;
    for (let attempt = 1; ; attempt++) {
      const udp = new UdpTransport({ ...base, port: this.options.port });
      await udp.listen();
      const tcp = new TcpTransport({
        ...base,
        port: udp.port,
        ...(this.options.tcpIdleTimeoutMs !== undefined ? { idleTimeoutMs: this.options.tcpIdleTimeoutMs } : {}),
      });
      try {
        await tcp.listen();
      } catch (err) {
        await udp.close();
        if (attempt < attempts) continue;
        throw err;
      }
      this.addStack('udp', udp, udp.port, coreLoggerFactory);
      this.addStack('tcp', tcp, udp.port, coreLoggerFactory);
      break;
    }
    if (this.options.tls) {
      try {
        const tls = this.openTls(this.options.tls, base);
        await tls.listen();
        this.addStack('tls', tls, tls.port, coreLoggerFactory);
      } catch (err) {
        await Promise.all(this.stacks.map((st) => st.transport.close()));
        this.stacks.length = 0;
        throw err;
      }
    }
  }

  /** The TLS transport; a certificate or key that cannot be read or used fails here, naming the file. */
  private openTls(options: NonNullable<SipServerOptions['tls']>, base: Omit<ConstructorParameters<typeof TcpTransport>[0], 'port'>): TlsTransport {
    const read = (what: string, path: string): string => {
      try {
        return readFileSync(path, 'utf8');
      } catch (err) {
        throw new Error(`SIP TLS ${what} ${path} cannot be read: ${(err as Error).message}`, { cause: err });
      }
    };
    const certificate = read('certificate', options.certificateFile);
    const privateKey = read('private key', options.privateKeyFile);
    try {
      return new TlsTransport({
        ...base,
        port: options.port,
        ...(this.options.tcpIdleTimeoutMs !== undefined ? { idleTimeoutMs: this.options.tcpIdleTimeoutMs } : {}),
        certificate,
        privateKey,
      });
    } catch (err) {
      throw new Error(
        `SIP TLS certificate ${options.certificateFile} / private key ${options.privateKeyFile} not usable: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  private addStack(name: SipTransportName, transport: SipTransportBase, port: number, loggerFactory: LoggerFactory): void {
    const host = this.advertisedAddress;
    const contactUri = new URI('sip', CONTACT_USER, host, port, name === 'udp' ? undefined : { transport: name });
    const configuration: UserAgentCoreConfiguration = {
      aor: contactUri,
      contact: {
        pubGruu: undefined,
        tempGruu: undefined,
        uri: contactUri,
        toString: () => `<${contactUri.toString()}>`,
      },
      displayName: '',
      loggerFactory,
      hackViaTcp: false,
      routeSet: [],
      sipjsId: randomBytes(5).toString('hex'),
      supportedOptionTags: [],
      supportedOptionTagsResponse: [...SUPPORTED_EXTENSIONS],
      userAgentHeaderFieldValue: this.options.userAgent,
      viaForceRport: true,
      viaHost: `${hostForUri(host)}:${port}`,
      authenticationFactory: () => this.outboundCredentials(loggerFactory),
      transportAccessor: () => transport,
    };
    const core = new UserAgentCore(configuration, {
      onInvite: (uas) => this.onInvite(stack, uas),
    });
    const stack: Stack = { name, transport, core, contactHeader: `Contact: <${contactUri.toString()}>` };
    transport.delegate = {
      onRequest: (msg, meta) => this.onRequest(stack, msg, meta),
      onResponse: (msg) => this.onResponse(stack, msg),
    };
    this.stacks.push(stack);
  }

  /** Bound address and ports. */
  address(): SipServerAddress {
    const udp = this.stacks.find((s) => s.name === 'udp');
    const tcp = this.stacks.find((s) => s.name === 'tcp');
    const tls = this.stacks.find((s) => s.name === 'tls');
    return {
      bindAddress: this.options.bindAddress,
      advertisedAddress: this.advertisedAddress,
      udpPort: udp?.transport.port ?? 0,
      tcpPort: tcp?.transport.port ?? 0,
      tlsPort: tls?.transport.port ?? 0,
    };
  }

  /** Calls that have not ended yet. */
  activeCalls(): InboundCall[] {
    return [...this.calls.values()];
  }

  /** Outbound calls that have not ended yet. */
  outboundCalls(): OutboundCall[] {
    return [...this.outbound.values()];
  }

  /** Live dialogs counted against maxDialogs (inbound, outbound, and calls still owing a BYE). */
  private liveDialogs(): number {
    return this.calls.size + this.outbound.size + this.lingering.size;
  }

  /**
   * End every call and close the sockets: 503 to ringing inbound calls,
   * CANCEL to ringing outbound ones, BYE to answered calls (also those still
   * waiting for their ACK, or that hung up before it). Waits up to 2 s for
   * the BYE/CANCEL transactions before disposing of the SIP cores.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const pending: Promise<void>[] = [];
    const calls = [...this.calls.values(), ...this.lingering];
    for (const call of calls) {
      try {
        pending.push(call.shutdown());
      } catch (err) {
        this.log.warn({ err, callId: call.info.callId }, 'error ending call at shutdown');
      }
    }
    for (const call of [...this.outbound.values()]) {
      try {
        pending.push(call.shutdown());
      } catch (err) {
        this.log.warn({ err, callId: call.info.callId }, 'error ending outbound call at shutdown');
      }
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(pending),
      new Promise((resolve) => {
        timer = setTimeout(resolve, SHUTDOWN_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    // Let the last final responses reach the sockets.
    await new Promise((resolve) => setTimeout(resolve, 20));
    for (const s of this.stacks) {
      try {
        s.core.dispose();
      } catch (err) {
        this.log.warn({ err }, 'error disposing SIP core');
      }
    }
    await Promise.all(this.stacks.map((s) => s.transport.close()));
    this.calls.clear();
    this.lingering.clear();
    this.outbound.clear();
    this.log.info('SIP server closed');
  }

  private onResponse(stack: Stack, msg: IncomingResponseMessage): void {
    this.responseCallId = msg.callId;
    try {
      stack.core.receiveIncomingResponseFromTransport(msg);
    } catch (err) {
      this.log.error({ err, callId: msg.callId }, 'SIP core failed on a response');
    } finally {
      this.responseCallId = undefined;
    }
  }

  /**
   * SIP.js asks its (per-core) authentication factory for credentials when a
   * 401/407 arrives, synchronously inside receiveIncomingResponseFromTransport;
   * the Call-ID of that response names the outbound call and so the trunk.
   * SIP.js answers one challenge per request (no loop).
   */
  private outboundCredentials(loggerFactory: LoggerFactory): DigestAuthentication | undefined {
    const callId = this.responseCallId;
    const call = callId ? this.outbound.get(callId) : undefined;
    const auth = call ? this.trunkTable?.get(call.info.trunk)?.outbound?.auth : undefined;
    if (!call || !auth) {
      this.log.warn({ callId }, 'authentication challenge without credentials for it');
      return undefined;
    }
    this.log.info({ callId, trunk: call.info.trunk }, 'answering authentication challenge');
    return new DigestAuthentication(loggerFactory, undefined, auth.username, auth.password);
  }

  private onRequest(stack: Stack, msg: IncomingRequestMessage, meta: ReceivedMeta): void {
    const { core } = stack;
    const method = msg.method;
    const callId = msg.callId;
    const log = this.log.child({ callId });
    try {
      if (this.closing) {
        if (method !== 'ACK') core.replyStateless(msg, { statusCode: 503 });
        return;
      }
      if (!(ALLOWED_METHODS as readonly string[]).includes(method)) {
        const status = KNOWN_METHODS.has(method) ? 405 : 501;
        log.debug({ method, status }, 'unsupported method');
        core.replyStateless(msg, { statusCode: status, extraHeaders: [ALLOW_HEADER] });
        return;
      }
      if (method === 'OPTIONS') {
        core.replyStateless(msg, { statusCode: 200, extraHeaders: [ALLOW_HEADER, ACCEPT_HEADER] });
        return;
      }
      if (method !== 'ACK' && method !== 'CANCEL') {
        // RFC 3261 8.2.2.3: extensions the request requires that we lack.
        const unsupported = unsupportedExtensions(msg.getHeaders('require'));
        if (unsupported.length > 0) {
          log.info({ method, unsupported }, 'unsupported extension required');
          core.replyStateless(msg, { statusCode: 420, extraHeaders: [`Unsupported: ${unsupported.join(', ')}`] });
          return;
        }
        if (!msg.toTag && (msg.getHeader('max-forwards') ?? '').trim() === '0') {
          core.replyStateless(msg, { statusCode: 483 });
          return;
        }
      }
      if (method === 'UPDATE') {
        this.routeUpdate(stack, msg);
        return;
      }
      let trunk: string | undefined;
      let sessionTimer: RequestMeta['sessionTimer'];
      if (method === 'INVITE' && !msg.toTag) {
        const verdict = this.admitInvite(stack, msg, meta);
        if (!verdict.admit) {
          core.replyStateless(msg, verdict.response);
          return;
        }
        trunk = verdict.trunk;
        if (this.sessionTimers) {
          const timer = negotiateAsAnswerer(
            { sessionExpires: msg.getHeader('session-expires') ?? msg.getHeader('x'), minSE: msg.getHeader('min-se'), supported: msg.getHeaders('supported') },
            this.sessionTimers,
          );
          if (timer.kind === 'too-small') {
            log.info({ sessionExpires: msg.getHeader('session-expires'), minSE: timer.minSeconds }, 'session interval too small');
            core.replyStateless(msg, { statusCode: 422, reasonPhrase: 'Session Interval Too Small', extraHeaders: [`Min-SE: ${timer.minSeconds}`] });
            return;
          }
          if (timer.kind === 'malformed') {
            core.replyStateless(msg, { statusCode: 400, reasonPhrase: timer.reason });
            return;
          }
          sessionTimer = { interval: timer.interval, responseHeaders: timer.responseHeaders };
        }
      }
      // SIP.js answers 404 when the Request-URI user is not its own contact
      // user. Trunks dial numbers; remember the number and hand SIP.js a
      // Request-URI it accepts. The application decides about the number.
      const ruri = msg.ruri;
      const dialed = ruri?.user ?? '';
      if (ruri && (ruri.scheme === 'sip' || ruri.scheme === 'sips')) {
        ruri.user = CONTACT_USER;
        // SIP.js answers 416 to anything but sip:; over TLS a sips: URI means the same to us.
        if (stack.name === 'tls') ruri.scheme = 'sip';
      }
      this.requestMeta.set(msg, { ...meta, dialed, ...(trunk !== undefined ? { trunk } : {}), ...(sessionTimer ? { sessionTimer } : {}) });
      core.receiveIncomingRequestFromTransport(msg);
    } catch (err) {
      log.error({ err, method }, 'SIP core failed on a request');
      if (method !== 'ACK') {
        try {
          core.replyStateless(msg, { statusCode: 500, reasonPhrase: 'Server Internal Error' });
        } catch {
          /* nothing more to do */
        }
      }
    } finally {
      if (stack.transport instanceof TcpTransport && method === 'INVITE' && !msg.toTag && !this.findCall(stack, msg)) {
        stack.transport.releaseCall(callId);
      }
    }
  }

  /**
   * UPDATE (RFC 3311) never reaches SIP.js, whose dialogs answer it 501:
   * the call it belongs to answers it, statelessly (on UDP the transport's
   * response cache answers retransmissions). Unknown dialog: 481.
   */
  private routeUpdate(stack: Stack, msg: IncomingRequestMessage): void {
    const call = msg.toTag ? (this.findCall(stack, msg) ?? this.outbound.get(msg.callId)) : undefined;
    if (!call) {
      stack.core.replyStateless(msg, { statusCode: 481, reasonPhrase: 'Call/Transaction Does Not Exist' });
      return;
    }
    call.handleUpdate(msg, (options) => stack.core.replyStateless(msg, options));
  }

  /**
   * Admission of a new INVITE, before SIP.js or the application see it:
   * source address → trunk (403), per-source rate (503), digest (401),
   * concurrent dialogs (503). Retransmissions of an admitted INVITE (same
   * source address and port, Call-ID, CSeq and branch, while its server
   * transaction lives) pass straight through to the transaction layer; an
   * INVITE merely reusing a branch is admitted like any other.
   */
  private admitInvite(
    stack: Stack,
    msg: IncomingRequestMessage,
    meta: ReceivedMeta,
  ):
    | { admit: true; trunk?: string }
    | { admit: false; response: { statusCode: number; reasonPhrase?: string; extraHeaders?: string[] } } {
    const branchKey = admissionKey(stack.name, meta, msg);
    const now = Date.now();
    for (const [k, expiry] of this.admittedBranches) {
      if (expiry > now) break;
      this.admittedBranches.delete(k);
    }
    const source = meta.remoteAddress;
    const log = this.log.child({ callId: msg.callId });
    let trunk: SipTrunk | undefined;
    if (this.trunkTable) {
      trunk = this.trunkTable.match(source);
      if (!trunk) {
        log.warn({ source }, 'INVITE from a source no trunk admits');
        return { admit: false, response: { statusCode: 403, reasonPhrase: 'Forbidden' } };
      }
    }
    const admitted = (): { admit: true; trunk?: string } => {
      this.admittedBranches.set(branchKey, now + ADMITTED_BRANCH_TTL_MS);
      return trunk ? { admit: true, trunk: trunk.name } : { admit: true };
    };
    if (this.admittedBranches.has(branchKey) && stack.core.userAgentServers.has(msg.viaBranch)) {
      return trunk ? { admit: true, trunk: trunk.name } : { admit: true };
    }
    if (this.inviteLimiter && !this.inviteLimiter.take(source)) {
      const retryAfter = this.inviteLimiter.retryAfterSeconds(source);
      log.warn({ source, retryAfter }, 'INVITE rate limit exceeded');
      return { admit: false, response: { statusCode: 503, reasonPhrase: 'Rate Limit Exceeded', extraHeaders: [`Retry-After: ${retryAfter}`] } };
    }
    const auth = trunk?.inbound.auth;
    if (auth) {
      const verdict = this.digest.verify(msg.getHeaders('authorization'), msg.method, auth, requestUriText(msg));
      if (!verdict.ok) {
        if (verdict.why !== 'missing') log.warn({ source, trunk: trunk?.name, why: verdict.why }, 'digest authentication failed');
        return {
          admit: false,
          response: { statusCode: 401, reasonPhrase: 'Unauthorized', extraHeaders: [this.digest.challengeHeader(auth.realm, verdict.why === 'stale')] },
        };
      }
    }
    const maxDialogs = this.options.maxDialogs ?? 10_000;
    if (this.liveDialogs() >= maxDialogs) {
      log.warn({ maxDialogs }, 'too many dialogs; INVITE refused');
      return { admit: false, response: { statusCode: 503, reasonPhrase: 'Too Many Calls', extraHeaders: ['Retry-After: 5'] } };
    }
    return admitted();
  }

  /**
   * Place a call through a trunk. Returns at once; the INVITE is on its way
   * (UDP retransmitted by timer A, given up by timer B). Throws RangeError
   * for an unknown trunk, a trunk without an outbound section or a number
   * that is not a phone number, and Error when closing or at maxDialogs.
   */
  dial(options: DialOptions): OutboundCall {
    if (this.closing) throw new Error('SIP server is closing');
    const trunk = this.trunkTable?.get(options.trunk);
    if (!trunk) throw new RangeError(`unknown trunk ${JSON.stringify(options.trunk)}`);
    const out = trunk.outbound;
    if (!out) throw new RangeError(`trunk ${trunk.name} has no outbound section`);
    const number = formatForTrunk(options.number, out.numberFormat ?? 'e164-plus');
    if (!number) throw new RangeError(`not a phone number: ${JSON.stringify(options.number)}`);
    const callerId = options.callerId ?? out.callerId;
    if (!USER_PART_RE.test(callerId)) throw new RangeError(`bad caller id: ${JSON.stringify(callerId)}`);
    const maxDialogs = this.options.maxDialogs ?? 10_000;
    if (this.liveDialogs() >= maxDialogs) throw new Error(`too many calls (maxDialogs ${maxDialogs})`);
    const stack = this.stacks.find((st) => st.name === out.proxy.transport);
    if (!stack) throw new Error(`no ${out.proxy.transport} transport`);
    const ruri = new URI('sip', number, out.proxy.host, out.proxy.port, stack.name === 'udp' ? undefined : { transport: stack.name });
    const toUri = new URI('sip', number, out.proxy.host, out.proxy.port);
    const fromUri = new URI('sip', callerId, this.advertisedAddress);
    const extraHeaders = [stack.contactHeader, ALLOW_HEADER];
    if (this.sessionTimers) {
      // RFC 4028 7.1: ask for session timers and let the far end pick the refresher.
      extraHeaders.push('Supported: timer', `Session-Expires: ${this.sessionTimers.expiresSeconds}`, `Min-SE: ${this.sessionTimers.minSeconds}`);
    }
    if (out.pAssertedIdentity) extraHeaders.push(`P-Asserted-Identity: ${this.assertedIdentity(out.pAssertedIdentity)}`);
    const displayName = (options.displayName ?? '').replace(/["\\\r\n]/g, '');
    const message = stack.core.makeOutgoingRequestMessage(
      'INVITE',
      ruri,
      fromUri,
      toUri,
      displayName ? { fromDisplayName: displayName } : {},
      extraHeaders,
      sdpBody(options.offerSdp),
    );
    const callId = message.callId;
    const log = this.log.child({ callId });
    const call = new OutboundCall(
      {
        callId,
        trunk: trunk.name,
        number,
        requestUri: ruri.toString(),
        from: message.from.toString(),
        transport: stack.name,
        offerSdp: options.offerSdp,
      },
      {
        logger: log,
        contactHeader: stack.contactHeader,
        ringTimeoutMs: options.ringTimeoutMs ?? this.options.defaultRingTimeoutMs ?? 60_000,
        ...(this.sessionTimers ? { sessionTimers: this.sessionTimers } : {}),
        onEnded: () => {
          if (this.outbound.get(callId) === call) this.outbound.delete(callId);
        },
      },
    );
    this.outbound.set(callId, call);
    log.info({ trunk: trunk.name, number, ruri: ruri.toString(), transport: stack.name }, 'outgoing call');
    try {
      call.attach(stack.core.invite(message, call.delegate));
    } catch (err) {
      this.outbound.delete(callId);
      throw err;
    }
    return call;
  }

  private assertedIdentity(value: string): string {
    if (/^<.*>$/.test(value)) return value;
    if (/^(sips?|tel):/i.test(value)) return `<${value}>`;
    return `<sip:${value}@${hostForUri(this.advertisedAddress)}>`;
  }

  private callKey(stack: Stack, callId: string, fromTag: string): string {
    return `${stack.name}|${callId}|${fromTag}`;
  }

  private findCall(stack: Stack, msg: IncomingRequestMessage): InboundCall | undefined {
    return this.calls.get(this.callKey(stack, msg.callId, msg.fromTag));
  }

  private onInvite(stack: Stack, uas: IncomingInviteRequest): void {
    const msg = uas.message;
    const meta = this.requestMeta.get(msg);
    const log = this.log.child({ callId: msg.callId });
    try {
      uas.trying();
    } catch (err) {
      log.warn({ err }, 'failed to send 100 Trying');
    }
    const dialed = meta?.dialed ?? '';
    const dialedE164 = normaliseE164(dialed);
    const info: InboundCallInfo = {
      callId: msg.callId,
      from: sipAddress(msg.from),
      to: sipAddress(msg.to),
      dialed,
      ...(dialedE164 ? { dialedE164 } : {}),
      ...(meta?.trunk !== undefined ? { trunk: meta.trunk } : {}),
      transport: stack.name,
      sourceAddress: meta?.remoteAddress ?? '',
      sourcePort: meta?.remotePort ?? 0,
      offerSdp: msg.body ?? '',
    };
    const key = this.callKey(stack, msg.callId, msg.fromTag);
    const call = new InboundCall(uas, info, {
      logger: log,
      contactHeader: stack.contactHeader,
      reliableProvisional: namesOptionTag([...msg.getHeaders('require'), ...msg.getHeaders('supported')], '100rel'),
      unreliableTransport: stack.name === 'udp',
      ...(meta?.sessionTimer && this.sessionTimers
        ? {
            sessionTimer: {
              settings: this.sessionTimers,
              ...meta.sessionTimer,
              peerAllowsUpdate: namesOptionTag(msg.getHeaders('allow'), 'update'),
            },
          }
        : {}),
      onEnded: () => {
        if (this.calls.get(key) === call) this.calls.delete(key);
        if (call.byePending) this.lingering.add(call);
        else if (stack.transport instanceof TcpTransport) stack.transport.releaseCall(msg.callId);
      },
      onByeSettled: () => {
        this.lingering.delete(call);
        if (stack.transport instanceof TcpTransport) stack.transport.releaseCall(msg.callId);
      },
    });
    this.calls.set(key, call);
    log.info(
      { from: info.from.uri, to: info.to.uri, dialed: info.dialed, trunk: info.trunk, transport: info.transport, source: `${info.sourceAddress}:${info.sourcePort}` },
      'incoming call',
    );
    if (this.listenerCount('call') === 0) {
      log.warn('no call listener; rejecting');
      call.reject(503, 'Service Unavailable');
      return;
    }
    try {
      this.emit('call', call);
    } catch (err) {
      log.error({ err }, 'call listener threw');
      if (call.state === 'ringing') call.reject(500, 'Server Internal Error');
    }
  }
}

/** What identifies a retransmission of one INVITE: where it came from and its transaction. */
function admissionKey(transport: SipTransportName, meta: ReceivedMeta, msg: IncomingRequestMessage): string {
  return [transport, `${meta.remoteAddress}:${meta.remotePort}`, msg.callId, String(msg.cseq), msg.viaBranch].join('|');
}

/** The Request-URI as it appears on the request line (before any rewriting), for the digest `uri` check. */
export function requestUriText(msg: IncomingRequestMessage): string {
  const data = msg.data ?? '';
  const end = data.indexOf('\r\n');
  const line = end >= 0 ? data.slice(0, end) : data;
  const parts = line.trim().split(/\s+/);
  if (parts.length === 3) return parts[1]!;
  return msg.ruri?.toString() ?? '';
}

function sipAddress(header: { uri: { toString(): string; user?: string | undefined }; displayName: string } | undefined): SipAddress {
  if (!header) return { uri: '', user: '', displayName: '' };
  return { uri: header.uri.toString(), user: header.uri.user ?? '', displayName: header.displayName ?? '' };
}

/** Option tags in Require header values that we do not support. */
export function unsupportedExtensions(requireValues: readonly string[]): string[] {
  const out: string[] = [];
  for (const value of requireValues) {
    for (const raw of value.split(',')) {
      const tag = raw.trim().toLowerCase();
      if (tag && !SUPPORTED_EXTENSIONS.includes(tag) && !out.includes(tag)) out.push(tag);
    }
  }
  return out;
}

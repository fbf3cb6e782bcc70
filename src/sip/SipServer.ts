/**
 * The SIP signaling server: UDP and TCP listeners on one port, each feeding
 * its own SIP.js UserAgentCore (one protocol per core), both emitting
 * `call` for new INVITEs.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { URI, UserAgentCore } from 'sip.js/lib/core/index.js';
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
import { InboundCall } from './InboundCall.js';
import type { SipAddress, SipServerEvents, SipServerOptions, SipTransportName } from './SipTypes.js';
import type { ReceivedMeta, SipTransportBase } from './transport/SipTransportBase.js';
import { TcpTransport } from './transport/TcpTransport.js';
import { UdpTransport } from './transport/UdpTransport.js';

/** Methods we implement. */
export const ALLOWED_METHODS = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'INFO'] as const;
const ALLOW_HEADER = `Allow: ${ALLOWED_METHODS.join(', ')}`;
const ACCEPT_HEADER = 'Accept: application/sdp, application/dtmf-relay, application/dtmf';
/** Methods we know but do not support (405); anything else unknown gets 501. */
const KNOWN_METHODS = new Set([
  'REGISTER', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'MESSAGE', 'REFER', 'PRACK', 'UPDATE',
]);
/** The user part of our Contact; every incoming Request-URI is mapped to it before SIP.js sees it. */
const CONTACT_USER = 'bridge';

export interface SipServerAddress {
  bindAddress: string;
  advertisedAddress: string;
  udpPort: number;
  tcpPort: number;
}

interface RequestMeta extends ReceivedMeta {
  dialed: string;
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
  private readonly requestMeta = new WeakMap<IncomingRequestMessage, RequestMeta>();
  private readonly advertisedAddress: string;
  private closing = false;

  private constructor(private readonly options: SipServerOptions) {
    super();
    this.log = options.logger.child({ component: 'sip' });
    this.advertisedAddress =
      options.advertisedAddress ??
      (options.bindAddress === '0.0.0.0' || options.bindAddress === '::' ? '127.0.0.1' : options.bindAddress);
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
  }

  private addStack(name: SipTransportName, transport: SipTransportBase, port: number, loggerFactory: LoggerFactory): void {
    const host = this.advertisedAddress;
    const contactUri = new URI('sip', CONTACT_USER, host, port, name === 'tcp' ? { transport: 'tcp' } : undefined);
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
      supportedOptionTagsResponse: [],
      userAgentHeaderFieldValue: this.options.userAgent,
      viaForceRport: true,
      viaHost: `${hostForUri(host)}:${port}`,
      authenticationFactory: () => undefined,
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
    return {
      bindAddress: this.options.bindAddress,
      advertisedAddress: this.advertisedAddress,
      udpPort: udp?.transport.port ?? 0,
      tcpPort: tcp?.transport.port ?? 0,
    };
  }

  /** Calls that have not ended yet. */
  activeCalls(): InboundCall[] {
    return [...this.calls.values()];
  }

  /** End every call (BYE, or 503 if unanswered) and close the sockets. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const call of [...this.calls.values()]) {
      try {
        if (call.state === 'ringing') call.reject(503, 'Service Unavailable');
        else call.hangup('Server shutting down');
      } catch (err) {
        this.log.warn({ err, callId: call.info.callId }, 'error ending call at shutdown');
      }
    }
    // Let the BYEs and final responses reach the sockets.
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
    this.log.info('SIP server closed');
  }

  private onResponse(stack: Stack, msg: IncomingResponseMessage): void {
    try {
      stack.core.receiveIncomingResponseFromTransport(msg);
    } catch (err) {
      this.log.error({ err, callId: msg.callId }, 'SIP core failed on a response');
    }
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
      // SIP.js answers 404 when the Request-URI user is not its own contact
      // user. Trunks dial numbers; remember the number and hand SIP.js a
      // Request-URI it accepts. The application decides about the number.
      const ruri = msg.ruri;
      const dialed = ruri?.user ?? '';
      if (ruri && ruri.scheme === 'sip') ruri.user = CONTACT_USER;
      this.requestMeta.set(msg, { ...meta, dialed });
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
    const info = {
      callId: msg.callId,
      from: sipAddress(msg.from),
      to: sipAddress(msg.to),
      dialed: meta?.dialed ?? '',
      transport: stack.name,
      sourceAddress: meta?.remoteAddress ?? '',
      sourcePort: meta?.remotePort ?? 0,
      offerSdp: msg.body ?? '',
    };
    const key = this.callKey(stack, msg.callId, msg.fromTag);
    const call = new InboundCall(uas, info, {
      logger: log,
      contactHeader: stack.contactHeader,
      onEnded: () => {
        if (this.calls.get(key) === call) this.calls.delete(key);
        if (stack.transport instanceof TcpTransport) stack.transport.releaseCall(msg.callId);
      },
    });
    this.calls.set(key, call);
    log.info(
      { from: info.from.uri, to: info.to.uri, dialed: info.dialed, transport: info.transport, source: `${info.sourceAddress}:${info.sourcePort}` },
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

function sipAddress(header: { uri: { toString(): string; user?: string | undefined }; displayName: string } | undefined): SipAddress {
  if (!header) return { uri: '', user: '', displayName: '' };
  return { uri: header.uri.toString(), user: header.uri.user ?? '', displayName: header.displayName ?? '' };
}

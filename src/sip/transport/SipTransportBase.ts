/**
 * What our UDP and TCP transports share: intake of raw messages (size limit,
 * validation, 400s, received/rport), parsing with SIP.js, and routing of the
 * destination-less strings SIP.js asks us to send (responses by the top Via,
 * requests by Route / Request-URI).
 */
import dns from 'node:dns';
import net from 'node:net';
import { IncomingRequestMessage, IncomingResponseMessage, Parser } from 'sip.js/lib/core/index.js';
import type { LoggerFactory, Transport } from 'sip.js/lib/core/index.js';
import type { Logger } from '../../log.js';
import type { SipTransportName } from '../SipTypes.js';
import {
  addReceivedRport,
  buildErrorResponse,
  classifyStartLine,
  contentLength,
  getHeader,
  parseHead,
  requestDestination,
  responseDestination,
  topVia,
  validateRequest,
  validateResponse,
  type RawHead,
  type StartLine,
} from './rawMessage.js';

export interface TransportSource {
  address: string;
  port: number;
  /** TCP only: key of the connection the bytes came on. */
  connectionId?: string;
}

export interface ReceivedMeta {
  transport: SipTransportName;
  remoteAddress: string;
  remotePort: number;
}

export interface TransportDelegate {
  onRequest(message: IncomingRequestMessage, meta: ReceivedMeta): void;
  onResponse(message: IncomingResponseMessage, meta: ReceivedMeta): void;
}

export interface TransportOptions {
  bindAddress: string;
  port: number;
  maxMessageBytes: number;
  /** Requests with more header fields get 400, responses are dropped. Default 256. */
  maxHeaderCount?: number;
  logger: Logger;
  coreLoggerFactory: LoggerFactory;
  userAgent?: string;
}

export interface Destination {
  host: string;
  port: number;
}

/** Parsed view of an outgoing message, handed to subclasses. */
export interface OutgoingInfo {
  text: string;
  head: RawHead;
  start: StartLine;
  callId: string | undefined;
}

/** Normalise an IPv4-mapped IPv6 address to plain IPv4. */
export function normaliseAddress(address: string): string {
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

export async function resolveHost(host: string): Promise<string> {
  if (net.isIP(host)) return host;
  const res = await dns.promises.lookup(host);
  return res.address;
}

export abstract class SipTransportBase implements Transport {
  abstract readonly protocol: 'UDP' | 'TCP' | 'TLS';
  abstract readonly name: SipTransportName;
  delegate: TransportDelegate | undefined;
  protected readonly log: Logger;
  private readonly parserLogger;

  protected constructor(protected readonly options: TransportOptions, name: SipTransportName) {
    this.log = options.logger.child({ transport: name });
    this.parserLogger = options.coreLoggerFactory.getLogger('sip.parser');
  }

  abstract listen(): Promise<void>;
  abstract close(): Promise<void>;
  /** The bound port (after listen). */
  abstract get port(): number;

  /** SIP.js entry point: send a request or response it built. */
  async send(message: string): Promise<void> {
    const head = parseHead(message);
    const start = head ? classifyStartLine(head.startLine) : undefined;
    if (!head || !start) throw new Error('Refusing to send an unparseable SIP message');
    const info: OutgoingInfo = { text: message, head, start, callId: getHeader(head, 'call-id') };
    this.log.trace({ callId: info.callId, dir: 'out', sip: message }, 'SIP out');
    if (start.kind === 'response') {
      const via = topVia(head);
      if (!via) throw new Error('Response without a usable Via');
      const dest = responseDestination(via);
      await this.sendResponse(info, dest, via.port ?? 5060);
    } else {
      const dest = requestDestination(head, start);
      if (!dest) throw new Error(`Cannot route ${start.method} to ${start.uri}`);
      await this.sendRequest(info, { host: await resolveHost(dest.host), port: dest.port });
    }
  }

  /** Send a response to its destination; sentByPort is the Via's own port (TCP reconnect target). */
  protected abstract sendResponse(info: OutgoingInfo, dest: Destination, sentByPort: number): Promise<void>;
  protected abstract sendRequest(info: OutgoingInfo, dest: Destination): Promise<void>;
  /** Send a locally generated reply straight back where the bytes came from. */
  protected abstract replyToSource(text: string, src: TransportSource): void;

  /**
   * Hook for subclasses: an incoming request, already validated, before it
   * is parsed. Return true to consume it (e.g. answered from a cache).
   */
  protected beforeRequest(_head: RawHead, _start: StartLine & { kind: 'request' }, _src: TransportSource): boolean {
    return false;
  }

  /**
   * Hook for subclasses: an incoming response, already validated. Return
   * true to consume it (e.g. a retransmission a finished transaction absorbs).
   */
  protected beforeResponse(_head: RawHead, _status: number, _src: TransportSource): boolean {
    return false;
  }

  /** Entry for raw bytes from a socket. Never throws. */
  protected receive(data: Buffer, src: TransportSource): void {
    try {
      this.intake(data, src);
    } catch (err) {
      this.log.error({ err, remote: `${src.address}:${src.port}` }, 'error while handling an incoming SIP message');
    }
  }

  private intake(data: Buffer, src: TransportSource): void {
    const remote = `${src.address}:${src.port}`;
    if (data.length > this.options.maxMessageBytes) {
      this.rejectOversize(data, src);
      return;
    }
    const headEnd = data.indexOf('\r\n\r\n');
    let text: string;
    let bodyBytes = 0;
    if (headEnd >= 0) {
      const headText = data.subarray(0, headEnd + 4).toString('utf8');
      const bodyBuf = data.subarray(headEnd + 4);
      bodyBytes = bodyBuf.length;
      // Cut the body at Content-Length, in bytes (SIP.js would count characters).
      const headOnly = parseHead(headText);
      const cl = headOnly ? contentLength(headOnly) : undefined;
      text = headText + (cl !== undefined && cl < bodyBuf.length ? bodyBuf.subarray(0, cl) : bodyBuf).toString('utf8');
    } else {
      text = data.toString('utf8');
    }
    if (text.trim() === '') return; // keep-alive
    const head = parseHead(text);
    const start = head ? classifyStartLine(head.startLine) : undefined;
    if (!head || !start) {
      this.log.debug({ remote, bytes: data.length }, 'dropping unparseable datagram/segment');
      return;
    }
    const callId = getHeader(head, 'call-id');
    this.log.trace({ callId, dir: 'in', remote, sip: text }, 'SIP in');
    if (head.headers.length > (this.options.maxHeaderCount ?? 256)) {
      this.log.warn({ callId, remote, headers: head.headers.length }, 'too many header fields');
      if (start.kind === 'request') this.replyError(head, start.method, 400, 'Too Many Headers', src);
      return;
    }

    if (start.kind === 'response') {
      if (!validateResponse(head)) {
        this.log.debug({ callId, remote }, 'dropping malformed response');
        return;
      }
      if (this.beforeResponse(head, start.status, src)) return;
      const msg = Parser.parseMessage(text, this.parserLogger);
      if (!(msg instanceof IncomingResponseMessage)) {
        this.log.debug({ callId, remote }, 'dropping response SIP.js cannot parse');
        return;
      }
      this.delegate?.onResponse(msg, this.meta(src));
      return;
    }

    const problem = validateRequest(head, start.method, bodyBytes, this.protocol === 'UDP');
    if (problem) {
      this.log.warn({ callId, remote, method: start.method, problem }, 'malformed request');
      this.replyError(head, start.method, 400, problem, src);
      return;
    }
    const stamped = addReceivedRport(text, src.address, src.port);
    const stampedHead = parseHead(stamped) ?? head;
    if (this.beforeRequest(stampedHead, start, src)) return;
    const msg = Parser.parseMessage(stamped, this.parserLogger);
    if (!(msg instanceof IncomingRequestMessage) || !msg.from || !msg.to || !msg.callId || !msg.cseq || !msg.ruri) {
      this.log.warn({ callId, remote, method: start.method }, 'request with unparseable headers');
      this.replyError(head, start.method, 400, 'Malformed header', src);
      return;
    }
    if (!this.delegate) return;
    this.delegate.onRequest(msg, this.meta(src));
  }

  private meta(src: TransportSource): ReceivedMeta {
    return { transport: this.name, remoteAddress: src.address, remotePort: src.port };
  }

  private replyError(head: RawHead, method: string, status: number, reason: string, src: TransportSource): void {
    if (method === 'ACK') return;
    const extra = this.options.userAgent ? [`Server: ${this.options.userAgent}`] : [];
    const response = buildErrorResponse(head, status, reason, extra);
    if (!response) {
      this.log.debug({ remote: `${src.address}:${src.port}`, status, reason }, 'cannot route error response; dropped');
      return;
    }
    this.replyToSource(response, src);
  }

  /** Answer 513 to an oversized request when its head can be read, else drop it. */
  protected rejectOversize(data: Buffer, src: TransportSource, headText?: string): void {
    const text = headText ?? data.subarray(0, Math.min(data.length, 8192)).toString('utf8');
    const head = parseHead(text);
    const start = head ? classifyStartLine(head.startLine) : undefined;
    this.log.warn({ remote: `${src.address}:${src.port}`, bytes: data.length }, 'oversized SIP message');
    if (head && start?.kind === 'request') this.replyError(head, start.method, 513, 'Message Too Large', src);
  }
}

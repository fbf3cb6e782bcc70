/**
 * SIP over TCP: one listener, one map of connections (accepted and opened
 * by us) keyed by remote address:port, framing by Content-Length, responses
 * back on the connection the request came on, idle connections closed.
 */
import { describeListenError } from '../../util/listenError.js';
import net from 'node:net';
import { StreamFramer } from './StreamFramer.js';
import { buildErrorResponse, classifyStartLine, getHeader, parseHead, type RawHead, type StartLine } from './rawMessage.js';
import {
  SipTransportBase,
  normaliseAddress,
  type Destination,
  type OutgoingInfo,
  type TransportOptions,
  type TransportSource,
} from './SipTransportBase.js';

export interface TcpTransportOptions extends TransportOptions {
  /** Close connections without traffic (and without a call pinned to them) after this long. Default 120 s. */
  idleTimeoutMs?: number;
  /** Time allowed to open an outgoing connection. Default 5 s. */
  connectTimeoutMs?: number;
}

interface Connection {
  id: string;
  socket: net.Socket;
  lastActivity: number;
  /** Calls whose in-dialog requests should go on this connection. */
  calls: Set<string>;
}

function key(address: string, port: number): string {
  return `${address}:${port}`;
}

export class TcpTransport extends SipTransportBase {
  readonly protocol: 'TCP' | 'TLS' = 'TCP';
  readonly name: 'tcp' | 'tls' = 'tcp';
  private server: net.Server | undefined;
  private boundPort = 0;
  private readonly connections = new Map<string, Connection>();
  private readonly pending = new Map<string, Promise<Connection>>();
  /** Call-ID → connection id, for calls that arrived over TCP. */
  private readonly flows = new Map<string, string>();
  private sweeper: NodeJS.Timeout | undefined;
  private readonly idleTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private closed = false;

  constructor(options: TcpTransportOptions, name: 'tcp' | 'tls' = 'tcp') {
    super(options, name);
    this.idleTimeoutMs = options.idleTimeoutMs ?? 120_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
  }

  get port(): number {
    return this.boundPort;
  }

  /** Number of open connections (for tests and metrics). */
  get connectionCount(): number {
    return this.connections.size;
  }

  listen(): Promise<void> {
    const { bindAddress, port } = this.options;
    return new Promise((resolve, reject) => {
      const server = this.createServer((socket) => this.adopt(socket));
      const onError = (err: NodeJS.ErrnoException) => {
        server.close();
        reject(describeListenError(err, 'SIP', this.protocol, bindAddress, port));
      };
      server.once('error', onError);
      server.listen({ port, host: bindAddress, exclusive: true }, () => {
        server.off('error', onError);
        server.on('error', (err) => this.log.error({ err }, `${this.protocol} server error`));
        this.server = server;
        const addr = server.address();
        this.boundPort = typeof addr === 'object' && addr ? addr.port : port;
        const every = Math.max(1000, Math.floor(this.idleTimeoutMs / 2));
        this.sweeper = setInterval(() => this.sweep(), every);
        this.sweeper.unref();
        this.log.info({ address: bindAddress, port: this.boundPort }, `SIP ${this.protocol} listening`);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    for (const c of this.connections.values()) c.socket.destroy();
    this.connections.clear();
    this.flows.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The listening server; TLS overrides it (same framing on top). */
  protected createServer(onSocket: (socket: net.Socket) => void): net.Server {
    return net.createServer(onSocket);
  }

  /** An outgoing connection and the event that says it is ready; TLS overrides it. */
  protected openSocket(dest: Destination): { socket: net.Socket; readyEvent: string } {
    return { socket: net.connect({ host: dest.host, port: dest.port }), readyEvent: 'connect' };
  }

  /** Forget the connection pinned to a call (the call is over). */
  releaseCall(callId: string): void {
    const id = this.flows.get(callId);
    this.flows.delete(callId);
    if (id) this.connections.get(id)?.calls.delete(callId);
  }

  private adopt(socket: net.Socket): Connection {
    const address = normaliseAddress(socket.remoteAddress ?? '');
    const port = socket.remotePort ?? 0;
    const id = key(address, port);
    const conn: Connection = { id, socket, lastActivity: Date.now(), calls: new Set() };
    const old = this.connections.get(id);
    if (old && old.socket !== socket) old.socket.destroy();
    this.connections.set(id, conn);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    const src: TransportSource = { address, port, connectionId: id };
    const framer = new StreamFramer(this.options.maxMessageBytes, {
      message: (data) => {
        conn.lastActivity = Date.now();
        this.receive(data, src);
      },
      ping: () => {
        conn.lastActivity = Date.now();
        if (!socket.destroyed) socket.write('\r\n');
      },
      error: (err) => {
        try {
          if (err.kind === 'oversize') {
            this.rejectOversize(Buffer.alloc(0), src, err.head ?? '');
          } else {
            this.replyFramingError(err.head, src);
          }
        } catch (e) {
          this.log.warn({ err: e }, 'failed to answer a framing error');
        }
        this.log.warn({ remote: id, kind: err.kind }, 'TCP stream cannot be framed; closing connection');
        socket.end();
        setTimeout(() => socket.destroy(), 1000).unref();
      },
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        framer.push(chunk);
      } catch (err) {
        this.log.error({ err, remote: id }, 'error while framing TCP data');
        socket.destroy();
      }
    });
    socket.on('error', (err) => this.log.debug({ err, remote: id }, 'TCP connection error'));
    socket.on('close', () => {
      if (this.connections.get(id) === conn) this.connections.delete(id);
      for (const callId of conn.calls) {
        if (this.flows.get(callId) === id) this.flows.delete(callId);
      }
    });
    return conn;
  }

  private replyFramingError(headText: string, src: TransportSource): void {
    const head = parseHead(headText + '\r\n\r\n');
    const start = head ? classifyStartLine(head.startLine) : undefined;
    if (!head || start?.kind !== 'request' || start.method === 'ACK') return;
    const response = buildErrorResponse(head, 400, 'Bad Content-Length');
    if (response) this.replyToSource(response, src);
  }

  private sweep(): void {
    const now = Date.now();
    for (const c of this.connections.values()) {
      if (c.calls.size === 0 && now - c.lastActivity > this.idleTimeoutMs) {
        this.log.debug({ remote: c.id }, 'closing idle TCP connection');
        c.socket.end();
        setTimeout(() => c.socket.destroy(), 1000).unref();
        this.connections.delete(c.id);
      }
    }
  }

  private connect(dest: Destination): Promise<Connection> {
    const id = key(dest.host, dest.port);
    const existing = this.connections.get(id);
    if (existing && !existing.socket.destroyed) return Promise.resolve(existing);
    const inFlight = this.pending.get(id);
    if (inFlight) return inFlight;
    const p = new Promise<Connection>((resolve, reject) => {
      const { socket, readyEvent } = this.openSocket(dest);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`${this.protocol} connect to ${id} timed out`));
      }, this.connectTimeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once(readyEvent, () => {
        clearTimeout(timer);
        resolve(this.adopt(socket));
      });
    }).finally(() => this.pending.delete(id));
    this.pending.set(id, p);
    return p;
  }

  private async write(conn: Connection, text: string): Promise<void> {
    if (this.closed) throw new Error('TCP transport closed');
    conn.lastActivity = Date.now();
    await new Promise<void>((resolve, reject) => {
      conn.socket.write(text, 'utf8', (err) => (err ? reject(err) : resolve()));
    });
  }

  protected override async sendResponse(info: OutgoingInfo, dest: Destination, sentByPort: number): Promise<void> {
    // Back on the connection the request came on (its key is received:rport).
    const conn = this.connections.get(key(dest.host, dest.port));
    if (conn && !conn.socket.destroyed) {
      await this.write(conn, info.text);
      return;
    }
    // RFC 3261 18.2.2: the connection is gone; open one to received:sent-by port.
    const fresh = await this.connect({ host: dest.host, port: sentByPort });
    await this.write(fresh, info.text);
  }

  protected override async sendRequest(info: OutgoingInfo, dest: Destination): Promise<void> {
    const flowId = info.callId ? this.flows.get(info.callId) : undefined;
    const flow = flowId ? this.connections.get(flowId) : undefined;
    const conn = flow && !flow.socket.destroyed ? flow : await this.connect(dest);
    await this.write(conn, info.text);
  }

  protected override replyToSource(text: string, src: TransportSource): void {
    const conn = src.connectionId ? this.connections.get(src.connectionId) : undefined;
    if (!conn || conn.socket.destroyed) return;
    this.write(conn, text).catch((err: unknown) => this.log.warn({ err }, 'failed to send a reply'));
  }

  protected override beforeRequest(head: RawHead, start: StartLine & { kind: 'request' }, src: TransportSource): boolean {
    const callId = getHeader(head, 'call-id');
    if (!callId || !src.connectionId) return false;
    const conn = this.connections.get(src.connectionId);
    if (!conn) return false;
    const isNewCall = start.method === 'INVITE' && !/;\s*tag=/i.test(getHeader(head, 'to') ?? '');
    if (isNewCall || this.flows.has(callId)) {
      const prev = this.flows.get(callId);
      if (prev && prev !== conn.id) this.connections.get(prev)?.calls.delete(callId);
      this.flows.set(callId, conn.id);
      conn.calls.add(callId);
    }
    return false;
  }
}

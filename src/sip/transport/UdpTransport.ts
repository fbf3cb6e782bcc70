/**
 * SIP over UDP. Besides sending and receiving datagrams it supplies the
 * retransmission timers SIP.js leaves out for unreliable transports:
 * A/B (INVITE client), E/F (non-INVITE client), G/H (non-2xx final
 * responses to INVITE, until ACK), and emulates the "wait" timers SIP.js
 * sets to 0 (their reliable-transport values):
 * - J (64*T1): a cache of final responses to non-INVITE requests, so a
 *   retransmitted request gets the same response;
 * - D (32 s): outgoing ACKs to non-2xx responses are kept, and a
 *   retransmitted non-2xx final response to our INVITE is answered with
 *   the same ACK and absorbed;
 * - I (T4): retransmitted ACKs for our non-2xx final responses are absorbed;
 * - K (T4): retransmitted final responses to our non-INVITE requests are
 *   absorbed.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { Timers } from 'sip.js/lib/core/index.js';
import { describeListenError } from '../../util/listenError.js';
import { cseqMethod, topVia, type RawHead, type StartLine } from './rawMessage.js';
import {
  SipTransportBase,
  normaliseAddress,
  type Destination,
  type OutgoingInfo,
  type TransportOptions,
  type TransportSource,
} from './SipTransportBase.js';

const T1 = Timers.T1;
const T2 = Timers.T2;
const TIMEOUT_64T1 = 64 * T1;
const T4 = Timers.T4;
/** Timer D on unreliable transports: at least 32 s (RFC 3261 17.1.1.2). */
export const TIMER_D_UDP = Math.max(32_000, TIMEOUT_64T1);

/** Keys remembered for a fixed time (one timer per entry, unref'd). */
class ExpiringMap<V> {
  private readonly map = new Map<string, { value: V; timer: NodeJS.Timeout }>();
  constructor(private readonly ttlMs: number) {}
  set(key: string, value: V): void {
    const old = this.map.get(key);
    if (old) clearTimeout(old.timer);
    const timer = setTimeout(() => this.map.delete(key), this.ttlMs);
    timer.unref();
    this.map.set(key, { value, timer });
  }
  get(key: string): V | undefined {
    return this.map.get(key)?.value;
  }
  has(key: string): boolean {
    return this.map.has(key);
  }
  get size(): number {
    return this.map.size;
  }
  clear(): void {
    for (const e of this.map.values()) clearTimeout(e.timer);
    this.map.clear();
  }
}

interface Retransmission {
  text: string;
  dest: Destination;
  interval: number;
  cap: number;
  timer: NodeJS.Timeout | undefined;
  deadline: NodeJS.Timeout;
  callId: string | undefined;
}

export class UdpTransport extends SipTransportBase {
  readonly protocol = 'UDP' as const;
  readonly name = 'udp' as const;
  private socket: dgram.Socket | undefined;
  private boundPort = 0;
  /** Client transactions being retransmitted, by branch|method. */
  private readonly clientRetrans = new Map<string, Retransmission>();
  /** Non-2xx final responses to INVITE being retransmitted until ACK, by branch. */
  private readonly inviteFinalRetrans = new Map<string, Retransmission>();
  /** Final responses to non-INVITE requests, by branch|method, kept 64*T1. */
  private readonly responseCache = new Map<string, { text: string; dest: Destination; timer: NodeJS.Timeout }>();
  /** Timer D: ACKs we sent, by branch (an ACK to a non-2xx shares the INVITE's branch). */
  private readonly sentAcks = new ExpiringMap<{ text: string; dest: Destination }>(TIMER_D_UDP);
  /** Timer I: branches of INVITE server transactions whose non-2xx was ACKed. */
  private readonly ackedFinals = new ExpiringMap<true>(T4);
  /** Timer K: branch|method of non-INVITE client transactions that got their final response. */
  private readonly completedClient = new ExpiringMap<true>(T4);
  private closed = false;

  constructor(options: TransportOptions) {
    super(options, 'udp');
  }

  get port(): number {
    return this.boundPort;
  }

  listen(): Promise<void> {
    const { bindAddress, port } = this.options;
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket({ type: net.isIPv6(bindAddress) ? 'udp6' : 'udp4' });
      const onError = (err: NodeJS.ErrnoException) => {
        socket.close();
        reject(describeListenError(err, 'SIP', 'UDP', bindAddress, port));
      };
      socket.once('error', onError);
      socket.bind({ port, address: bindAddress, exclusive: true }, () => {
        socket.off('error', onError);
        socket.on('error', (err) => this.log.error({ err }, 'UDP socket error'));
        socket.on('message', (data, rinfo) => {
          this.receive(data, { address: normaliseAddress(rinfo.address), port: rinfo.port });
        });
        this.socket = socket;
        this.boundPort = socket.address().port;
        this.log.info({ address: bindAddress, port: this.boundPort }, 'SIP UDP listening');
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const r of [...this.clientRetrans.values(), ...this.inviteFinalRetrans.values()]) stop(r);
    this.clientRetrans.clear();
    this.inviteFinalRetrans.clear();
    for (const c of this.responseCache.values()) clearTimeout(c.timer);
    this.responseCache.clear();
    this.sentAcks.clear();
    this.ackedFinals.clear();
    this.completedClient.clear();
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  private write(text: string, dest: Destination): Promise<void> {
    const socket = this.socket;
    if (!socket || this.closed) return Promise.reject(new Error('UDP transport closed'));
    return new Promise((resolve, reject) => {
      socket.send(Buffer.from(text, 'utf8'), dest.port, dest.host, (err) => (err ? reject(err) : resolve()));
    });
  }

  protected override async sendResponse(info: OutgoingInfo, dest: Destination): Promise<void> {
    await this.write(info.text, dest);
    if (info.start.kind !== 'response') return;
    const status = info.start.status;
    const branch = topVia(info.head)?.params.get('branch');
    const method = cseqMethod(info.head);
    if (!branch || !method) return;
    if (method === 'INVITE' && status >= 300) {
      // Timer G until ACK, timer H gives up.
      this.startRetrans(this.inviteFinalRetrans, branch, info, dest, T2);
    } else if (method !== 'INVITE' && status >= 200) {
      const key = `${branch}|${method}`;
      const old = this.responseCache.get(key);
      if (old) clearTimeout(old.timer);
      const timer = setTimeout(() => this.responseCache.delete(key), TIMEOUT_64T1);
      timer.unref();
      this.responseCache.set(key, { text: info.text, dest, timer });
    }
  }

  protected override async sendRequest(info: OutgoingInfo, dest: Destination): Promise<void> {
    await this.write(info.text, dest);
    if (info.start.kind !== 'request') return;
    const method = info.start.method;
    const branch = topVia(info.head)?.params.get('branch');
    if (!branch) return;
    if (method === 'ACK') {
      this.sentAcks.set(branch, { text: info.text, dest });
      return;
    }
    // Timer A (INVITE, doubling without cap) or timer E (capped at T2).
    this.startRetrans(this.clientRetrans, `${branch}|${method}`, info, dest, method === 'INVITE' ? Infinity : T2);
  }

  protected override replyToSource(text: string, src: TransportSource): void {
    this.write(text, { host: src.address, port: src.port }).catch((err: unknown) =>
      this.log.warn({ err }, 'failed to send a reply'),
    );
  }

  protected override beforeRequest(head: RawHead, start: StartLine & { kind: 'request' }, src: TransportSource): boolean {
    const branch = topVia(head)?.params.get('branch');
    if (!branch) return false;
    if (start.method === 'ACK') {
      const r = this.inviteFinalRetrans.get(branch);
      if (r) {
        stop(r);
        this.inviteFinalRetrans.delete(branch);
        this.ackedFinals.set(branch, true);
        return false;
      }
      if (this.ackedFinals.has(branch)) {
        this.log.debug({ remote: `${src.address}:${src.port}` }, 'retransmitted ACK absorbed (timer I)');
        return true;
      }
      return false;
    }
    if (start.method === 'INVITE') return false;
    const cached = this.responseCache.get(`${branch}|${start.method}`);
    if (cached) {
      this.log.debug({ remote: `${src.address}:${src.port}`, method: start.method }, 'retransmitted request answered from cache');
      this.write(cached.text, cached.dest).catch((err: unknown) => this.log.warn({ err }, 'failed to resend a response'));
      return true;
    }
    return false;
  }

  protected override beforeResponse(head: RawHead, status: number): boolean {
    const branch = topVia(head)?.params.get('branch');
    const method = cseqMethod(head);
    if (!branch || !method) return false;
    const key = `${branch}|${method}`;
    if (method === 'INVITE' && status >= 300) {
      const ack = this.sentAcks.get(branch);
      if (ack) {
        this.log.debug({ key }, 'retransmitted final response to INVITE: ACK resent (timer D)');
        this.write(ack.text, ack.dest).catch((err: unknown) => this.log.warn({ err }, 'failed to resend an ACK'));
        return true;
      }
    } else if (method !== 'INVITE' && status >= 200 && this.completedClient.has(key)) {
      this.log.debug({ key }, 'retransmitted final response absorbed (timer K)');
      return true;
    }
    const r = this.clientRetrans.get(key);
    if (!r) return false;
    if (status >= 200 || method === 'INVITE') {
      stop(r);
      this.clientRetrans.delete(key);
      if (method !== 'INVITE' && status >= 200) this.completedClient.set(key, true);
    } else {
      // Provisional response to a non-INVITE request: keep going every T2.
      r.interval = T2;
    }
    return false;
  }

  /** Entries held by the wait-timer emulations (for tests). */
  get waitTimerState(): { sentAcks: number; ackedFinals: number; completedClient: number } {
    return { sentAcks: this.sentAcks.size, ackedFinals: this.ackedFinals.size, completedClient: this.completedClient.size };
  }

  private startRetrans(
    map: Map<string, Retransmission>,
    key: string,
    info: OutgoingInfo,
    dest: Destination,
    cap: number,
  ): void {
    const existing = map.get(key);
    if (existing) stop(existing);
    const deadline = setTimeout(() => {
      const r = map.get(key);
      if (r) stop(r);
      map.delete(key);
    }, TIMEOUT_64T1);
    deadline.unref();
    const r: Retransmission = { text: info.text, dest, interval: T1, cap, timer: undefined, deadline, callId: info.callId };
    const tick = () => {
      if (this.closed || map.get(key) !== r) return;
      this.log.debug({ callId: r.callId, key }, 'UDP retransmission');
      this.write(r.text, r.dest).catch((err: unknown) => this.log.warn({ err, callId: r.callId }, 'retransmission failed'));
      r.interval = Math.min(r.interval * 2, r.cap);
      r.timer = setTimeout(tick, r.interval);
      r.timer.unref();
    };
    r.timer = setTimeout(tick, r.interval);
    r.timer.unref();
    map.set(key, r);
  }
}

function stop(r: Retransmission): void {
  if (r.timer) clearTimeout(r.timer);
  clearTimeout(r.deadline);
  r.timer = undefined;
}


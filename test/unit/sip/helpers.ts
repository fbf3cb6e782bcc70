/**
 * A tiny raw SIP client for tests: string messages over UDP or TCP, and
 * helpers to build requests and wait for what comes back.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';

export interface SipMsg {
  raw: string;
  startLine: string;
  status?: number;
  reason?: string;
  method?: string;
  headers: Map<string, string[]>;
  body: string;
  header(name: string): string | undefined;
}

const COMPACT: Record<string, string> = { v: 'via', f: 'from', t: 'to', i: 'call-id', m: 'contact', l: 'content-length', c: 'content-type' };

export function parseSip(raw: string): SipMsg {
  const end = raw.indexOf('\r\n\r\n');
  const head = end >= 0 ? raw.slice(0, end) : raw;
  const body = end >= 0 ? raw.slice(end + 4) : '';
  const lines = head.split('\r\n');
  const startLine = lines.shift() ?? '';
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    let name = line.slice(0, i).trim().toLowerCase();
    name = COMPACT[name] ?? name;
    const list = headers.get(name) ?? [];
    list.push(line.slice(i + 1).trim());
    headers.set(name, list);
  }
  const msg: SipMsg = { raw, startLine, headers, body, header: (n) => headers.get(n.toLowerCase())?.[0] };
  const res = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(startLine);
  if (res) {
    msg.status = Number(res[1]);
    msg.reason = res[2] ?? '';
  } else {
    msg.method = startLine.split(' ')[0];
  }
  return msg;
}

export function rand(): string {
  return randomBytes(6).toString('hex');
}

export function branch(): string {
  return `z9hG4bK${rand()}`;
}

/** A plain audio offer. */
export function offerSdp(port = 40000, codecs = '0 8 101'): string {
  return [
    'v=0',
    `o=test ${Date.now()} 1 IN IP4 127.0.0.1`,
    's=test',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP ${codecs}`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-16',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

export interface RequestSpec {
  method: string;
  ruri: string;
  transport: 'UDP' | 'TCP';
  localPort: number;
  callId: string;
  fromTag: string;
  toTag?: string;
  toUri?: string;
  cseq: number;
  cseqMethod?: string;
  branch?: string;
  contact?: boolean;
  headers?: string[];
  body?: string;
  contentType?: string;
}

export function buildRequest(s: RequestSpec): string {
  const body = s.body ?? '';
  const lines = [
    `${s.method} ${s.ruri} SIP/2.0`,
    `Via: SIP/2.0/${s.transport} 127.0.0.1:${s.localPort};branch=${s.branch ?? branch()};rport`,
    'Max-Forwards: 70',
    `From: "Test" <sip:alice@127.0.0.1:${s.localPort}>;tag=${s.fromTag}`,
    `To: <${s.toUri ?? s.ruri}>${s.toTag ? `;tag=${s.toTag}` : ''}`,
    `Call-ID: ${s.callId}`,
    `CSeq: ${s.cseq} ${s.cseqMethod ?? s.method}`,
  ];
  if (s.contact !== false) lines.push(`Contact: <sip:alice@127.0.0.1:${s.localPort}${s.transport === 'TCP' ? ';transport=tcp' : ''}>`);
  lines.push(...(s.headers ?? []));
  if (body) lines.push(`Content-Type: ${s.contentType ?? 'application/sdp'}`);
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`, '', body);
  return lines.join('\r\n');
}

/** Build the response to a request we received (e.g. 200 to the server's BYE). */
export function buildResponse(req: SipMsg, status: number, reason: string): string {
  const lines = [`SIP/2.0 ${status} ${reason}`];
  for (const v of req.headers.get('via') ?? []) lines.push(`Via: ${v}`);
  lines.push(`From: ${req.header('from')}`, `To: ${req.header('to')}`, `Call-ID: ${req.header('call-id')}`, `CSeq: ${req.header('cseq')}`, 'Content-Length: 0', '', '');
  return lines.join('\r\n');
}

export function tagOf(header: string | undefined): string | undefined {
  return header ? /;\s*tag=([^;>\s]+)/i.exec(header)?.[1] : undefined;
}

export function uriOf(header: string | undefined): string | undefined {
  return header ? (/<([^>]+)>/.exec(header)?.[1] ?? header.split(';')[0]) : undefined;
}

type Waiter = { pred: (m: SipMsg) => boolean; resolve: (m: SipMsg) => void };

export class RawSipClient {
  readonly received: SipMsg[] = [];
  private waiters: Waiter[] = [];
  private consumed = new Set<SipMsg>();

  private constructor(
    readonly transport: 'UDP' | 'TCP',
    readonly localPort: number,
    private readonly sendRaw: (data: Buffer) => void,
    private readonly closeFn: () => Promise<void>,
  ) {}

  static udp(serverPort: number, serverHost = '127.0.0.1'): Promise<RawSipClient> {
    return new Promise((resolve, reject) => {
      const sock = dgram.createSocket('udp4');
      sock.once('error', reject);
      sock.bind(0, '127.0.0.1', () => {
        const client = new RawSipClient(
          'UDP',
          sock.address().port,
          (data) => sock.send(data, serverPort, serverHost),
          () => new Promise((r) => sock.close(() => r())),
        );
        sock.on('message', (data) => client.push(data.toString('utf8')));
        resolve(client);
      });
    });
  }

  static tcp(serverPort: number, serverHost = '127.0.0.1'): Promise<RawSipClient> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ port: serverPort, host: serverHost, localAddress: '127.0.0.1' });
      sock.once('error', reject);
      sock.once('connect', () => {
        const client = new RawSipClient(
          'TCP',
          sock.localPort ?? 0,
          (data) => sock.write(data),
          () => new Promise((r) => { sock.end(); sock.destroy(); r(); }),
        );
        let buf = Buffer.alloc(0);
        sock.on('data', (chunk: Buffer) => {
          buf = Buffer.concat([buf, chunk]);
          for (;;) {
            while (buf.length >= 2 && buf[0] === 13 && buf[1] === 10) buf = buf.subarray(2);
            const end = buf.indexOf('\r\n\r\n');
            if (end < 0) return;
            const head = buf.subarray(0, end).toString('utf8');
            const cl = Number(/^(?:content-length|l)\s*:\s*(\d+)/im.exec(head)?.[1] ?? '0');
            const total = end + 4 + cl;
            if (buf.length < total) return;
            const msg = buf.subarray(0, total).toString('utf8');
            buf = buf.subarray(total);
            client.push(msg);
          }
        });
        sock.on('error', () => undefined);
        resolve(client);
      });
    });
  }

  send(text: string | Buffer): void {
    this.sendRaw(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
  }

  private push(raw: string): void {
    const msg = parseSip(raw);
    this.received.push(msg);
    for (const w of [...this.waiters]) {
      if (!this.consumed.has(msg) && w.pred(msg)) {
        this.consumed.add(msg);
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(msg);
      }
    }
  }

  /** Wait for a message (already received or future) not returned by an earlier wait. */
  waitFor(pred: (m: SipMsg) => boolean, what = 'SIP message', timeoutMs = 5000): Promise<SipMsg> {
    const found = this.received.find((m) => !this.consumed.has(m) && pred(m));
    if (found) {
      this.consumed.add(found);
      return Promise.resolve(found);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`timed out waiting for ${what}; got: ${this.received.map((m) => m.startLine).join(' | ')}`));
      }, timeoutMs);
      const w: Waiter = {
        pred,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      this.waiters.push(w);
    });
  }

  response(callId: string, status: number, cseqMethod?: string): Promise<SipMsg> {
    return this.waitFor(
      (m) => m.status === status && m.header('call-id') === callId && (!cseqMethod || (m.header('cseq') ?? '').endsWith(` ${cseqMethod}`)),
      `${status} ${cseqMethod ?? ''} for ${callId}`,
    );
  }

  request(method: string, callId: string): Promise<SipMsg> {
    return this.waitFor((m) => m.method === method && m.header('call-id') === callId, `${method} for ${callId}`);
  }

  close(): Promise<void> {
    return this.closeFn();
  }
}

/** Resolve with the first emission of an event, or fail after a while. */
export function nextEvent<T extends unknown[]>(emitter: EventEmitter, event: string, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`timed out waiting for event ${event}`));
    }, timeoutMs);
    const on = (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args as T);
    };
    emitter.once(event, on);
  });
}

/** A client-side call: INVITE, and what is needed to continue the dialog. */
export interface DialogHandle {
  callId: string;
  fromTag: string;
  toTag: string;
  remoteTarget: string;
  ruri: string;
  cseq: number;
  inviteBranch: string;
  response: SipMsg;
}

export async function placeCall(
  client: RawSipClient,
  serverPort: number,
  user = '15550100',
  opts: { sdp?: string; expectStatus?: number } = {},
): Promise<DialogHandle> {
  const callId = `${rand()}@test`;
  const fromTag = rand();
  const b = branch();
  const ruri = `sip:${user}@127.0.0.1:${serverPort}${client.transport === 'TCP' ? ';transport=tcp' : ''}`;
  client.send(
    buildRequest({
      method: 'INVITE', ruri, transport: client.transport, localPort: client.localPort, callId, fromTag, cseq: 1, branch: b,
      body: opts.sdp ?? offerSdp(),
    }),
  );
  const status = opts.expectStatus ?? 200;
  const response = await client.response(callId, status, 'INVITE');
  return {
    callId, fromTag, ruri, cseq: 1, inviteBranch: b, response,
    toTag: tagOf(response.header('to')) ?? '',
    remoteTarget: uriOf(response.header('contact')) ?? ruri,
  };
}

export function inDialog(client: RawSipClient, d: DialogHandle, method: string, extra: Partial<RequestSpec> = {}): string {
  const cseq = method === 'ACK' ? d.cseq : ++d.cseq;
  return buildRequest({
    method, ruri: d.remoteTarget, toUri: d.ruri, transport: client.transport, localPort: client.localPort,
    callId: d.callId, fromTag: d.fromTag, toTag: d.toTag, cseq, ...extra,
  });
}

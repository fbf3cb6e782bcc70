/**
 * SIP over TLS: a Node tls client speaking raw SIP (Debian's sipp has no
 * TLS) against a certificate made at test time with the openssl CLI.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import type { InboundCall } from '../../../src/sip/InboundCall.js';
import { negotiateAudio } from '../../../src/sip/sdp/index.js';
import { SipServer } from '../../../src/sip/SipServer.js';
import type { CallEndReason } from '../../../src/sip/SipTypes.js';
import { startTestServer } from '../../support/testServer.js';
import { waitFor } from '../../support/wait.js';
import { branch, nextEvent, offerSdp, parseSip, rand, type SipMsg } from './helpers.js';

const PORT = 15330;
const TLS_PORT = 15331;

/** A raw SIP client over one TLS connection, framing by Content-Length. */
class TlsSipClient {
  readonly received: SipMsg[] = [];
  private waiters: Array<{ pred: (m: SipMsg) => boolean; resolve: (m: SipMsg) => void }> = [];

  private constructor(private readonly socket: tls.TLSSocket) {
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        while (buf.length >= 2 && buf[0] === 13 && buf[1] === 10) buf = buf.subarray(2);
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const cl = Number(/^(?:content-length|l)\s*:\s*(\d+)/im.exec(buf.subarray(0, end).toString())?.[1] ?? '0');
        if (buf.length < end + 4 + cl) return;
        const msg = parseSip(buf.subarray(0, end + 4 + cl).toString());
        buf = buf.subarray(end + 4 + cl);
        this.received.push(msg);
        for (const w of [...this.waiters]) {
          if (w.pred(msg)) {
            this.waiters = this.waiters.filter((x) => x !== w);
            w.resolve(msg);
            break;
          }
        }
      }
    });
  }

  static connect(port: number, ca: string): Promise<TlsSipClient> {
    return new Promise((resolve, reject) => {
      // The server's certificate is verified against the one made for the test.
      const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => resolve(new TlsSipClient(socket)));
      socket.once('error', reject);
    });
  }

  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  send(text: string): void {
    this.socket.write(text);
  }

  waitFor(pred: (m: SipMsg) => boolean, what: string, timeoutMs = 5000): Promise<SipMsg> {
    const found = this.received.find(pred);
    if (found) {
      this.received.splice(this.received.indexOf(found), 1);
      return Promise.resolve(found);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(timer);
          this.received.splice(this.received.indexOf(m), 1);
          resolve(m);
        },
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

function request(c: TlsSipClient, method: string, callId: string, cseq: number, opts: { toTag?: string; body?: string; ruri?: string } = {}): string {
  const body = opts.body ?? '';
  return [
    `${method} ${opts.ruri ?? `sips:15550100@127.0.0.1:${TLS_PORT}`} SIP/2.0`,
    `Via: SIP/2.0/TLS 127.0.0.1:${c.localPort};branch=${branch()};rport`,
    'Max-Forwards: 70',
    `From: <sips:alice@127.0.0.1>;tag=alice${callId}`,
    `To: <sips:15550100@127.0.0.1>${opts.toTag ? `;tag=${opts.toTag}` : ''}`,
    `Call-ID: ${callId}`,
    `CSeq: ${cseq} ${method}`,
    `Contact: <sip:alice@127.0.0.1:${c.localPort};transport=tls>`,
    ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

describe('SIP over TLS', () => {
  let dir: string;
  let cert: string;
  let server: SipServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sip-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ], { stdio: 'ignore' });
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    server = await SipServer.listen({
      bindAddress: '127.0.0.1',
      port: PORT,
      logger: silentLogger(),
      tls: { port: TLS_PORT, certificateFile: join(dir, 'cert.pem'), privateKeyFile: join(dir, 'key.pem') },
    });
    server.on('call', (call: InboundCall) => {
      const res = negotiateAudio(call.info.offerSdp, { localAddress: '127.0.0.1', localPort: 30000, sessionId: '5', supportedCodecs: ['PCMU'] });
      if (res.ok) call.accept(res.answerSdp);
      else call.reject(res.status, res.reason);
    });
  });

  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens on its own port beside UDP and TCP', () => {
    expect(server.address()).toMatchObject({ udpPort: PORT, tcpPort: PORT, tlsPort: TLS_PORT });
  });

  it('OPTIONS gets 200; INVITE → 100, 200 with a TLS Contact → ACK → BYE from us on the same connection', async () => {
    const c = await TlsSipClient.connect(TLS_PORT, cert);
    try {
      const optionsId = rand();
      c.send(request(c, 'OPTIONS', optionsId, 1));
      const options = await c.waitFor((m) => m.status === 200 && m.header('call-id') === optionsId, 'OPTIONS 200');
      expect(options.header('allow')).toMatch(/UPDATE/);

      const callId = rand();
      const callP = nextEvent<[InboundCall]>(server, 'call').then(([call]) => call);
      c.send(request(c, 'INVITE', callId, 1, { body: offerSdp(40010) }));
      await c.waitFor((m) => m.status === 100 && m.header('call-id') === callId, '100 Trying');
      const ok = await c.waitFor((m) => m.status === 200 && m.header('call-id') === callId, '200 OK');
      expect(ok.header('contact')).toMatch(new RegExp(`sip:bridge@127\\.0\\.0\\.1:${TLS_PORT};transport=tls`));
      expect(ok.header('via')).toMatch(/^SIP\/2\.0\/TLS /);
      expect(ok.body).toMatch(/m=audio 30000 RTP\/AVP 0/);
      const call = await callP;
      expect(call.info.transport).toBe('tls');
      expect(call.info.dialed).toBe('15550100');
      const toTag = /tag=([^;>\s]+)/.exec(ok.header('to')!)![1]!;
      const confirmed = nextEvent(call, 'confirmed');
      c.send(request(c, 'ACK', callId, 1, { toTag, ruri: `sip:bridge@127.0.0.1:${TLS_PORT};transport=tls` }));
      await confirmed;

      const ended = nextEvent<[CallEndReason]>(call, 'ended');
      call.hangup();
      const bye = await c.waitFor((m) => m.method === 'BYE' && m.header('call-id') === callId, 'our BYE over TLS');
      expect(bye.header('via')).toMatch(/^SIP\/2\.0\/TLS /);
      expect(bye.header('reason')).toMatch(/Q\.850;cause=16/);
      c.send(
        [`SIP/2.0 200 OK`, ...(bye.headers.get('via') ?? []).map((v) => `Via: ${v}`), `From: ${bye.header('from')}`, `To: ${bye.header('to')}`, `Call-ID: ${callId}`, `CSeq: ${bye.header('cseq')}`, 'Content-Length: 0', '', ''].join('\r\n'),
      );
      expect((await ended)[0]).toEqual({ by: 'local', cause: 'hangup' });
    } finally {
      c.close();
    }
  });

  it('a BYE from the client over TLS ends the call', async () => {
    const c = await TlsSipClient.connect(TLS_PORT, cert);
    try {
      const callId = rand();
      const callP = nextEvent<[InboundCall]>(server, 'call').then(([call]) => call);
      c.send(request(c, 'INVITE', callId, 1, { body: offerSdp(40012) }));
      const ok = await c.waitFor((m) => m.status === 200 && m.header('call-id') === callId, '200 OK');
      const call = await callP;
      const toTag = /tag=([^;>\s]+)/.exec(ok.header('to')!)![1]!;
      const ruri = `sip:bridge@127.0.0.1:${TLS_PORT};transport=tls`;
      c.send(request(c, 'ACK', callId, 1, { toTag, ruri }));
      const ended = nextEvent<[CallEndReason]>(call, 'ended');
      c.send(request(c, 'BYE', callId, 2, { toTag, ruri }));
      await c.waitFor((m) => m.status === 200 && m.header('cseq') === '2 BYE', '200 to BYE');
      expect((await ended)[0]).toEqual({ by: 'remote', cause: 'bye' });
    } finally {
      c.close();
    }
  });

  it('start-up fails with a clear error naming a missing certificate or an unusable key, and leaves no port open', async () => {
    const missing = join(dir, 'nope.pem');
    await expect(
      SipServer.listen({ bindAddress: '127.0.0.1', port: 15332, logger: silentLogger(), tls: { port: 15333, certificateFile: missing, privateKeyFile: join(dir, 'key.pem') } }),
    ).rejects.toThrow(`SIP TLS certificate ${missing} cannot be read`);
    const garbage = join(dir, 'garbage.pem');
    writeFileSync(garbage, 'not a key');
    await expect(
      SipServer.listen({ bindAddress: '127.0.0.1', port: 15332, logger: silentLogger(), tls: { port: 15333, certificateFile: join(dir, 'cert.pem'), privateKeyFile: garbage } }),
    ).rejects.toThrow(/not usable/);
    // Nothing was left listening: the same ports open fine now.
    const again = await SipServer.listen({ bindAddress: '127.0.0.1', port: 15332, logger: silentLogger(), tls: { port: 15333, certificateFile: join(dir, 'cert.pem'), privateKeyFile: join(dir, 'key.pem') } });
    await again.close();
  });

  it('through the whole application: sip.tls in the configuration, a TLS call to the DID is answered with real media and hung up', async () => {
    const app = await startTestServer({ sip: 15334, http: 15335, rtpMin: 28980, rtpMax: 28989 }, (config) => {
      config.sip.tls = { port: 15336, certificateFile: join(dir, 'cert.pem'), privateKeyFile: join(dir, 'key.pem') };
    });
    const c = await TlsSipClient.connect(15336, cert);
    try {
      const callId = rand();
      c.send(request(c, 'INVITE', callId, 1, { body: offerSdp(28988, '0 101'), ruri: 'sips:15550100@127.0.0.1:15336' }));
      const ok = await c.waitFor((m) => m.status === 200 && m.header('call-id') === callId, '200 OK');
      expect(ok.body).toMatch(/m=audio (2898\d) RTP\/AVP 0/);
      expect(app.app.mediaEngine.stats().legs).toBe(1);
      const toTag = /tag=([^;>\s]+)/.exec(ok.header('to')!)![1]!;
      const ruri = 'sip:bridge@127.0.0.1:15336;transport=tls';
      c.send(request(c, 'ACK', callId, 1, { toTag, ruri }));
      c.send(request(c, 'BYE', callId, 2, { toTag, ruri }));
      await c.waitFor((m) => m.status === 200 && m.header('cseq') === '2 BYE', '200 to BYE');
      await waitFor(() => app.app.mediaEngine.stats().legs === 0, 5000, 'the media leg to close');
    } finally {
      c.close();
      await app.stop();
    }
  });
});

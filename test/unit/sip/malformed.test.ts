import dgram from 'node:dgram';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { SipServer } from '../../../src/sip/SipServer.js';
import { RawSipClient, buildRequest, inDialog, nextEvent, offerSdp, placeCall, rand, type SipMsg } from './helpers.js';
import type { InboundCall } from '../../../src/sip/InboundCall.js';

const PORT = 15062;
const MAX = 4096;

function options(c: RawSipClient, callId: string): string {
  return buildRequest({
    method: 'OPTIONS', ruri: `sip:probe@127.0.0.1:${PORT}`, transport: c.transport, localPort: c.localPort, callId, fromTag: rand(), cseq: 1,
  });
}

function invite(c: RawSipClient, callId: string): string {
  return buildRequest({
    method: 'INVITE', ruri: `sip:15550100@127.0.0.1:${PORT}`, transport: c.transport, localPort: c.localPort, callId, fromTag: rand(), cseq: 1,
    body: offerSdp(),
  });
}

function dropHeader(msg: string, name: string): string {
  return msg.split('\r\n').filter((l) => !l.toLowerCase().startsWith(`${name.toLowerCase()}:`)).join('\r\n');
}

function replaceHeader(msg: string, name: string, value: string): string {
  return msg.split('\r\n').map((l) => (l.toLowerCase().startsWith(`${name.toLowerCase()}:`) ? `${name}: ${value}` : l)).join('\r\n');
}

describe('malformed input', () => {
  let server: SipServer;
  const clients: RawSipClient[] = [];
  const calls: InboundCall[] = [];

  beforeAll(async () => {
    server = await SipServer.listen({ bindAddress: '127.0.0.1', port: PORT, logger: silentLogger(), maxMessageBytes: MAX });
    server.on('call', (call) => {
      calls.push(call);
      call.accept(offerSdp(30000));
    });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await server.close();
  });

  async function udp(): Promise<RawSipClient> {
    const c = await RawSipClient.udp(PORT);
    clients.push(c);
    return c;
  }

  /** After the bad input, a good OPTIONS must still be answered, and it must be the only other thing seen. */
  async function expectStillServing(c: RawSipClient): Promise<void> {
    const id = rand();
    c.send(options(c, id));
    await c.response(id, 200, 'OPTIONS');
  }

  const corpus: Array<{ name: string; make: (c: RawSipClient, callId: string) => string; expect: RegExp | 'drop' }> = [
    { name: 'missing Call-ID', make: (c, id) => dropHeader(invite(c, id), 'Call-ID'), expect: /Missing Call-ID/ },
    { name: 'missing From', make: (c, id) => dropHeader(invite(c, id), 'From'), expect: /Missing From/ },
    { name: 'missing To', make: (c, id) => dropHeader(options(c, id), 'To'), expect: /Missing To/ },
    { name: 'missing CSeq', make: (c, id) => dropHeader(invite(c, id), 'CSeq'), expect: /Missing CSeq/ },
    { name: 'bad CSeq', make: (c, id) => replaceHeader(invite(c, id), 'CSeq', 'abc INVITE'), expect: /CSeq/ },
    { name: 'CSeq number too large', make: (c, id) => replaceHeader(invite(c, id), 'CSeq', '99999999999 INVITE'), expect: /CSeq/ },
    { name: 'CSeq method mismatch', make: (c, id) => replaceHeader(invite(c, id), 'CSeq', '1 BYE'), expect: /CSeq/ },
    { name: 'Content-Length larger than body', make: (c, id) => replaceHeader(invite(c, id), 'Content-Length', '9999'), expect: /Content-Length/ },
    { name: 'non-numeric Content-Length', make: (c, id) => replaceHeader(invite(c, id), 'Content-Length', 'ten'), expect: /Content-Length/ },
    { name: 'garbage From', make: (c, id) => replaceHeader(invite(c, id), 'From', '@@@;;;'), expect: /From/ },
    { name: 'INVITE without Contact', make: (c, id) => dropHeader(invite(c, id), 'Contact'), expect: /Contact/ },
    { name: 'missing Via', make: (c, id) => dropHeader(invite(c, id), 'Via'), expect: 'drop' },
    { name: 'binary junk', make: () => Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37) % 256)).toString('latin1'), expect: 'drop' },
    { name: 'start line only', make: () => 'INVITE sip:x@127.0.0.1 SIP/2.0\r\n\r\n', expect: 'drop' },
    { name: 'no start line', make: (c, id) => invite(c, id).split('\r\n').slice(1).join('\r\n'), expect: 'drop' },
  ];

  for (const entry of corpus) {
    it(`udp: ${entry.name} → ${entry.expect === 'drop' ? 'dropped' : '400'}`, async () => {
      const c = await udp();
      const id = rand();
      c.send(entry.make(c, id));
      if (entry.expect !== 'drop') {
        const res = await c.waitFor((m) => m.status === 400, '400');
        expect(res.reason).toMatch(entry.expect);
      }
      await expectStillServing(c);
      expect(c.received.filter((m) => m.status !== 200 && m.status !== 400)).toEqual([]);
      if (entry.expect === 'drop') expect(c.received.map((m) => m.status)).toEqual([200]);
    });
  }

  it('udp: oversize message → 513 or dropped, and nothing else', async () => {
    const c = await udp();
    const id = rand();
    const big = buildRequest({
      method: 'OPTIONS', ruri: `sip:x@127.0.0.1:${PORT}`, transport: 'UDP', localPort: c.localPort, callId: id, fromTag: rand(), cseq: 1,
      headers: [`X-Padding: ${'a'.repeat(MAX * 2)}`],
    });
    c.send(big);
    await expectStillServing(c);
    const others = c.received.filter((m) => m.header('call-id') === id);
    expect(others.every((m: SipMsg) => m.status === 513)).toBe(true);
  });

  it('tcp: a bad Content-Length gets 400 and the connection closed; a new connection works', async () => {
    const sock = net.connect({ port: PORT, host: '127.0.0.1' });
    await new Promise((r) => sock.once('connect', r));
    const chunks: Buffer[] = [];
    sock.on('data', (d: Buffer) => chunks.push(d));
    const closed = new Promise((r) => sock.once('close', r));
    const c0 = { transport: 'TCP' as const, localPort: sock.localPort ?? 0 } as RawSipClient;
    sock.write(replaceHeader(options(c0, rand()), 'Content-Length', 'x1'));
    await closed;
    expect(Buffer.concat(chunks).toString()).toMatch(/^SIP\/2\.0 400 Bad Content-Length/);

    const c = await RawSipClient.tcp(PORT);
    clients.push(c);
    c.send(Buffer.from([0, 1, 2, 3, 0xff, 0xfe, 13, 10, 13, 10]));
    const c2 = await RawSipClient.tcp(PORT);
    clients.push(c2);
    await expectStillServing(c2);
  });

  it('tcp: a message larger than the limit closes the connection without taking the server down', async () => {
    const sock = net.connect({ port: PORT, host: '127.0.0.1' });
    await new Promise((r) => sock.once('connect', r));
    sock.on('data', () => undefined);
    sock.on('error', () => undefined);
    const closed = new Promise((r) => sock.once('close', r));
    sock.write(`OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nX-Padding: ${'b'.repeat(MAX * 2)}`);
    await closed;
    const c = await RawSipClient.tcp(PORT);
    clients.push(c);
    await expectStillServing(c);
  });

  it('after the whole corpus a normal call still works', async () => {
    const c = await udp();
    const callP = nextEvent<[InboundCall]>(server, 'call');
    const d = await placeCall(c, PORT);
    const [call] = await callP;
    c.send(inDialog(c, d, 'ACK'));
    await nextEvent(call, 'confirmed');
    c.send(inDialog(c, d, 'BYE'));
    await c.response(d.callId, 200, 'BYE');
    await expectStillServing(c);
  });
});

describe('listen errors', () => {
  it('rejects naming UDP and the port when the UDP port is taken', async () => {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(15066, '127.0.0.1', () => r()));
    try {
      await expect(SipServer.listen({ bindAddress: '127.0.0.1', port: 15066, logger: silentLogger() })).rejects.toThrow(
        /SIP UDP port 15066 on 127\.0\.0\.1 is already in use/,
      );
    } finally {
      await new Promise<void>((r) => sock.close(() => r()));
    }
  });

  it('rejects naming TCP and the port when the TCP port is taken, and releases the UDP port', async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(15067, '127.0.0.1', () => r()));
    try {
      await expect(SipServer.listen({ bindAddress: '127.0.0.1', port: 15067, logger: silentLogger() })).rejects.toThrow(
        /SIP TCP port 15067 on 127\.0\.0\.1 is already in use/,
      );
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
    const ok = await SipServer.listen({ bindAddress: '127.0.0.1', port: 15067, logger: silentLogger() });
    expect(ok.address().udpPort).toBe(15067);
    await ok.close();
  });
});

describe('tcp connection housekeeping', () => {
  it('closes idle connections but keeps the one a call is on', async () => {
    const server = await SipServer.listen({ bindAddress: '127.0.0.1', port: 15068, logger: silentLogger(), tcpIdleTimeoutMs: 300 });
    server.on('call', (call) => call.accept(offerSdp(30000)));
    try {
      const idle = net.connect({ port: 15068, host: '127.0.0.1' });
      idle.on('error', () => undefined);
      const idleClosed = new Promise((r) => idle.once('close', r));
      const c = await RawSipClient.tcp(15068);
      const callP = nextEvent<[InboundCall]>(server, 'call');
      const d = await placeCall(c, 15068);
      const [call] = await callP;
      c.send(inDialog(c, d, 'ACK'));
      await nextEvent(call, 'confirmed');
      await idleClosed;
      // The call's connection survived the sweep that closed the idle one.
      call.hangup();
      const bye = await c.request('BYE', d.callId);
      expect(bye.header('via')).toMatch(/^SIP\/2\.0\/TCP/);
      await c.close();
    } finally {
      await server.close();
    }
  });
});

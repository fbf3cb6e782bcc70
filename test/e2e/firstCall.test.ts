/**
 * The first call end to end: real sipp processes dial the demo DID over UDP
 * on 127.0.0.1, enter access codes as RFC 4733 digits and stream tones; the
 * test decodes what the bridge sends to each caller.
 */
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { toneAmplitude } from '../support/audio.js';
import { RtpSink } from '../support/rtpSink.js';
import { sleep, waitFor } from '../support/wait.js';
import { runCaller, type CallerStep } from '../support/sipp.js';
import { useServerWithCallers } from '../support/serverWithCallers.js';

const PORTS = { sip: 25060, http: 25080, rtpMin: 40000, rtpMax: 40999 };
const HEARD = 1500;
const NOT_HEARD = 300;

const suite = useServerWithCallers(PORTS);

describe('first call end to end', () => {
  it('mixes two participants and a listener: each hears the others, nobody hears themselves, nobody hears the listener', async () => {
    const callers = [
      { name: 'alice', dialed: '15550100', code: '2222#', frequency: 450 },
      { name: 'bob', dialed: '+15550100', code: '2222#', frequency: 1050 },
      { name: 'lena', dialed: '15550100', code: '3333#', frequency: 1850 },
    ];
    const sinks = await Promise.all(callers.map((_, i) => RtpSink.open(41000 + 2 * i)));
    const runs = callers.map((caller, i) => {
      const steps: CallerStep[] = [
        { kind: 'pause', ms: 600 },
        { kind: 'pcap', path: suite.media.digits(caller.name, caller.code) },
        { kind: 'pause', ms: 1500 },
        { kind: 'stream', path: suite.media.tone(caller.name, caller.frequency) },
        { kind: 'pause', ms: 9000 },
        { kind: 'bye' },
      ];
      return runCaller(
        { dialed: caller.dialed, rtpPort: sinks[i]!.port, steps },
        { serverPort: PORTS.sip, sipPort: 41100 + i, mediaPort: 41200 + 10 * i },
      );
    });
    try {
      const conference = suite.server.app.conferenceManager;
      await waitFor(() => conference.getMeeting(1000)?.participants.length === 3, 15_000, 'three participants in meeting 1000', runs);
      const meeting = conference.getMeeting(1000)!;
      expect(meeting.participants.map((p) => p.role).sort()).toEqual(['listener', 'participant', 'participant']);

      // Let the tone streams and jitter buffers settle, then listen for two seconds.
      await sleep(1000);
      const since = Date.now();
      await sleep(2000);
      const heard = sinks.map((sink) => callers.map((c) => toneAmplitude(sink.samplesSince(since), c.frequency)));
      const [alice, bob, lena] = heard as [number[], number[], number[]];
      const report = JSON.stringify(heard.map((row) => row.map(Math.round)));

      // Participants hear each other, never themselves, never the listener.
      expect(alice[1], report).toBeGreaterThan(HEARD);
      expect(alice[0], report).toBeLessThan(NOT_HEARD);
      expect(alice[2], report).toBeLessThan(NOT_HEARD);
      expect(bob[0], report).toBeGreaterThan(HEARD);
      expect(bob[1], report).toBeLessThan(NOT_HEARD);
      expect(bob[2], report).toBeLessThan(NOT_HEARD);
      // The listener hears both participants and not itself.
      expect(lena[0], report).toBeGreaterThan(HEARD);
      expect(lena[1], report).toBeGreaterThan(HEARD);
      expect(lena[2], report).toBeLessThan(NOT_HEARD);

      const results = await Promise.all(runs.map((run) => run.done));
      for (const result of results) expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
      // The last leg out ends the meeting.
      await waitFor(() => conference.getMeeting(1000) === undefined, 5_000, 'meeting 1000 to end');
    } finally {
      for (const run of runs) run.process.kill();
      for (const sink of sinks) sink.close();
    }
  });

  it('hangs up with BYE after three wrong access codes', async () => {
    const sink = await RtpSink.open(41010);
    const run = runCaller(
      {
        dialed: '15550100',
        rtpPort: sink.port,
        steps: [
          { kind: 'pause', ms: 500 },
          { kind: 'pcap', path: suite.media.digits('wrong1', '9#') },
          { kind: 'pause', ms: 1200 },
          { kind: 'pcap', path: suite.media.digits('wrong22', '8#') },
          { kind: 'pause', ms: 1200 },
          { kind: 'pcap', path: suite.media.digits('wrong333', '7777#') },
          { kind: 'expectBye', timeoutMs: 20_000 },
        ],
      },
      { serverPort: PORTS.sip, sipPort: 41110, mediaPort: 41300 },
    );
    try {
      const result = await run.done;
      expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
      // It heard prompts while it was connected.
      expect(sink.packetCount).toBeGreaterThan(50);
      expect(suite.server.app.conferenceManager.getMeeting(1000)).toBeUndefined();
    } finally {
      run.process.kill();
      sink.close();
    }
  });

  it('answers 404 to a number that is not provisioned', async () => {
    const run = runCaller(
      { dialed: '15559999', rtpPort: 41012, steps: [], expectFailure: 404 },
      { serverPort: PORTS.sip, sipPort: 41111, mediaPort: 41310 },
    );
    const result = await run.done;
    expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
  });

  it('answers 488 to an offer without a common codec', async () => {
    const run = runCaller(
      { dialed: '15550100', rtpPort: 41014, steps: [], codecs: [[18, 'G729/8000'], [101, 'telephone-event/8000']], expectFailure: 488 },
      { serverPort: PORTS.sip, sipPort: 41112, mediaPort: 41350 },
    );
    const result = await run.done;
    expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
  });

  it("keeps a call's audio flowing (UDP and TCP callers) through malformed SIP, garbage RTP and RTP from strangers", async () => {
    const sinks = await Promise.all([RtpSink.open(41020), RtpSink.open(41022)]);
    const callers = [
      { name: 'carol', frequency: 600 },
      { name: 'dave', frequency: 1400 },
    ];
    const runs = callers.map((caller, i) =>
      runCaller(
        {
          dialed: '15550100',
          rtpPort: sinks[i]!.port,
          steps: [
            { kind: 'pause', ms: 500 },
            { kind: 'pcap', path: suite.media.digits(`${caller.name}-code`, '1111#') },
            { kind: 'pause', ms: 1500 },
            { kind: 'stream', path: suite.media.tone(caller.name, caller.frequency) },
            { kind: 'pause', ms: 8000 },
            { kind: 'bye' },
          ],
        },
        // One caller signals over TCP: media must not care how the call came in.
        { serverPort: PORTS.sip, sipPort: 41120 + i, mediaPort: 41320 + 10 * i, transport: i === 1 ? 'tcp' : 'udp' },
      ),
    );
    const udp = createSocket('udp4');
    const stranger = createSocket('udp4');
    await new Promise<void>((resolve) => stranger.bind(0, '127.0.0.2', () => resolve()));
    try {
      const conference = suite.server.app.conferenceManager;
      await waitFor(() => conference.getMeeting(1000)?.participants.length === 2, 15_000, 'two hosts in meeting 1000', runs);
      const before = suite.server.app.mediaEngine.stats();
      const legPort = conference.getMeeting(1000)!.participants[0]!.leg.localPort;

      const send = (socket: typeof udp, payload: Buffer, port: number, address = '127.0.0.1'): Promise<void> =>
        new Promise((resolve) => socket.send(payload, port, address, () => resolve()));
      const malformedSip = [
        'INVITE sip:15550100@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:41999;branch=z9hG4bKbad1\r\nContent-Length: 0\r\n\r\n',
        'GARBAGE\r\n\r\n',
        'OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nCSeq: notanumber OPTIONS\r\n\r\n',
        '\u0000\u0001\u0002\u00ff'.repeat(50),
      ];
      for (const text of malformedSip) await send(udp, Buffer.from(text, 'latin1'), PORTS.sip);
      const garbageRtp = [
        Buffer.from([0x40, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xff]), // version 1
        Buffer.from([0x80, 0]), // truncated
        Buffer.from([0x8f, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]), // 15 CSRCs announced, none present
        Buffer.alloc(300, 0x3f), // version 0
      ];
      for (const packet of garbageRtp) await send(udp, packet, legPort);
      const validFromStranger = Buffer.concat([Buffer.from([0x80, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9]), Buffer.alloc(160, 0xff)]);
      for (let i = 0; i < 5; i++) await send(stranger, validFromStranger, legPort);

      await waitFor(
        () => {
          const now = suite.server.app.mediaEngine.stats();
          return now.packetsMalformed >= before.packetsMalformed + garbageRtp.length && now.packetsFromStrangers >= before.packetsFromStrangers + 5;
        },
        5_000,
        `garbage and stranger packets to be counted (before ${JSON.stringify(before)})`,
      );

      // OPTIONS still answered.
      const optionsAnswer = await sipOptions(PORTS.sip);
      expect(optionsAnswer).toMatch(/^SIP\/2\.0 200/);

      // Both still hear each other.
      await sleep(500);
      const since = Date.now();
      await sleep(1500);
      expect(toneAmplitude(sinks[0]!.samplesSince(since), 1400)).toBeGreaterThan(HEARD);
      expect(toneAmplitude(sinks[1]!.samplesSince(since), 600)).toBeGreaterThan(HEARD);
      const results = await Promise.all(runs.map((run) => run.done));
      for (const result of results) expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
    } finally {
      udp.close();
      stranger.close();
      for (const run of runs) run.process.kill();
      for (const sink of sinks) sink.close();
    }
  });
});

/** Sends one OPTIONS over UDP and returns the response text. */
async function sipOptions(port: number): Promise<string> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const local = socket.address().port;
  const message = [
    'OPTIONS sip:probe@127.0.0.1 SIP/2.0',
    `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK-probe-${Date.now()}`,
    'From: <sip:monitor@127.0.0.1>;tag=probe',
    'To: <sip:probe@127.0.0.1>',
    `Call-ID: probe-${Date.now()}@127.0.0.1`,
    'CSeq: 1 OPTIONS',
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer to OPTIONS')), 5000);
      socket.on('message', (data) => {
        clearTimeout(timer);
        resolve(data.toString());
      });
      socket.send(message, port, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}

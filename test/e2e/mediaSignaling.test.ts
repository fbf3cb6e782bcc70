/**
 * How media follows signaling, with real sipp callers: a re-INVITE moves
 * the media, a phone that holds the call may go silent without being hung
 * up, and a call whose media never arrives is hung up (RTP timeout, here
 * shortened to 2 s) instead of staying in the meeting forever.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallerMedia } from '../support/callerMedia.js';
import { toneAmplitude } from '../support/audio.js';
import { RtpSink } from '../support/rtpSink.js';
import { runCaller } from '../support/sipp.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { sleep, waitFor } from '../support/wait.js';

const PORTS = { sip: 25260, http: 25280, rtpMin: 43000, rtpMax: 43099 };

let server: TestServer;
let media: CallerMedia;

beforeAll(async () => {
  media = new CallerMedia();
  server = await startTestServer(PORTS, (config) => {
    config.media.rtpTimeoutSeconds = 2;
  });
});

afterAll(async () => {
  await server?.stop();
  media?.remove();
});

describe('media follows signaling', () => {
  it('sends to the new port after a re-INVITE moves the media', async () => {
    const [before, after] = await Promise.all([RtpSink.open(43500), RtpSink.open(43502)]);
    const run = runCaller(
      {
        dialed: '15550100',
        rtpPort: before.port,
        steps: [
          { kind: 'pause', ms: 300 },
          { kind: 'pcap', path: media.digits('move', '1111#') },
          { kind: 'pause', ms: 1200 },
          { kind: 'reinvite', rtpPort: after.port, direction: 'sendrecv' },
          { kind: 'pause', ms: 1500 },
          { kind: 'bye' },
        ],
      },
      { serverPort: PORTS.sip, sipPort: 43600, mediaPort: 43700 },
    );
    try {
      await waitFor(() => after.packetCount > 25, 10_000, 'RTP at the new port', [run]);
      const oldCount = before.packetCount;
      const result = await run.done;
      expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
      expect(oldCount).toBeGreaterThan(25);
      // Nothing more went to the old port once the media moved.
      expect(before.packetCount).toBe(oldCount);
    } finally {
      run.process.kill();
      before.close();
      after.close();
    }
  });

  it('does not hang up a phone that holds the call and sends no RTP', async () => {
    const sink = await RtpSink.open(43510);
    const run = runCaller(
      {
        dialed: '15550100',
        rtpPort: sink.port,
        steps: [
          { kind: 'info', digits: '2222#' },
          { kind: 'reinvite', rtpPort: sink.port, direction: 'inactive' },
          // Well past the 2 s RTP timeout; an unexpected BYE would fail sipp.
          { kind: 'pause', ms: 5000 },
          { kind: 'bye' },
        ],
      },
      { serverPort: PORTS.sip, sipPort: 43601, mediaPort: 43710 },
    );
    try {
      const result = await run.done;
      expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
    } finally {
      run.process.kill();
      sink.close();
    }
  });

  it('keeps a holding phone out of the room and sends it nothing until it resumes', async () => {
    const [holderSink, otherSink] = await Promise.all([RtpSink.open(43530), RtpSink.open(43532)]);
    const holder = runCaller(
      {
        dialed: '15550100',
        rtpPort: holderSink.port,
        steps: [
          { kind: 'pause', ms: 300 },
          { kind: 'pcap', path: media.digits('holder', '1111#') },
          { kind: 'pause', ms: 1000 },
          // Its "music on hold" keeps streaming while the phone holds the call.
          { kind: 'stream', path: media.tone('holder', 700) },
          { kind: 'pause', ms: 2500 },
          { kind: 'reinvite', rtpPort: holderSink.port, direction: 'sendonly' },
          { kind: 'pause', ms: 3000 },
          { kind: 'reinvite', rtpPort: holderSink.port, direction: 'sendrecv' },
          { kind: 'pause', ms: 3000 },
          { kind: 'bye' },
        ],
      },
      { serverPort: PORTS.sip, sipPort: 43603, mediaPort: 43730 },
    );
    const other = runCaller(
      {
        dialed: '15550100',
        rtpPort: otherSink.port,
        // It streams too: in this file a call without RTP is hung up after 2 s.
        steps: [
          { kind: 'stream', path: media.tone('other', 1300) },
          { kind: 'info', digits: '2222#' },
          { kind: 'pause', ms: 11_000 },
          { kind: 'bye' },
        ],
      },
      { serverPort: PORTS.sip, sipPort: 43604, mediaPort: 43740 },
    );
    const runs = [holder, other];
    const holding = () => server.app.conferenceManager.getMeeting(1000)?.participants.find((p) => p.accessCode === '1111');
    try {
      await waitFor(() => server.app.conferenceManager.getMeeting(1000)?.participants.length === 2, 10_000, 'both callers to join', runs);
      await sleep(1200);
      const before = Date.now();
      await sleep(800);
      expect(toneAmplitude(otherSink.samplesSince(before), 700)).toBeGreaterThan(1500);

      await waitFor(() => holding()?.phoneHold === true, 10_000, 'the hold re-INVITE', runs);
      await sleep(300);
      const heldSince = Date.now();
      const sentToHolder = holderSink.packetCount;
      await sleep(1500);
      expect(toneAmplitude(otherSink.samplesSince(heldSince), 700)).toBeLessThan(300);
      expect(holderSink.packetCount).toBe(sentToHolder);

      await waitFor(() => holding()?.phoneHold === false, 10_000, 'the resume re-INVITE', runs);
      await sleep(500);
      const resumed = Date.now();
      await sleep(1000);
      expect(toneAmplitude(otherSink.samplesSince(resumed), 700)).toBeGreaterThan(1500);
      expect(holderSink.packetCount).toBeGreaterThan(sentToHolder + 25);
      expect(holding()?.muted).toBe(false);

      for (const result of await Promise.all(runs.map((run) => run.done))) {
        expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
      }
    } finally {
      for (const run of runs) run.process.kill();
      holderSink.close();
      otherSink.close();
    }
  });

  it('hangs up a joined call whose RTP never arrives', async () => {
    const sink = await RtpSink.open(43520);
    // The code arrives by SIP INFO; the phone never sends a single RTP packet.
    const run = runCaller(
      { dialed: '15550100', rtpPort: sink.port, steps: [{ kind: 'info', digits: '2222#' }, { kind: 'expectBye', timeoutMs: 15_000 }] },
      { serverPort: PORTS.sip, sipPort: 43602, mediaPort: 43720 },
    );
    try {
      await waitFor(() => server.app.conferenceManager.getMeeting(1000)?.participants.length === 1, 10_000, 'the caller to join', [run]);
      const result = await run.done;
      expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
      await waitFor(() => server.app.conferenceManager.getMeeting(1000) === undefined, 5_000, 'the meeting to end');
    } finally {
      run.process.kill();
      sink.close();
    }
  });
});

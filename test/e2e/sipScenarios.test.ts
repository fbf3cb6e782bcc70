/**
 * Carrier SIP scenarios through the whole application: Debian's sipp dials
 * DID 15550100 on 127.0.0.1 and enters access code 2222 (participant of
 * meeting 1000); the test listens on each phone's RTP port to check what the
 * bridge sends there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toneAmplitude } from '../support/audio.js';
import { CallerMedia } from '../support/callerMedia.js';
import { RtpSink } from '../support/rtpSink.js';
import { runCaller, type CallerStep, type SippRun } from '../support/sipp.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { sleep, waitFor } from '../support/wait.js';
import { apiClient } from './apiClient.js';

const PORTS = { sip: 25500, http: 25501, rtpMin: 28000, rtpMax: 28499 };
const ADMIN: [string, string] = ['admin', 'sip scenarios password'];
const MEETING = 1000;
const HEARD = 1500;

let server: TestServer;
let media: CallerMedia;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  media = new CallerMedia();
  server = await startTestServer(PORTS, undefined, { ADMIN_PASSWORD: ADMIN[1] });
  api = apiClient(PORTS.http, ADMIN);
});

afterAll(async () => {
  await server?.stop();
  media?.remove();
});

function participants(): number {
  return server.app.conferenceManager.getMeeting(MEETING)?.participants.length ?? 0;
}

async function expectSucceeded(run: SippRun): Promise<void> {
  const result = await run.done;
  expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
}

/** After a test: nobody left in the meeting and no media leg left over. */
async function expectAllGone(): Promise<void> {
  await waitFor(() => server.app.conferenceManager.getMeeting(MEETING) === undefined, 10_000, 'meeting 1000 to end');
  await waitFor(() => server.app.mediaEngine.stats().legs === 0, 10_000, 'every media leg to close');
}

/** A participant that enters the code as RFC 4733 digits and then streams a tone. */
function toneCaller(name: string, frequency: number, holdMs: number): CallerStep[] {
  return [
    { kind: 'pause', ms: 500 },
    { kind: 'pcap', path: media.digits(name, '2222#') },
    { kind: 'pause', ms: 1500 },
    { kind: 'stream', path: media.tone(name, frequency) },
    { kind: 'pause', ms: holdMs },
    { kind: 'bye' },
  ];
}

describe('sipp scenarios through the whole bridge', () => {
  it('basic call over UDP and a call over TCP (-t t1): both enter the code and hear each other', async () => {
    const sinks = await Promise.all([RtpSink.open(28600), RtpSink.open(28602)]);
    const runs = [
      runCaller({ dialed: '15550100', rtpPort: sinks[0]!.port, steps: toneCaller('udp', 500, 7000) }, { serverPort: PORTS.sip, sipPort: 25510, mediaPort: 28700 }),
      runCaller(
        { dialed: '+15550100', rtpPort: sinks[1]!.port, steps: toneCaller('tcp', 1300, 7000) },
        { serverPort: PORTS.sip, sipPort: 25511, mediaPort: 28710, transport: 'tcp' },
      ),
    ];
    try {
      await waitFor(() => participants() === 2, 15_000, 'two participants', runs);
      await sleep(1000);
      const since = Date.now();
      await sleep(2000);
      const udpHeard = sinks[0]!.samplesSince(since);
      const tcpHeard = sinks[1]!.samplesSince(since);
      const report = JSON.stringify([500, 1300].map((f) => [toneAmplitude(udpHeard, f), toneAmplitude(tcpHeard, f)].map(Math.round)));
      expect(toneAmplitude(udpHeard, 1300), report).toBeGreaterThan(HEARD);
      expect(toneAmplitude(tcpHeard, 500), report).toBeGreaterThan(HEARD);
      for (const run of runs) await expectSucceeded(run);
      await expectAllGone();
    } finally {
      for (const run of runs) run.process.kill();
      for (const sink of sinks) sink.close();
    }
  }, 40_000);

  it('INFO DTMF: application/dtmf-relay and application/dtmf both enter the access code', async () => {
    const steps = (contentType: 'application/dtmf-relay' | 'application/dtmf'): CallerStep[] => [
      { kind: 'pause', ms: 500 },
      { kind: 'info', digits: '2222#', contentType },
      { kind: 'pause', ms: 4000 },
      { kind: 'bye' },
    ];
    const sinks = await Promise.all([RtpSink.open(28604), RtpSink.open(28606)]);
    const runs = [
      runCaller({ dialed: '15550100', rtpPort: sinks[0]!.port, steps: steps('application/dtmf-relay') }, { serverPort: PORTS.sip, sipPort: 25512, mediaPort: 28720 }),
      runCaller({ dialed: '15550100', rtpPort: sinks[1]!.port, steps: steps('application/dtmf') }, { serverPort: PORTS.sip, sipPort: 25513, mediaPort: 28730 }),
    ];
    try {
      await waitFor(() => participants() === 2, 15_000, 'both INFO callers in meeting 1000', runs);
      expect(server.app.conferenceManager.getMeeting(MEETING)!.participants.map((p) => p.role)).toEqual(['participant', 'participant']);
      for (const run of runs) await expectSucceeded(run);
      await expectAllGone();
    } finally {
      for (const run of runs) run.process.kill();
      for (const sink of sinks) sink.close();
    }
  }, 40_000);

  it('a phone holding the bridge (sendonly, inactive, c=0.0.0.0) gets no RTP until it resumes, then hears the room again', async () => {
    const talkerSink = await RtpSink.open(28608);
    const phone = await RtpSink.open(28610);
    const holdMs = 3000;
    const holds: Array<{ direction: 'sendonly' | 'inactive' | 'sendrecv'; nullAddress?: boolean }> = [
      { direction: 'sendonly' },
      { direction: 'inactive' },
      { direction: 'sendrecv', nullAddress: true },
    ];
    const phoneSteps: CallerStep[] = [{ kind: 'pause', ms: 500 }, { kind: 'info', digits: '2222#' }, { kind: 'pause', ms: 3000 }];
    for (const hold of holds) {
      phoneSteps.push(
        { kind: 'reinvite', rtpPort: phone.port, direction: hold.direction, ...(hold.nullAddress ? { nullAddress: true } : {}) },
        { kind: 'pause', ms: holdMs },
        { kind: 'reinvite', rtpPort: phone.port, direction: 'sendrecv' },
        { kind: 'pause', ms: holdMs },
      );
    }
    phoneSteps.push({ kind: 'bye' });
    const runs = [
      runCaller({ dialed: '15550100', rtpPort: talkerSink.port, steps: toneCaller('talker', 850, 24_000) }, { serverPort: PORTS.sip, sipPort: 25514, mediaPort: 28740 }),
      runCaller({ dialed: '15550100', rtpPort: phone.port, steps: phoneSteps }, { serverPort: PORTS.sip, sipPort: 25515, mediaPort: 28750 }),
    ];
    try {
      const conference = server.app.conferenceManager;
      await waitFor(() => participants() === 2, 15_000, 'talker and phone in meeting 1000', runs);
      const phoneParticipant = (): { phoneHold: boolean } | undefined =>
        conference.getMeeting(MEETING)?.participants.find((p) => p.leg.remote?.port === phone.port);
      for (const hold of holds) {
        const what = hold.nullAddress ? 'c=0.0.0.0' : hold.direction;
        await waitFor(() => phoneParticipant()?.phoneHold === true, 10_000, `phone hold (${what})`, runs);
        // Packets already in flight when the hold arrived are not the point.
        await sleep(300);
        const heldSince = Date.now();
        const before = phone.packetCount;
        await sleep(1500);
        expect(phone.packetCount - before, `RTP sent to a phone holding us (${what})`).toBe(0);
        expect(phone.samplesSince(heldSince).length).toBe(0);

        await waitFor(() => phoneParticipant()?.phoneHold === false, 10_000, `resume after ${what}`, runs);
        await sleep(700);
        const since = Date.now();
        await sleep(1200);
        const amplitude = toneAmplitude(phone.samplesSince(since), 850);
        expect(amplitude, `tone heard after resuming from ${what}`).toBeGreaterThan(HEARD);
      }
      for (const run of runs) await expectSucceeded(run);
      await expectAllGone();
    } finally {
      for (const run of runs) run.process.kill();
      talkerSink.close();
      phone.close();
    }
  }, 60_000);

  it('CANCEL while ringing (call_delay on the DID): 200 and 487, and nothing is left behind', async () => {
    const dids = await api('GET', '/conference/v1/dids');
    expect(dids.status).toBe(200);
    const did = (dids.json.dids as Array<{ id: number; phoneNumber: string }>).find((d) => d.phoneNumber === '15550100');
    expect(did).toBeDefined();
    const set = await api('PUT', `/conference/v1/dids/${did!.id}`, { body: { attributes: [{ name: 'call_delay', value: 3 }] } });
    expect(set.status, set.text).toBe(200);
    const sink = await RtpSink.open(28612);
    try {
      const legsBefore = server.app.mediaEngine.stats().legs;
      const run = runCaller({ dialed: '15550100', rtpPort: sink.port, steps: [], cancelOnRinging: true }, { serverPort: PORTS.sip, sipPort: 25516, mediaPort: 28760 });
      await expectSucceeded(run);
      // The delay runs out after the CANCEL: the call must not be answered then.
      await sleep(3500);
      expect(server.app.mediaEngine.stats().legs).toBe(legsBefore);
      expect(sink.packetCount).toBe(0);
      expect(server.app.conferenceManager.meetings.length).toBe(0);

      // With the delay still set, a caller that waits is answered after ringing and gets in.
      const waiting = runCaller(
        { dialed: '15550100', rtpPort: sink.port, steps: [{ kind: 'info', digits: '2222#' }, { kind: 'pause', ms: 1500 }, { kind: 'bye' }] },
        { serverPort: PORTS.sip, sipPort: 25517, mediaPort: 28770 },
      );
      await waitFor(() => participants() === 1, 15_000, 'the patient caller in meeting 1000', [waiting]);
      await expectSucceeded(waiting);
      await expectAllGone();
    } finally {
      await api('PUT', `/conference/v1/dids/${did!.id}`, { body: { attributes: [{ name: 'call_delay', value: null }] } });
      sink.close();
    }
  }, 40_000);

  it('UDP with -lost 10: retransmissions carry three calls in and out cleanly', async () => {
    const sinks = await Promise.all([RtpSink.open(28614), RtpSink.open(28616), RtpSink.open(28618)]);
    const runs = sinks.map((sink, i) =>
      runCaller(
        {
          dialed: '15550100',
          rtpPort: sink.port,
          steps: [{ kind: 'pause', ms: 500 }, { kind: 'info', digits: '2222#', gapMs: 200 }, { kind: 'pause', ms: 5000 }, { kind: 'bye' }],
        },
        { serverPort: PORTS.sip, sipPort: 25518 + i, mediaPort: 28780 + 10 * i, lostPercent: 10, timeoutSeconds: 50 },
      ),
    );
    try {
      await waitFor(() => participants() === 3, 30_000, 'three lossy callers in meeting 1000', runs);
      // Each of them hears the bridge (the entry of the others, or silence frames): media is up.
      for (const sink of sinks) expect(sink.packetCount).toBeGreaterThan(0);
      for (const run of runs) await expectSucceeded(run);
      await expectAllGone();
    } finally {
      for (const run of runs) run.process.kill();
      for (const sink of sinks) sink.close();
    }
  }, 90_000);
});
